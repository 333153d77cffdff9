// Production HA: three replicas spread over zones, a PodDisruptionBudget,
// preferred anti-affinity, a NetworkPolicy, sized resources, a priority class
// and a pinned mirror image; both hops verified with the defaults. Serving
// certificates come from the dedicated CA in secrets/pki.
import { App, Chart, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  CertificateStore, PodAntiAffinity, SecureMetricsServer, ServingTls, WhenUnsatisfiable,
} from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('secrets/pki') }),
  replicas: 3,
  minAvailable: 2,
  podAntiAffinity: PodAntiAffinity.PREFERRED,
  topologySpreadConstraints: [{
    topologyKey: 'topology.kubernetes.io/zone',
    whenUnsatisfiable: WhenUnsatisfiable.DO_NOT_SCHEDULE,
    minDomains: 3,
  }],
  networkPolicy: true,
  resources: {
    cpu: { request: Cpu.millis(100), limit: Cpu.units(1) },
    memory: { request: Size.mebibytes(200), limit: Size.mebibytes(400) },
  },
  priorityClassName: 'system-cluster-critical',
  image: 'registry.k8s.io/metrics-server/metrics-server:v0.8.1',
});
app.synth();
