// Identity and RBAC: metrics-server runs as a ServiceAccount of its own name
// with an IAM role annotation (IRSA on EKS; Workload Identity on GKE is the
// same with iam.gke.io/gcp-service-account), the APIService carries an
// owner annotation, and the Service is labelled for `kubectl cluster-info`.
// Both hops verified with the defaults; serving certificates from the
// dedicated CA in secrets/pki.
import { App, Chart } from 'cdk8s';
import { CertificateStore, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('secrets/pki') }),
  serviceAccountName: 'metrics-server-irsa',
  serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/metrics-server' },
  apiServiceAnnotations: { 'example.com/owner': 'platform' },
  serviceLabels: { 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'Metrics-server' },
});
app.synth();
