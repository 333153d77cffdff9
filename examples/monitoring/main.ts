// Monitoring: metrics-server's own /metrics for the Prometheus Operator.
// Only Prometheus' ServiceAccount may read /metrics (a ClusterRole on the
// non-resource URL, bound to monitoring/prometheus-k8s), and the
// ServiceMonitor's scrape verifies the serving certificate with the CA the
// APIService trusts (a ConfigMap the construct writes) and the Service's DNS
// name; it never skips verification. Serving certificates from the
// dedicated CA in secrets/pki.
import { App, Chart, Duration } from 'cdk8s';
import { CertificateStore, MetricsAuthorization, RelabelAction, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('secrets/pki') }),
  metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s'),
  serviceMonitor: true,
  serviceMonitorLabels: { release: 'kube-prometheus-stack' },
  serviceMonitorInterval: Duration.seconds(30),
  serviceMonitorMetricRelabelings: [{ action: RelabelAction.DROP, sourceLabels: ['__name__'], regex: 'go_gc_.*' }],
});
app.synth();
