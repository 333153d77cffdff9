// cert-manager: cert-manager issues and rotates the serving certificate in the
// cluster, and its cainjector fills the APIService's caBundle. Here a
// ClusterIssuer you already run signs it; without `issuer` the library adds a
// self-signed CA chain (Issuer + CA Certificate + CA Issuer) instead.
import { App, Chart, Duration } from 'cdk8s';
import { CertManagerIssuer, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromCertManager({
    issuer: CertManagerIssuer.clusterIssuer('cluster-ca'),
    duration: Duration.hours(720),
    renewBefore: Duration.hours(240),
  }),
});
app.synth();
