/**
 * The runtime type schema of every exported props and options interface,
 * in one place (checked by lib/prop-types.ts, proven complete by
 * test/prop-types.test.ts). Built lazily: the classes they name import this
 * module in turn.
 * @internal
 */
import { chartValuesSchemas } from './chart-values-schemas';
import { Schema, T } from './prop-types';
import { WhenUnsatisfiable } from './scheduling';

let cache: { [name: string]: Schema } | undefined;

/**
 * The schema of an exported props or options interface, by its name.
 * @internal
 */
export function schemaOf(name: string): Schema {
  if (!cache) {
    cache = build();
  }
  const schema = cache[name];
  if (!schema) {
    throw new Error(`no prop schema named ${name}`);
  }
  return schema;
}

function build(): { [name: string]: Schema } {
  // required lazily: these modules call checkPropTypes with these schemas
  const { CertificateStore } = require('./tls/certificate-store') as typeof import('./tls/certificate-store');
  const { Pem } = require('./tls/pem') as typeof import('./tls/pem');
  const { KeyAlgorithm } = require('./tls/key-algorithm') as typeof import('./tls/key-algorithm');
  const { ServingTls } = require('./tls/serving-tls') as typeof import('./tls/serving-tls');
  const { KubeletTls } = require('./tls/kubelet-tls') as typeof import('./tls/kubelet-tls');
  const { CertManagerIssuer } = require('./tls/cert-manager') as typeof import('./tls/cert-manager');
  const { SharedCertificateStore } = require('./store/shared-store') as typeof import('./store/shared-store');
  const { SecretOutput, SealedSecretScope } = require('./tls/secret-output') as typeof import('./tls/secret-output');
  const { NodeAddressType } = require('./secure-metrics-server') as typeof import('./secure-metrics-server');

  // enum-typed props left out here (operator, effect, podAntiAffinity,
  // imagePullPolicy, cert-manager's options) are checked where they are
  // resolved, with messages of their own; test/prop-types.test.ts covers them all
  const toleration: Schema = {
    key: T.string("'node-role.kubernetes.io/control-plane'"),
    value: T.string("'true'"),
    tolerationSeconds: T.duration('Duration.minutes(5)'),
  };
  const topologySpreadConstraint: Schema = {
    topologyKey: T.string("'topology.kubernetes.io/zone'"),
    maxSkew: T.number('1'),
    whenUnsatisfiable: T.enumOf(WhenUnsatisfiable, 'WhenUnsatisfiable'),
    minDomains: T.number('2'),
  };
  const production: Schema = {
    replicas: T.number('2'),
    minAvailable: T.number('1'),
    topologySpreadConstraints: T.array(T.struct('TopologySpreadConstraint', topologySpreadConstraint)),
    priorityClassName: T.string("'system-cluster-critical'"),
    nodeSelector: T.stringMap("{ 'kubernetes.io/os': 'linux' }"),
    tolerations: T.array(T.struct('Toleration', toleration)),
    labels: T.stringMap("{ team: 'platform' }"),
    annotations: T.stringMap("{ owner: 'platform' }"),
    podLabels: T.stringMap("{ team: 'platform' }"),
    podAnnotations: T.stringMap("{ owner: 'platform' }"),
    imagePullSecrets: T.array(T.string("'registry-credentials'")),
    networkPolicy: T.boolean(),
    networkPolicyKubeletPort: T.number('10250'),
    networkPolicyApiServerPorts: T.array(T.number('6443')),
    hostNetwork: T.boolean(),
  };
  const approverOptions: Schema = {
    providerRegex: T.string("'^k8s-(control|worker)-\\\\d+\\\\.example\\\\.com$'"),
    providerIpPrefixes: T.array(T.string("'192.168.10.0/24'")),
    maxExpiration: T.duration('Duration.days(367)'),
    allowedDnsNames: T.number('1'),
    bypassDnsResolution: T.boolean(),
    name: T.string("'kubelet-csr-approver'"),
    namespace: T.string("'kube-system'"),
    version: T.string("'v1.2.10'"),
    imageRepository: T.string("'ghcr.io/postfinance/kubelet-csr-approver'"),
    replicas: T.number('2'),
    leaderElection: T.boolean(),
    metricsPort: T.number('8080'),
    healthPort: T.number('8081'),
    resources: T.struct('ContainerResources', {}),
  };
  const issued: Schema = {
    store: T.instance(CertificateStore, "CertificateStore.fromDirectory('.secure-metrics-server/pki')"),
    validity: T.duration('Duration.days(365)'),
    renewBefore: T.duration('Duration.days(30)'),
    keyAlgorithm: T.instance(KeyAlgorithm, 'KeyAlgorithm.ECDSA_P256'),
    keySize: T.number('2048'),
    secretName: T.string("'metrics-server-tls'"),
    sharedStore: T.instance(SharedCertificateStore, "SharedCertificateStore.fromDirectory('.secure-metrics-server/shared')"),
    secretOutput: T.instance(SecretOutput, 'SecretOutput.sealedSecret({ controllerCertificate })'),
  };
  const pem = (example: string) => T.instance(Pem, example);
  const chartValues = chartValuesSchemas();
  return {
    ...chartValues.named,
    SecureMetricsServerProps: {
      ...production,
      ...chartValues.props,
      name: T.string("'metrics-server'"),
      namespace: T.string("'kube-system'"),
      image: T.string("'registry.k8s.io/metrics-server/metrics-server:v0.8.1'"),
      securePort: T.number('10250'),
      metricResolution: T.duration('Duration.seconds(15)'),
      kubeletPreferredAddressTypes: T.array(T.enumOf(NodeAddressType as any, 'NodeAddressType')),
      kubeletUseNodeStatusPort: T.boolean(),
      resources: T.struct('ContainerResources', {}),
      extraArgs: T.array(T.string("'--v=2'")),
      kubeletTls: T.instance(KubeletTls, 'KubeletTls.fromKubeRootCa()'),
      servingTls: T.instance(ServingTls, 'ServingTls.fromDedicatedCa()'),
      clusterDomain: T.string("'cluster.local'"),
      // its fields are checked by KubeletServingCertApprover itself
      kubeletServingCertApprover: T.struct('KubeletServingCertApproverOptions', {}),
    },
    ProductionProps: production,
    Toleration: toleration,
    TopologySpreadConstraint: topologySpreadConstraint,
    KubeletServingCertApproverOptions: approverOptions,
    KubeletServingCertApproverProps: approverOptions,
    IssuedServingTlsOptions: issued,
    CaServingTlsOptions: { ...issued, caCertificate: pem("Pem.fromFile('/etc/kubernetes/pki/ca.crt')"), caKey: pem("Pem.fromFile('/etc/kubernetes/pki/ca.key')"),
      additionalTrustedCas: pem("Pem.fromFile('ca-old.crt')") },
    DedicatedCaServingTlsOptions: { ...issued, caValidity: T.duration('Duration.days(3650)'), caCommonName: T.string("'secure-metrics-server-ca'"), sharedCaName: T.string("'fleet'") },
    CertificateStoreOptions: { cluster: T.string("'cluster-a'") },
    SharedCertificateStoreOptions: { cluster: T.string("'cluster-a'") },
    SealedSecretOutputOptions: { controllerCertificate: pem("Pem.fromFile('sealed-secrets.pem')"), scope: T.instance(SealedSecretScope, 'SealedSecretScope.STRICT') },
    SopsSecretOutputOptions: { ageRecipients: T.array(T.string("'age1...'")) },
    PemServingTlsOptions: {
      certificate: pem("Pem.fromFile('tls.crt')"),
      privateKey: pem("Pem.fromFile('tls.key')"),
      caBundle: pem("Pem.fromFile('ca.crt')"),
      renewBefore: T.duration('Duration.days(30)'),
      secretName: T.string("'metrics-server-tls'"),
    },
    ExistingSecretServingTlsOptions: {
      secretName: T.string("'metrics-server-tls'"),
      caBundle: pem("Pem.fromFile('ca.crt')"),
    },
    CertManagerServingTlsOptions: {
      issuer: T.instance(CertManagerIssuer, "CertManagerIssuer.clusterIssuer('my-ca')"),
      duration: T.duration('Duration.days(90)'),
      renewBefore: T.duration('Duration.days(30)'),
      keyAlgorithm: T.instance(KeyAlgorithm, 'KeyAlgorithm.ECDSA_P256'),
      keySize: T.number('2048'),
      secretName: T.string("'metrics-server-tls'"),
      caDuration: T.duration('Duration.days(3650)'),
    },
  };
}
