// Bring your own PEM: a serving certificate your PKI issued for
// metrics-server.kube-system.svc, its key and the CA bundle that verifies it.
// The library checks that they match (key, names, validity, chain) and puts
// them in a kubernetes.io/tls Secret and the APIService's caBundle.
// TLS_CERT / TLS_KEY / TLS_CA name the PEM files.
import { App, Chart } from 'cdk8s';
import { Pem, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromPem({
    certificate: Pem.fromFile(process.env.TLS_CERT ?? 'certs/metrics-server.crt'),
    privateKey: Pem.fromFile(process.env.TLS_KEY ?? 'certs/metrics-server.key'),
    caBundle: Pem.fromFile(process.env.TLS_CA ?? 'certs/ca.crt'),
  }),
});
app.synth();
