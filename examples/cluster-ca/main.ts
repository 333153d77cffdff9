// Cluster CA: the serving certificate is issued at synth time by the cluster's
// own CA (kubeadm's /etc/kubernetes/pki/ca.crt and ca.key, an RSA CA, copied
// from a control-plane node), so kube-apiserver already trusts it. The CA key
// stays on your machine; the issued certificate and key are kept in the store.
// CLUSTER_CA_CERT / CLUSTER_CA_KEY name the PEM files; by default secrets/ca.crt and
// secrets/ca.key: keep secrets/ out of git (the CA key signs for the whole cluster).
import { App, Chart } from 'cdk8s';
import { CertificateStore, Pem, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromCa({
    caCertificate: Pem.fromFile(process.env.CLUSTER_CA_CERT ?? 'secrets/ca.crt'),
    caKey: Pem.fromFile(process.env.CLUSTER_CA_KEY ?? 'secrets/ca.key'),
    store: CertificateStore.fromDirectory('secrets/pki'),
  }),
});
app.synth();
