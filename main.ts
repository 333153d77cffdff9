/**
 * Example app: one chart with a SecureMetricsServer, configured from
 * environment variables so that every mode can be tried without writing code.
 * See "The example app" in docs/examples.md for the variables, and examples/ for one
 * app per use written in code. It imports only the public API (./lib is the
 * package's entry point, `secure-metrics-server` for a user) and checks only
 * what the variables add: the values themselves are checked by the construct.
 */
import { App, Chart } from 'cdk8s';
import {
  CertificateStore, CertManagerIssuer, KubeletTls, Pem, SecureMetricsServer, SecureMetricsServerProps, ServingTls,
} from './lib';

type Env = { [name: string]: string | undefined };

/**
 * Reads the example app's variables. Throws on an unknown value or a
 * variable without its partner.
 */
export function propsFromEnv(env: Env): SecureMetricsServerProps {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const mode = get('METRICS_SERVER_TLS') ?? 'verified';
  const knownModes = ['verified', 'insecure-test', 'cert-manager'];
  if (!knownModes.includes(mode)) {
    throw new Error(`METRICS_SERVER_TLS: '${mode}' is not a mode; use one of ${knownModes.join(', ')} (or leave it unset for 'verified')`);
  }
  const store = get('PKI_DIR') ? CertificateStore.fromDirectory(get('PKI_DIR')!) : undefined;

  // the APIService hop
  const sources = [
    get('CLUSTER_CA_CERT') || get('CLUSTER_CA_KEY') ? 'CLUSTER_CA_CERT/CLUSTER_CA_KEY' : undefined,
    get('TLS_CERT') || get('TLS_KEY') ? 'TLS_CERT/TLS_KEY' : undefined,
    get('EXISTING_TLS_SECRET') ? 'EXISTING_TLS_SECRET' : undefined,
  ].filter((s): s is string => s !== undefined);
  if (sources.length > 1) {
    throw new Error(`${sources.join(' and ')} both choose the serving certificate; set only one of them`);
  }
  if (mode === 'insecure-test' && (sources.length > 0 || get('TLS_CA'))) {
    throw new Error(`METRICS_SERVER_TLS=insecure-test skips verification, but ${[...sources, ...(get('TLS_CA') ? ['TLS_CA'] : [])].join(' and ')} is set; unset it, or unset METRICS_SERVER_TLS to verify`);
  }
  if (mode === 'cert-manager' && (sources.length > 0 || get('TLS_CA'))) {
    throw new Error(`METRICS_SERVER_TLS=cert-manager lets cert-manager issue the serving certificate and inject its CA, but ${[...sources, ...(get('TLS_CA') ? ['TLS_CA'] : [])].join(' and ')} is set; unset it, or unset METRICS_SERVER_TLS to use it`);
  }
  if (mode !== 'cert-manager' && get('CERT_MANAGER_ISSUER')) {
    throw new Error(`CERT_MANAGER_ISSUER is set, but METRICS_SERVER_TLS is '${mode}'; set METRICS_SERVER_TLS=cert-manager, or unset CERT_MANAGER_ISSUER`);
  }
  const need = (name: string, because: string): string => {
    const v = get(name);
    if (v === undefined) {
      throw new Error(`${name} is not set; ${because} needs it (a PEM file path)`);
    }
    return v;
  };
  let servingTls: ServingTls | undefined;
  if (mode === 'insecure-test') {
    servingTls = ServingTls.insecure();
  } else if (mode === 'cert-manager') {
    servingTls = ServingTls.fromCertManager({ issuer: certManagerIssuerFromEnv(get('CERT_MANAGER_ISSUER')) });
  } else if (get('CLUSTER_CA_CERT') || get('CLUSTER_CA_KEY')) {
    servingTls = ServingTls.fromCa({
      caCertificate: Pem.fromFile(need('CLUSTER_CA_CERT', 'CLUSTER_CA_KEY')),
      caKey: Pem.fromFile(need('CLUSTER_CA_KEY', 'CLUSTER_CA_CERT')),
      store,
    });
  } else if (get('TLS_CERT') || get('TLS_KEY')) {
    servingTls = ServingTls.fromPem({
      certificate: Pem.fromFile(need('TLS_CERT', 'TLS_KEY')),
      privateKey: Pem.fromFile(need('TLS_KEY', 'TLS_CERT')),
      caBundle: Pem.fromFile(need('TLS_CA', 'TLS_CERT')),
    });
  } else if (get('EXISTING_TLS_SECRET')) {
    servingTls = ServingTls.fromExistingSecret({
      secretName: get('EXISTING_TLS_SECRET')!,
      caBundle: Pem.fromFile(need('TLS_CA', 'EXISTING_TLS_SECRET')),
    });
  } else if (get('TLS_CA')) {
    throw new Error('TLS_CA is set without TLS_CERT/TLS_KEY or EXISTING_TLS_SECRET; set one of them, or unset TLS_CA');
  } else {
    servingTls = ServingTls.fromDedicatedCa({ store });
  }
  if (store && !(mode === 'verified' && (sources.length === 0 || sources[0] === 'CLUSTER_CA_CERT/CLUSTER_CA_KEY'))) {
    throw new Error(`PKI_DIR is set, but only the dedicated CA (the default) and CLUSTER_CA_CERT/CLUSTER_CA_KEY keep certificates in a store; unset PKI_DIR`);
  }

  // the kubelet hop
  const kubeletCa = get('KUBELET_CA') ?? (mode === 'insecure-test' ? 'insecure' : 'kube-root-ca.crt');
  let kubeletTls: KubeletTls;
  const ref = /^(configmap|secret):([^/]+)\/(.+)$/.exec(kubeletCa);
  if (kubeletCa === 'insecure') {
    kubeletTls = KubeletTls.insecure();
  } else if (mode === 'insecure-test') {
    throw new Error(`KUBELET_CA=${kubeletCa} names a kubelet CA, but METRICS_SERVER_TLS=insecure-test uses --kubelet-insecure-tls; metrics-server refuses both: unset one of them`);
  } else if (kubeletCa === 'kube-root-ca.crt') {
    kubeletTls = KubeletTls.fromKubeRootCa();
  } else if (ref) {
    kubeletTls = ref[1] === 'configmap' ? KubeletTls.fromConfigMap(ref[2], ref[3]) : KubeletTls.fromSecret(ref[2], ref[3]);
  } else {
    throw new Error(`KUBELET_CA: '${kubeletCa}' is not understood; use kube-root-ca.crt, insecure, configmap:NAME/KEY or secret:NAME/KEY`);
  }

  // kubelet serving certificates
  const approverRegex = get('KUBELET_CSR_APPROVER_REGEX');
  const approverPrefixes = get('KUBELET_CSR_APPROVER_IP_PREFIXES')?.split(',').map(s => s.trim()).filter(s => s !== '');
  if (approverPrefixes && approverRegex === undefined) {
    throw new Error('KUBELET_CSR_APPROVER_IP_PREFIXES is set without KUBELET_CSR_APPROVER_REGEX; the approver needs the DNS names nodes may request: set KUBELET_CSR_APPROVER_REGEX (e.g. ^node-[0-9]+\\.example\\.com$), or unset KUBELET_CSR_APPROVER_IP_PREFIXES');
  }
  const approverBypassDns = get('KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION');
  if (approverBypassDns !== undefined && !['true', 'false'].includes(approverBypassDns)) {
    throw new Error(`KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION: '${approverBypassDns}' is not a boolean; use true or false`);
  }
  if (approverBypassDns !== undefined && approverRegex === undefined) {
    throw new Error('KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION is set without KUBELET_CSR_APPROVER_REGEX; set KUBELET_CSR_APPROVER_REGEX to add the approver, or unset KUBELET_CSR_APPROVER_BYPASS_DNS_RESOLUTION');
  }
  const kubeletServingCertApprover = approverRegex === undefined ? undefined : {
    providerRegex: approverRegex,
    providerIpPrefixes: approverPrefixes,
    bypassDnsResolution: approverBypassDns === undefined ? undefined : approverBypassDns === 'true',
  };

  // production settings
  const replicas = wholeNumberFromEnv('REPLICAS', get('REPLICAS'), 'REPLICAS=2');
  const securePort = wholeNumberFromEnv('SECURE_PORT', get('SECURE_PORT'), 'SECURE_PORT=4443');
  const networkPolicy = booleanFromEnv('NETWORK_POLICY', get('NETWORK_POLICY'));
  const hostNetwork = booleanFromEnv('HOST_NETWORK', get('HOST_NETWORK'));
  if (hostNetwork && securePort === undefined) {
    throw new Error('HOST_NETWORK=true needs SECURE_PORT: the kubelet owns port 10250 (the default) on every node; set another port, e.g. SECURE_PORT=4443');
  }

  return {
    kubeletServingCertApprover,
    namespace: get('NAMESPACE'),
    image: get('IMAGE'),
    kubeletTls,
    servingTls,
    replicas,
    securePort,
    networkPolicy,
    hostNetwork,
  };
}

