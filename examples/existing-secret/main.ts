// Existing Secret: the serving certificate lives in a kubernetes.io/tls Secret
// that something else manages (Vault, External Secrets, a manual kubectl
// create secret tls); nothing secret is synthesized. Only the CA bundle that
// verifies it is needed, for the APIService's caBundle. TLS_CA names the file.
import { App, Chart } from 'cdk8s';
import { Pem, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromExistingSecret({
    secretName: 'metrics-server-tls',
    caBundle: Pem.fromFile(process.env.TLS_CA ?? 'certs/ca.crt'),
  }),
});
app.synth();
