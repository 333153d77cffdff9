import { SimState } from './server';

/** What the scenarios are built from: the synthesized objects, PEMs and the kubelet listener ports. */
export interface ScenarioInputs {
  /** the objects a verified synth gives (APIService, Service, Deployment, Secret, ...) */
  readonly synthesized: any[];
  /** upstream's release manifest objects (insecure install) */
  readonly upstream: any[];
  readonly clusterCaPem: string;
  readonly otherCaPem: string;
  readonly kubeletIssuedPem: string;
  readonly kubeletIpOnlyPem: string;
  readonly expiredServingCertPem: string;
  readonly ports: { issued: number; selfSigned: number; ipOnly: number; closed: number; silent?: number };
}

const NS = 'kube-system';
const T0 = '2026-11-01T00:00:00Z';

function clone<T>(o: T): T {
  return JSON.parse(JSON.stringify(o));
}

export function node(name: string, addresses: [string, string][], port: number): any {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      addresses: addresses.map(([type, address]) => ({ type, address })),
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
      allocatable: { cpu: '4', memory: '8Gi' }, capacity: { cpu: '4', memory: '8Gi' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export function csr(name: string, nodeName: string, state: 'pending' | 'approved' | 'issued' | 'denied', certPem?: string): any {
  const conditions = state === 'pending' ? [] : [{ type: state === 'denied' ? 'Denied' : 'Approved', status: 'True', reason: state === 'denied' ? 'AdminDenied' : 'KubectlApprove' }];
  return {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { name, creationTimestamp: T0 },
    spec: { signerName: 'kubernetes.io/kubelet-serving', username: `system:node:${nodeName}`, groups: ['system:nodes'], usages: ['digital signature', 'server auth'], request: '' },
    status: { conditions, ...(state === 'issued' && certPem ? { certificate: Buffer.from(certPem).toString('base64') } : {}) },
  };
}

function pod(ready: boolean, waiting?: { reason: string; message?: string }): any {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'metrics-server-6d4c8b5f7-x2x9q', namespace: NS, labels: { 'k8s-app': 'metrics-server' } },
    spec: { containers: [{ name: 'metrics-server' }] },
    status: {
      phase: ready ? 'Running' : 'Pending',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'metrics-server', ready, state: waiting ? { waiting } : { running: { startedAt: T0 } } }],
    },
  };
}

function endpointSlice(ready: boolean): any {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'metrics-server-abcde', namespace: NS, labels: { 'kubernetes.io/service-name': 'metrics-server' } },
    addressType: 'IPv4', ports: [{ name: 'https', port: 10250, protocol: 'TCP' }],
    endpoints: ready ? [{ addresses: ['10.244.0.7'], conditions: { ready: true } }] : [],
  };
}

function available(api: any, ok: boolean, reason?: string, message?: string): any {
  const a = clone(api);
  a.status = { conditions: [{ type: 'Available', status: ok ? 'True' : 'False', reason: reason ?? 'Passed', message: message ?? 'all checks passed', lastTransitionTime: T0 }] };
  return a;
}

function rootCa(pem: string, name = 'kube-root-ca.crt'): any {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { 'ca.crt': pem } };
}

const namespaces = ['default', NS].map(name => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } }));

/** cert-manager's CRDs (only their names matter to the simulated server's discovery) */
export function certManagerCrds(): any[] {
  return ['certificates', 'issuers', 'clusterissuers'].map(p => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${p}.cert-manager.io` } }));
}

function scrapeError(port: number, error: string, nodeName = 'node-1'): string {
  return `E1130 09:00:00.000000       1 scraper.go:149] "Failed to scrape node" err="Get \\"https://127.0.0.1:${port}/metrics/resource\\": ${error}" node="${nodeName}"`;
}

function nodes(n: number, port: number, addresses = (i: number): [string, string][] => [['InternalIP', '127.0.0.1'], ['Hostname', `node-${i}`]]): any[] {
  return Array.from({ length: n }, (_, i) => node(`node-${i + 1}`, addresses(i + 1), port));
}

