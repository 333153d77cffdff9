// Verified defaults: both TLS hops verified with no props at all. The kubelet
// hop trusts the cluster CA from the kube-root-ca.crt ConfigMap; the APIService
// hop gets a serving certificate from a dedicated CA that the library creates
// on the first synth and keeps in .secure-metrics-server/pki (commit it, or
// keep it with your secrets: the next synth reuses it).
import { App, Chart } from 'cdk8s';
import { SecureMetricsServer } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer');
app.synth();
