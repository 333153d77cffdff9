// ECDSA cluster CA: k3s and RKE2 make their cluster CAs with ECDSA P-256 keys
// (k3s: /var/lib/rancher/k3s/server/tls/server-ca.crt and server-ca.key). The
// serving certificate is issued at synth time by that CA, so kube-apiserver
// already trusts it; its key follows the CA's type (an ECDSA P-256 key, signed
// with ECDSA-SHA256) unless keyAlgorithm says otherwise. The CA key stays on
// your machine; the issued certificate and key are kept in the store.
// SERVER_CA_CERT / SERVER_CA_KEY name the PEM files; by default secrets/server-ca.crt and
// secrets/server-ca.key: keep secrets/ out of git (the CA key signs for the whole cluster).
import { App, Chart } from 'cdk8s';
import { CertificateStore, Pem, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromCa({
    caCertificate: Pem.fromFile(process.env.SERVER_CA_CERT ?? 'secrets/server-ca.crt'),
    caKey: Pem.fromFile(process.env.SERVER_CA_KEY ?? 'secrets/server-ca.key'),
    store: CertificateStore.fromDirectory('secrets/pki'),
    // keyAlgorithm: KeyAlgorithm.ECDSA_P384,   // to choose the serving key instead
  }),
});
app.synth();