/** The verified install with its objects (APIService, Service, Deployment, Secret) replaced by `patch`. */
function install(inp: ScenarioInputs,
  patch: { api?: any; deployment?: any; secret?: any; podsReady?: boolean; waiting?: { reason: string; message?: string } } = {}): any[] {
  const objs = clone(inp.synthesized);
  const api = patch.api ?? available(objs.find((o: any) => o.kind === 'APIService'), true);
  const ready = patch.podsReady ?? true;
  return [
    ...objs.filter((o: any) => !['APIService', 'Deployment', 'Secret'].includes(o.kind)),
    api,
    patch.deployment ?? objs.find((o: any) => o.kind === 'Deployment'),
    patch.secret ?? objs.find((o: any) => o.kind === 'Secret'),
    pod(ready, patch.waiting), endpointSlice(ready),
  ];
}

/**
 * The cluster states: the seed's scenarios and the usual failures. Each is a
 * function of the inputs so that a test can build only the ones it needs.
 */
export const SCENARIOS: { [name: string]: (inp: ScenarioInputs) => SimState } = {
  /** verified install, serverTLSBootstrap on, CSRs approved and issued, kubelets serve the issued certificates */
  'healthy': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp), ...nodes(3, inp.ports.issued),
      ...[1, 2, 3].map(i => csr(`csr-${i}`, `node-${i}`, 'issued', inp.kubeletIssuedPem))],
    logs: { [`${NS}/metrics-server-6d4c8b5f7-x2x9q`]: 'I1130 09:00:00.000000       1 serving.go:374] Generated self-signed cert in-memory\nI1130 09:00:01.000000       1 secure_serving.go:213] Serving securely on [::]:10250\n' },
  }),

  /** fresh kubeadm: kubelets self-sign, no kubelet-serving CSR ever (the seed's first failure) */
  'fresh-kubeadm': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem),
      ...install(inp, {
        podsReady: false,
        api: available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'),
      }),
      ...nodes(2, inp.ports.selfSigned)],
    logs: { [`${NS}/metrics-server-6d4c8b5f7-x2x9q`]: `${scrapeError(inp.ports.selfSigned, "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs")}\n` },
  }),

  /** serverTLSBootstrap on, nobody approves: CSRs pending, kubelets still self-signed */
  'csr-pending': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem),
      ...install(inp, { podsReady: false, api: available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"') }),
      ...nodes(2, inp.ports.selfSigned), csr('csr-a', 'node-1', 'pending'), csr('csr-b', 'node-2', 'pending')],
  }),

  /** upstream's components.yaml: --kubelet-insecure-tls and insecureSkipTLSVerify; works, verifies nothing */
  'upstream-insecure': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem),
      ...clone(inp.upstream).map((o: any) => o.kind === 'APIService' ? available(o, true) : o),
      pod(true), endpointSlice(true), ...nodes(2, inp.ports.selfSigned)],
  }),

  /** the seed's ConfigMap name: cluster-root-ca does not exist, the pod never starts */
  'wrong-configmap': inp => {
    const dep = clone(inp.synthesized.find(o => o.kind === 'Deployment'));
    for (const v of dep.spec.template.spec.volumes) {
      if (v.configMap?.name === 'kube-root-ca.crt') v.configMap.name = 'cluster-root-ca';
    }
    return {
      objects: [...namespaces, rootCa(inp.clusterCaPem),
        ...install(inp, {
          deployment: dep, podsReady: false, waiting: { reason: 'ContainerCreating' },
          api: available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'),
        }),
        ...nodes(2, inp.ports.issued), csr('csr-1', 'node-1', 'issued', inp.kubeletIssuedPem), csr('csr-2', 'node-2', 'issued', inp.kubeletIssuedPem)],
    };
  },

  /** the APIService's caBundle is another CA (same name, other key) than the one that signed the Secret */
  'cabundle-mismatch': inp => {
    const api = available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'FailedDiscoveryCheck',
      'failing or missing response from https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1: Get "https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate signed by unknown authority');
    api.spec.caBundle = Buffer.from(inp.otherCaPem).toString('base64');
    return {
      objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp, { api }), ...nodes(2, inp.ports.issued),
        csr('csr-1', 'node-1', 'issued', inp.kubeletIssuedPem), csr('csr-2', 'node-2', 'issued', inp.kubeletIssuedPem)],
      logs: { [`${NS}/metrics-server-6d4c8b5f7-x2x9q`]: 'I1130 09:00:03.000000       1 log.go:245] http: TLS handshake error from 10.244.0.1:53122: remote error: tls: bad certificate\n' },
    };
  },

  /** the serving certificate in the Secret has expired */
  'expired-serving': inp => {
    const secret = clone(inp.synthesized.find(o => o.kind === 'Secret'));
    secret.data['tls.crt'] = Buffer.from(inp.expiredServingCertPem).toString('base64');
    return {
      objects: [...namespaces, rootCa(inp.clusterCaPem),
        ...install(inp, { secret, api: available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'FailedDiscoveryCheck', 'failing or missing response from https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1: Get "https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-30T09:00:00Z is after 2026-11-29T00:00:00Z') }),
        ...nodes(1, inp.ports.issued), csr('csr-1', 'node-1', 'issued', inp.kubeletIssuedPem)],
    };
  },

  /** nodes reachable only by host name; kubelet certificates carry IP SANs only */
  'hostname-only': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp),
      node('localhost', [['Hostname', 'localhost']], inp.ports.ipOnly), csr('csr-h', 'localhost', 'issued', inp.kubeletIpOnlyPem)],
  }),

  /**
   * CSRs approved but never issued (no signer), and denied, among 600 kubelet
   * client CSRs (another signer, so more than one page of CSRs to list)
   */
  'csr-mixed': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp), ...nodes(3, inp.ports.selfSigned),
      ...Array.from({ length: 600 }, (_, i) => ({ ...csr(`node-csr-${i}`, `node-${(i % 3) + 1}`, 'issued'), spec: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', username: 'system:bootstrap:abcdef', request: '' } })),
      csr('csr-1', 'node-1', 'approved'), csr('csr-2', 'node-2', 'denied'), csr('csr-3', 'node-3', 'approved')],
  }),

  /** cert-manager issues the serving certificate: the Certificate is not Ready and cainjector has not filled caBundle */
  'cert-manager-not-ready': inp => {
    const api = available(inp.synthesized.find(o => o.kind === 'APIService'), false, 'FailedDiscoveryCheck',
      'failing or missing response from https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1: Get "https://10.96.10.20:443/apis/metrics.k8s.io/v1beta1": tls: failed to verify certificate: x509: certificate signed by unknown authority');
    delete api.spec.caBundle;
    api.metadata.annotations = { ...(api.metadata.annotations ?? {}), 'cert-manager.io/inject-ca-from': `${NS}/metrics-server` };
    const certificate = {
      apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'metrics-server', namespace: NS },
      spec: { secretName: 'metrics-server-tls', dnsNames: ['metrics-server.kube-system.svc'], issuerRef: { kind: 'Issuer', name: 'metrics-server-ca' } },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' }] },
    };
    return {
      objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp, { api }), certificate, ...certManagerCrds(),
        ...nodes(1, inp.ports.issued), csr('csr-1', 'node-1', 'issued', inp.kubeletIssuedPem)],
    };
  },

  /** a node whose kubelet port accepts TCP and never answers TLS (the probe's timeout) */
  'kubelet-silent': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp), node('node-1', [['InternalIP', '127.0.0.1']], inp.ports.silent ?? inp.ports.closed)],
  }),

  /** doctor outside the node network: no kubelet connects (issued CSRs say the hop is fine) */
  'kubelets-private': inp => ({
    objects: [...namespaces, rootCa(inp.clusterCaPem), ...install(inp), ...nodes(40, inp.ports.closed),
      ...Array.from({ length: 40 }, (_, i) => csr(`csr-${i + 1}`, `node-${i + 1}`, 'issued', inp.kubeletIssuedPem))],
  }),

  /** the healthy cluster, read with credentials that may not read Secrets, CSRs or logs */
  'missing-permissions': inp => ({ ...SCENARIOS.healthy(inp), deny: ['secrets', 'certificatesigningrequests', 'pods/log'] }),

  /** the healthy cluster with one kubelet that does not answer from here */
  'kubelet-unreachable': inp => {
    const s = SCENARIOS.healthy(inp);
    return { ...s, objects: [...s.objects, node('node-4', [['InternalIP', '127.0.0.1']], inp.ports.closed), csr('csr-4', 'node-4', 'issued', inp.kubeletIssuedPem)] };
  },
};
