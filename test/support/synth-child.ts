/**
 * A synth in a process of its own, for the tests that run several at once or
 * kill one midway (test/*.proc.test.ts, test/stress/). Prints the app's YAML.
 *
 * Environment:
 *   STORE_DIR      the store (default: the library's default store, under the working directory)
 *   CHILD_MODE     'one' (default): chart 'metrics-server'; 'fleet': charts cluster-a/b/c with
 *                  namespaces ns-a/b/c, default props
 *   VALIDITY_DAYS, RENEW_BEFORE_DAYS   the serving certificate's validity and renewal window
 */
import { App, Chart, Duration } from 'cdk8s';
import { CertificateStore, SecureMetricsServer, ServingTls } from '../../lib';

function servingTls(): ServingTls | undefined {
  const dir = process.env.STORE_DIR;
  const validity = process.env.VALIDITY_DAYS;
  const renewBefore = process.env.RENEW_BEFORE_DAYS;
  if (dir === undefined && validity === undefined) {
    return undefined;
  }
  return ServingTls.fromDedicatedCa({
    store: dir === undefined ? undefined : CertificateStore.fromDirectory(dir),
    validity: validity === undefined ? undefined : Duration.days(Number(validity)),
    renewBefore: renewBefore === undefined ? undefined : Duration.days(Number(renewBefore)),
  });
}

try {
  const app = new App({ outdir: process.env.OUT_DIR ?? 'dist' });
  if (process.env.CHILD_MODE === 'fleet') {
    for (const c of ['a', 'b', 'c']) {
      new SecureMetricsServer(new Chart(app, `cluster-${c}`, { namespace: `ns-${c}` }), 'MetricsServer');
    }
  } else {
    new SecureMetricsServer(new Chart(app, 'metrics-server'), 'MetricsServer', { servingTls: servingTls() });
  }
  process.stdout.write(app.synthYaml());
} catch (e: any) {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
}
