// The TypeScript twin of the Python, Go and Java apps in test/bindings/: the
// same charts with the same props, so that each language's `cdk8s synth`,
// given the same certificate store, writes the same dist/ (test/bindings/run.ts
// compares the hashes). Run from the app's directory: the store, secrets/ and
// certs/ are relative to it, as in a cdk8s project.
// SMS_CASE=refused adds a chart that must be refused (an insecure flag in
// extraArgs): the error reaches the user as an exception. It imports the
// library from its sources (lib/), which the other languages get compiled by jsii.
import { App, Chart, Duration } from 'cdk8s';
import {
  CertificateStore, CertManagerIssuer, KubeletTls, NodeAddressType, Pem, SecureMetricsServer, ServingTls,
} from '../../../lib';

const app = new App();

// the verified defaults: no props; a dedicated CA kept in .secure-metrics-server/pki
new SecureMetricsServer(new Chart(app, 'verified-defaults'), 'MetricsServer');

// the serving certificate issued by the cluster's CA (kubeadm's ca.crt and ca.key)
new SecureMetricsServer(new Chart(app, 'cluster-ca'), 'MetricsServer', {
  servingTls: ServingTls.fromCa({
    caCertificate: Pem.fromFile('secrets/ca.crt'),
    caKey: Pem.fromFile('secrets/ca.key'),
    store: CertificateStore.fromDirectory('secrets/pki'),
  }),
});

// your own certificate, key and CA bundle
new SecureMetricsServer(new Chart(app, 'bring-your-own-pem'), 'MetricsServer', {
  servingTls: ServingTls.fromPem({
    certificate: Pem.fromFile('certs/metrics-server.crt'),
    privateKey: Pem.fromFile('certs/metrics-server.key'),
    caBundle: Pem.fromFile('certs/ca.crt'),
  }),
});

// cert-manager issues and rotates the serving certificate in the cluster
new SecureMetricsServer(new Chart(app, 'cert-manager'), 'MetricsServer', {
  servingTls: ServingTls.fromCertManager({
    issuer: CertManagerIssuer.clusterIssuer('cluster-ca'),
    duration: Duration.hours(720),
    renewBefore: Duration.hours(240),
  }),
});

// kubelet serving certificates approved by the bundled CSR approver
new SecureMetricsServer(new Chart(app, 'kubelet-csr-approver'), 'MetricsServer', {
  kubeletTls: KubeletTls.fromKubeRootCa(),
  kubeletPreferredAddressTypes: [NodeAddressType.INTERNAL_IP],
  kubeletServingCertApprover: {
    providerRegex: '^k8s-(control|worker)-[0-9]+$',
    providerIpPrefixes: ['192.168.10.0/24'],
    bypassDnsResolution: true,
    maxExpiration: Duration.days(365),
  },
});

// a fleet: one Chart per cluster, each with its namespace, CA and serving key
const fleet: [string, string][] = [['cluster-a', 'monitoring'], ['cluster-b', 'observability']];
for (const [cluster, namespace] of fleet) {
  new SecureMetricsServer(new Chart(app, cluster, { namespace }), 'MetricsServer');
}

// must be refused: the construct manages --kubelet-insecure-tls (kubeletTls)
if (process.env.SMS_CASE === 'refused') {
  new SecureMetricsServer(new Chart(app, 'refused'), 'MetricsServer', {
    extraArgs: ['--kubelet-insecure-tls'],
  });
}

app.synth();
