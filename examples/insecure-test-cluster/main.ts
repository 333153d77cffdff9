// Insecure test cluster (kind, minikube, a throwaway CI cluster): neither hop
// is verified, as upstream's components.yaml with --kubelet-insecure-tls. The
// objects carry the secure-metrics-server.io/insecure-tls annotation and a
// warning is printed at synth; never use this in a cluster you keep.
import { App, Chart } from 'cdk8s';
import { KubeletTls, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  kubeletTls: KubeletTls.insecure(),
  servingTls: ServingTls.insecure(),
});
app.synth();
