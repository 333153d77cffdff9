// Probes and rollout: two replicas, surge-first rolling updates (a new pod is
// ready before an old one goes), three old ReplicaSets kept, slower probes
// for a busy control plane, and a PodDisruptionBudget by maxUnavailable that
// lets drains evict a crash-looping pod. Both hops verified with the
// defaults; serving certificates from the dedicated CA in secrets/pki.
import { App, Chart, Duration } from 'cdk8s';
import { DeploymentStrategy, PercentOrAbsolute } from 'cdk8s-plus-28';
import { CertificateStore, SecureMetricsServer, ServingTls, UnhealthyPodEvictionPolicy } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('secrets/pki') }),
  replicas: 2,
  updateStrategy: DeploymentStrategy.rollingUpdate({ maxSurge: PercentOrAbsolute.absolute(1), maxUnavailable: PercentOrAbsolute.absolute(0) }),
  revisionHistoryLimit: 3,
  livenessProbe: { period: Duration.seconds(20), timeout: Duration.seconds(3) },
  readinessProbe: { initialDelay: Duration.seconds(10), failureThreshold: 5 },
  podDisruptionBudgetMaxUnavailable: 1,
  unhealthyPodEvictionPolicy: UnhealthyPodEvictionPolicy.ALWAYS_ALLOW,
});
app.synth();
