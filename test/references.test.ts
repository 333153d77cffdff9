import { KubeletTls, ServingTls } from '../lib';
import { unresolvedReferences } from '../lib/references';
import { find, synth } from './helpers';

// References between the objects one construct writes must resolve
// (lib/references.ts). Props that can make one dangle are refused at synth;
// the references the construct makes itself are checked on its own output,
// each broken once here to show the check fires.

describe('props whose references would dangle are refused', () => {
  test.each([
    ['a kubelet CA key the serving Secret lacks', { kubeletTls: KubeletTls.fromSecret('metrics-server-tls') },
      "kubeletTls: volume 'kubelet-ca' of Deployment kube-system/metrics-server reads key 'ca.crt' of Secret kube-system/metrics-server-tls, which is this construct's Secret and holds only 'tls.crt', 'tls.key', so the pod would never start; use one of those keys, or a Secret this construct does not write (for the cluster CA: KubeletTls.fromKubeRootCa())"],
    ['a kubelet CA key the cert-manager Secret lacks', { servingTls: ServingTls.fromCertManager(), kubeletTls: KubeletTls.fromSecret('metrics-server-cert-manager-tls', 'ca.pem') },
      "kubeletTls: volume 'kubelet-ca' of Deployment kube-system/metrics-server reads key 'ca.pem' of Secret kube-system/metrics-server-cert-manager-tls, which is the Secret cert-manager fills for this construct's Certificate metrics-server and holds only 'ca.crt', 'tls.crt', 'tls.key'"],
    ['an image pull Secret that is the serving Secret', { imagePullSecrets: ['metrics-server-tls'] },
      "imagePullSecrets: 'metrics-server-tls' is this construct's Secret, of type kubernetes.io/tls, not a registry credential (kubernetes.io/dockerconfigjson); name the Secret that holds your registry credentials"],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props as any)).toThrow(message);
  });

  test('a key the Secret holds, or a Secret the construct does not write, is accepted', () => {
    expect(() => synth({ servingTls: ServingTls.fromCertManager(), kubeletTls: KubeletTls.fromSecret('metrics-server-cert-manager-tls', 'ca.crt') })).not.toThrow();
    expect(() => synth({ kubeletTls: KubeletTls.fromSecret('my-kubelet-ca', 'ca.pem'), imagePullSecrets: ['regcred'] })).not.toThrow();
  });
});