/** Reads a whole number (REPLICAS, SECURE_PORT); the construct checks its range. */
function wholeNumberFromEnv(name: string, value: string | undefined, example: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^[0-9]+$/.test(value)) {
    throw new Error(`${name}: '${value}' is not a whole number; use e.g. ${example}`);
  }
  return Number(value);
}

/** Reads `true` or `false` (NETWORK_POLICY, HOST_NETWORK). */
function booleanFromEnv(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value !== 'true' && value !== 'false') {
    throw new Error(`${name}: '${value}' is not true or false; use ${name}=true, or leave it unset for false`);
  }
  return value === 'true';
}

/**
 * Reads CERT_MANAGER_ISSUER: `Issuer/NAME`, `ClusterIssuer/NAME`, or unset
 * for a self-signed CA chain.
 */
function certManagerIssuerFromEnv(value: string | undefined): CertManagerIssuer | undefined {
  if (value === undefined) {
    return undefined;
  }
  const slash = value.indexOf('/');
  const kind = slash < 0 ? '' : value.slice(0, slash);
  const name = slash < 0 ? value : value.slice(slash + 1);
  if (kind !== 'Issuer' && kind !== 'ClusterIssuer') {
    throw new Error(`CERT_MANAGER_ISSUER: '${value}' does not name an Issuer or ClusterIssuer (${slash < 0 ? 'no kind' : `kind '${kind}'`}); use Issuer/NAME or ClusterIssuer/NAME, e.g. ClusterIssuer/cluster-ca, or unset it for a self-signed CA chain`);
  }
  // the name itself is checked by the construct (servingTls.issuer)
  return kind === 'Issuer' ? CertManagerIssuer.issuer(name) : CertManagerIssuer.clusterIssuer(name);
}

/**
 * Builds the example app's chart.
 */
export function buildApp(env: Env, outdir?: string): App {
  const app = new App(outdir ? { outdir } : undefined);
  const chart = new Chart(app, 'metrics-server');
  new SecureMetricsServer(chart, 'MetricsServer', propsFromEnv(env));
  return app;
}

if (require.main === module) {
  try {
    buildApp(process.env).synth();
  } catch (e: any) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  }
}
