// The synthesized ServiceMonitor's TLS settings, checked by Prometheus' own
// scrape client code (test/servicemonitor, Go): with the CA the ServiceMonitor
// names (resolved from the ConfigMap it points at) and its serverName, a
// scrape of a loopback HTTPS server holding the synthesized serving
// certificate and key succeeds; with another CA or server name it fails with
// Go's x509 error.
import { execFile } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import Ajv from 'ajv';
import * as yaml from 'js-yaml';
import { MetricsAuthorization } from '../lib';
import { decode, find, synth, tmp, writeTmp } from './helpers';

test('Prometheus\' config code scrapes metrics-server verified with only the ServiceMonitor\'s CA and serverName, and fails with another', async () => {
  const { objects } = synth({ metrics: MetricsAuthorization.forServiceAccount('monitoring', 'prometheus-k8s'), serviceMonitor: true });
  const tlsConfig = find(objects, 'ServiceMonitor').spec.endpoints[0].tlsConfig;
  expect(tlsConfig.insecureSkipVerify).toBeUndefined();
  const ref = tlsConfig.ca.configMap;
  const ca: string = find(objects, 'ConfigMap', ref.name).data[ref.key];
  const secret = find(objects, 'Secret');
  const dir = tmp('sms-servicemonitor-');
  const env = {
    ...process.env,
    SM_CA_FILE: writeTmp(dir, 'ca.crt', ca),
    SM_SERVER_NAME: tlsConfig.serverName,
    SM_CERT_FILE: writeTmp(dir, 'tls.crt', decode(secret.data['tls.crt'])),
    SM_KEY_FILE: path.join(dir, 'tls.key'),
  };
  writeFileSync(env.SM_KEY_FILE, decode(secret.data['tls.key']), { mode: 0o600 });
  const { stdout } = await promisify(execFile)('go', ['test', '-count=1', '-v', '.'], { cwd: path.join(__dirname, 'servicemonitor'), env, encoding: 'utf8' })
    .catch((e: any) => { throw new Error(`go test failed:\n${e.stdout}\n${e.stderr}`, { cause: e }); });
  expect(stdout).toContain('--- PASS: TestScrapeVerifiesWithTheServiceMonitorsCaAndServerName');
  expect(stdout).toContain('--- PASS: TestScrapeFailsWithAnotherCa');
  expect(stdout).toContain('--- PASS: TestScrapeFailsWithAnotherServerName');
}, 300_000);

test('the synthesized ServiceMonitor is valid against the CRD\'s openAPIV3Schema (prometheus-operator v0.85.0, the imported version)', async () => {
  const { objects } = synth({ metrics: MetricsAuthorization.alwaysAllow(), serviceMonitor: true, serviceMonitorRelabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }] });
  // the module's files, from the Go module cache (downloaded through the module proxy when missing), as npm run import:prometheus-operator reads them
  const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', 'github.com/prometheus-operator/prometheus-operator@v0.85.0'], { encoding: 'utf8', cwd: path.join(__dirname, 'servicemonitor') });
  const crd: any = yaml.load(readFileSync(path.join(JSON.parse(stdout).Dir, 'example', 'prometheus-operator-crd', 'monitoring.coreos.com_servicemonitors.yaml'), 'utf8'));
  const schema = crd.spec.versions.find((v: any) => v.name === 'v1').schema.openAPIV3Schema;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const sm = find(objects, 'ServiceMonitor');
  expect([validate(sm), validate.errors ?? []]).toEqual([true, []]);
  // and the schema does catch a wrong field type
  expect(validate({ ...sm, spec: { ...sm.spec, endpoints: [{ ...sm.spec.endpoints[0], tlsConfig: { ca: 'not an object' } }] } })).toBe(false);
}, 120_000);
