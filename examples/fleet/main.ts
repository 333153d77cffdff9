// A fleet: one App, one Chart per cluster (cluster-a, cluster-b, cluster-c),
// each Chart one manifest (dist/cluster-a.k8s.yaml, ...) with its own
// namespace. With default props every cluster gets its own dedicated CA and
// serving key in the default store (.secure-metrics-server/pki/clusters/<chart
// id>/), so a leaked key is one cluster's, and the serving certificate names the
// Service in that cluster's namespace (metrics-server.<namespace>.svc).
import { App, Chart } from 'cdk8s';
import { SecureMetricsServer } from 'secure-metrics-server';

const clusters: { [cluster: string]: string } = {
  'cluster-a': 'monitoring',
  'cluster-b': 'observability',
  'cluster-c': 'kube-system',
};

const app = new App();
for (const [cluster, namespace] of Object.entries(clusters)) {
  // the namespace prop defaults to the Chart's namespace
  new SecureMetricsServer(new Chart(app, cluster, { namespace }), 'MetricsServer');
}
app.synth();