describe('the references the construct makes itself resolve, and the check fires when one does not', () => {
  const base = () => JSON.parse(JSON.stringify(synth({
    replicas: 2, networkPolicy: true, servingTls: ServingTls.fromCertManager(),
    kubeletServingCertApprover: { providerRegex: '^node-\\d+$' },
  }).objects)) as any[];
  const self = (objects: any[]) => objects.find(o => o.kind === 'Deployment' && o.metadata.name === 'metrics-server');

  test('every kind of reference is present and resolves in a full synth', () => {
    const objects = base();
    for (const kind of ['Deployment', 'Service', 'APIService', 'PodDisruptionBudget', 'NetworkPolicy', 'RoleBinding', 'ClusterRoleBinding', 'Certificate', 'Issuer', 'ServiceAccount']) {
      expect(objects.some(o => o.kind === kind)).toBe(true);
    }
    expect(unresolvedReferences(objects, 'kube-system')).toEqual([]);
  });

  test.each<[string, (objects: any[]) => void, string]>([
    ['Deployment selector vs pod labels', o => { self(o).spec.selector.matchLabels['k8s-app'] = 'other'; },
      "Deployment kube-system/metrics-server: spec.selector {\"matchLabels\":{\"k8s-app\":\"other\"}} does not match the pod template's labels"],
    ['volumeMount without a volume', o => { self(o).spec.template.spec.volumes = self(o).spec.template.spec.volumes.filter((v: any) => v.name !== 'tmp-dir'); },
      "Deployment kube-system/metrics-server: container 'metrics-server' mounts volume 'tmp-dir', which the pod does not define"],
    ['serviceAccountName', o => { self(o).spec.template.spec.serviceAccountName = 'nobody'; },
      "Deployment kube-system/metrics-server: serviceAccountName 'nobody' is not a ServiceAccount this construct writes in kube-system"],
    ['a file flag the volume does not hold', o => {
      const c = self(o).spec.template.spec.containers[0];
      c.args = c.args.map((a: string) => a.replace(/^--tls-cert-file=.*/, '--tls-cert-file=/etc/metrics-server/tls/cert.pem'));
    }, "(internal): --tls-cert-file=/etc/metrics-server/tls/cert.pem (volume 'serving-cert') reads key 'cert.pem' of Secret kube-system/metrics-server-cert-manager-tls"],
    ['Service selector', o => { find(o, 'Service', 'metrics-server').spec.selector = { 'k8s-app': 'other' }; },
      'Service kube-system/metrics-server: selector {k8s-app: other} matches no pod this construct writes'],
    ['Service targetPort', o => { find(o, 'Service', 'metrics-server').spec.ports[0].targetPort = 'metrics'; },
      'Service kube-system/metrics-server: port 443 targets "metrics", which no container of the selected pods declares'],
    ['APIService service name', o => { find(o, 'APIService').spec.service.name = 'gone'; },
      'APIService v1beta1.metrics.k8s.io: spec.service kube-system/gone is not a Service this construct writes'],
    ['APIService service port', o => { find(o, 'APIService').spec.service.port = 8443; },
      'APIService v1beta1.metrics.k8s.io: spec.service port 8443 is not a port of Service kube-system/metrics-server'],
    ['PodDisruptionBudget selector', o => { find(o, 'PodDisruptionBudget', 'metrics-server').spec.selector.matchLabels = { 'k8s-app': 'other' }; },
      'PodDisruptionBudget kube-system/metrics-server: selector {"matchLabels":{"k8s-app":"other"}} matches no pod this construct writes'],
    ['NetworkPolicy selector', o => { find(o, 'NetworkPolicy').spec.podSelector.matchLabels = { 'k8s-app': 'other' }; },
      'NetworkPolicy kube-system/metrics-server: selector {"matchLabels":{"k8s-app":"other"}} matches no pod this construct writes'],
    ['RoleBinding subject', o => { find(o, 'RoleBinding', 'metrics-server-auth-reader').subjects[0].name = 'nobody'; },
      'RoleBinding kube-system/metrics-server-auth-reader: subject ServiceAccount kube-system/nobody is not one this construct writes'],
    ['ClusterRoleBinding roleRef', o => { find(o, 'ClusterRoleBinding', 'system:metrics-server').roleRef.name = 'system:gone'; },
      'ClusterRoleBinding system:metrics-server: roleRef ClusterRole system:gone is neither written by this construct nor created by Kubernetes'],
    ['RoleBinding roleRef', o => { find(o, 'RoleBinding', 'metrics-server-auth-reader').roleRef.name = 'gone'; },
      'RoleBinding kube-system/metrics-server-auth-reader: roleRef Role kube-system/gone is neither written by this construct nor created by Kubernetes'],
  ])('%s', (_name, breakIt, message) => {
    const objects = base();
    breakIt(objects);
    expect(unresolvedReferences(objects, 'kube-system').map(p => p.message).join('\n')).toContain(message);
  });

  test.each<[string, (objects: any[]) => void, string]>([
    ['Certificate issuerRef to an Issuer', o => {
      o.find(c => c.kind === 'Certificate' && !c.spec.isCA).spec.issuerRef.name = 'gone';
    }, "Certificate kube-system/metrics-server: issuerRef Issuer 'gone' is not one of the Issuers this construct writes (metrics-server-selfsigned, metrics-server-ca)"],
    ['CA Issuer secretName', o => { o.find(c => c.kind === 'Issuer' && c.spec.ca).spec.ca.secretName = 'gone'; },
      "Issuer kube-system/metrics-server-ca: spec.ca.secretName 'gone' is not the Secret of a CA Certificate this construct writes"],
  ])('cert-manager: %s', (_name, breakIt, message) => {
    const objects = JSON.parse(JSON.stringify(synth({ servingTls: ServingTls.fromCertManager() }).objects));
    expect(unresolvedReferences(objects, 'kube-system')).toEqual([]);
    breakIt(objects);
    expect(unresolvedReferences(objects, 'kube-system').map(p => p.message).join('\n')).toContain(message);
  });
});
