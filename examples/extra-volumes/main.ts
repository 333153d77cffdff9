// Extra volumes: the front-proxy CA from a ConfigMap mounted read-only for
// --requestheader-client-ca-file, and /tmp on a small tmpfs. Both hops
// verified with the defaults; serving certificates from the dedicated CA in
// secrets/pki.
import { App, Chart, Size } from 'cdk8s';
import { ConfigMap, EmptyDirMedium, Volume } from 'cdk8s-plus-28';
import { CertificateStore, SecureMetricsServer, ServingTls } from 'secure-metrics-server';

const app = new App();
const chart = new Chart(app, 'metrics-server');
const frontProxyCa = Volume.fromConfigMap(chart, 'FrontProxyCa', ConfigMap.fromConfigMapName(chart, 'FrontProxyCaMap', 'front-proxy-ca'), { name: 'front-proxy-ca' });
new SecureMetricsServer(chart, 'MetricsServer', {
  servingTls: ServingTls.fromDedicatedCa({ store: CertificateStore.fromDirectory('secrets/pki') }),
  extraVolumeMounts: [{ volume: frontProxyCa, path: '/etc/front-proxy', readOnly: true }],
  extraArgs: ['--requestheader-client-ca-file=/etc/front-proxy/ca.crt'],
  tmpVolumeMedium: EmptyDirMedium.MEMORY,
  tmpVolumeSizeLimit: Size.mebibytes(16),
});
app.synth();
