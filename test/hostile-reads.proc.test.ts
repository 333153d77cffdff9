import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'fs';
import * as path from 'path';
import { CertificateStore, Pem, ServingTls } from '../lib';
import { loadManifests } from '../lib/manifests/load';
import { fixtureCa, synthYaml, tmp } from './helpers';
import { bundledChild } from './support/proc';

// Every read of a file the user names is bounded, whatever the path is: a FIFO
// with no writer is refused at once (it was waited on until a writer came), a
// device and a file larger than the limit are refused after reading at most
// the limit (a sparse 64 MiB caCertificate was read whole).

const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) {
    w.kill('SIGKILL');
  }
});

/** A FIFO whose only writer opens it and holds it for `seconds` without writing, then closes: the old code waited for it. */
function heldFifo(mode = '600', seconds = 3): string {
  const fifo = path.join(tmp(), 'material.pem');
  execFileSync('mkfifo', ['-m', mode, fifo]);
  writers.push(spawn('sh', ['-c', `sleep ${seconds} > "$0"`, fifo], { stdio: 'ignore' }));
  return fifo;
}

function sparseFile(bytes: number): string {
  const file = path.join(tmp(), 'huge.crt');
  const fd = openSync(file, 'w', 0o600);
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return file;
}

const store = () => CertificateStore.fromDirectory(path.join(tmp(), 'pki'));

test('a FIFO as caCertificate is refused at once as not a regular file', () => {
  const ca = fixtureCa('kubernetes');
  expect(() => synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(heldFifo()), caKey: Pem.fromFile(ca.key), store: store() }) }))
    .toThrow(/servingTls\.caCertificate: cannot read file '.*material\.pem': it is a FIFO \(named pipe\), not a regular file; pass the PEM file itself/);
});

test('a FIFO as caKey (mode 0600) is refused at once as not a regular file', () => {
  const ca = fixtureCa('kubernetes');
  expect(() => synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(heldFifo()), store: store() }) }))
    .toThrow(/servingTls\.caKey: '.*material\.pem' should hold a private key but is not a regular file/);
});

test.each([['a private key', 'key'], ['a certificate', 'cert']])('a FIFO that no writer ever opens, read as %s, is refused at once (it was waited on for ever)', (_what, kind) => {
  const fifo = path.join(tmp(), 'nobody-writes.pem');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  // the bound of the test, not of the code: the old code never returned
  const r = spawnSync(process.execPath, [...bundledChild(path.join(__dirname, 'support', 'read-child.ts')), fifo, kind], { encoding: 'utf8', timeout: 20_000 });
  expect(r.stdout.trim()).toBe(kind === 'key'
    ? `servingTls.caKey: '${fifo}' should hold a private key but is not a regular file; put the key file there`
    : `servingTls.caKey: cannot read file '${fifo}': it is a FIFO (named pipe), not a regular file; pass the PEM file itself (a FIFO or device is not read: it could wait or run without end)`);
});

test('/dev/zero as caCertificate is refused without reading it', () => {
  const ca = fixtureCa('kubernetes');
  expect(() => synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile('/dev/zero'), caKey: Pem.fromFile(ca.key), store: store() }) }))
    .toThrow("servingTls.caCertificate: cannot read file '/dev/zero': it is a character device, not a regular file");
});

test('a 64 MiB caBundle file is refused at the 1 MiB limit', () => {
  const file = sparseFile(64 << 20);
  expect(() => synthYaml({ servingTls: ServingTls.fromPem({ certificate: Pem.fromFile(file), privateKey: Pem.fromString('x'), caBundle: Pem.fromFile(file) }) }))
    .toThrow(`servingTls.certificate: cannot read file '${file}': it is ${64 << 20} bytes, more than the limit of 1048576; a PEM file of certificates is at most 1048576 bytes`);
});

test('audit: a FIFO that streams more than the limit stops at the limit', async () => {
  const fifo = path.join(tmp(), 'objects.yaml');
  execFileSync('mkfifo', [fifo]);
  // 1 MB of a valid YAML comment: the old code took the FIFO's stat size (0) for its length and read it all
  writers.push(spawn('sh', ['-c', 'yes "# padding" | head -c 1000000 > "$0"', fifo], { stdio: 'ignore' }));
  const r = await loadManifests([fifo], async () => Buffer.alloc(0), { maxFileBytes: 1000 });
  expect(r.errors.map(e => e.message)).toEqual([`cannot read ${fifo}: it is more than the limit of 1000 bytes (reading stopped there)`]);
});

test('audit: /dev/zero stops at the limit', async () => {
  const r = await loadManifests(['/dev/zero'], async () => Buffer.alloc(0), { maxFileBytes: 1000 });
  expect(r.errors.map(e => e.message)).toEqual(['cannot read /dev/zero: it is more than the limit of 1000 bytes (reading stopped there)']);
});

test('audit: a regular file that is larger than the limit is refused', async () => {
  const file = sparseFile(5000);
  const r = await loadManifests([file], async () => Buffer.alloc(0), { maxFileBytes: 1000 });
  expect(r.errors.map(e => e.message)).toEqual([`cannot read ${file}: it is 5000 bytes, more than the limit of 1000`]);
});

test('doctor: the kubeconfig is read bounded (a 32 MiB file, /dev/zero), and relative paths still resolve next to it', () => {
  const dir = tmp();
  const file = path.join(dir, 'config');
  writeFileSync(file, 'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority: ca.crt\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n');
  const huge = sparseFile(32 << 20);
  // /dev/zero only with the fix in place: the old code read it until memory ran out
  const files = [huge, file, ...(process.env.HOSTILE_OLD_CODE ? [] : ['/dev/zero'])];
  // client-node is ESM-only: loaded in a child process, as doctor.proc.test.ts runs the command
  const lines = spawnSync(process.execPath, [...bundledChild(path.join(__dirname, 'support', 'kubeconfig-child.ts')), ...files], { encoding: 'utf8', timeout: 60_000 }).stdout.trim().split('\n');
  expect(lines).toEqual([
    `--kubeconfig: cannot read ${huge} (it is ${32 << 20} bytes, more than the limit of ${16 << 20}); fix the path or the file`,
    `caFile ${path.join(dir, 'ca.crt')}`,
    ...(process.env.HOSTILE_OLD_CODE ? [] : ['--kubeconfig: cannot read /dev/zero (it is a character device, not a regular file); fix the path or the file']),
  ]);
});
