/**
 * The gitops proofs against the real tools, built from their Go modules
 * (test/gitops/go.mod, test/gitops/build-tools.sh): sops, age, age-keygen
 * and sealed-secrets' own SealedSecret.Unseal (test/gitops/unseal). Run by
 * `npm run test:gitops` (not part of `npm test`: the first build of sops
 * takes minutes).
 *
 * The team scenario runs real processes and real git: clone A (an age
 * identity) creates the shared store and commits; clone B (CI=true, no
 * identity, a read-only mount) synthesizes byte-identical; inside
 * renewBefore B fails with the command; A renews and commits; B is
 * byte-identical again; two clones that both issue before pulling end in a
 * merge conflict on the store; an Argo CD repo-server render (fresh clone,
 * read-only, no identity) is byte-identical to A's; no tracked file and no
 * manifest holds a plaintext private key.
 */
import { execFileSync, spawnSync } from 'child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { ageDecrypt, ageEncrypt, parseAgeKeyFile } from '../../lib/store/age';
import { sopsDecryptBinary, sopsDecryptDocument } from '../../lib/store/sops';
import { tmp } from '../helpers';
import { findPlaintextKeys } from '../support/key-scan';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.SMS_GITOPS_BIN ?? path.join(ROOT, 'node_modules', '.cache', 'gitops-bin');
const TSX = require.resolve('tsx/cjs', { paths: [ROOT] });
const APP = path.join(__dirname, 'app');
const STORE = '.secure-metrics-server/shared';
const IDENTITY_DIR = 'metrics-server.kube-system.svc.cluster.local';

jest.setTimeout(600_000);

function tool(name: string): string {
  return path.join(BIN, name);
}

interface Run { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], opts: { cwd?: string; env?: { [k: string]: string | undefined }; input?: string } = {}): Run {
  const env: { [k: string]: string | undefined } = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) {
    if (env[k] === undefined) {
      delete env[k];
    }
  }
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, input: opts.input, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function ok(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return r.stdout;
}

const git = (cwd: string, ...args: string[]) => ok('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd });

/** No identity anywhere: no SOPS variables, a HOME without ~/.config/sops. */
function noIdentity(home: string) {
  return {
    SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: undefined, XDG_CONFIG_HOME: undefined, HOME: home,
    CI: undefined, SECURE_METRICS_SERVER_FROZEN: undefined, ARGOCD_APP_NAME: undefined,
  };
}

let work: string;
let keys: string;
let recipient: string;
let fluxKeys: string;
let fluxRecipient: string;
let controllerKey: string;
let emptyHome: string;

/**
 * One synth of the team app in `clone`, as a real process. `readOnly` mounts the clone
 * read-only first (a private mount namespace: EROFS even for root) and writes the manifests
 * outside it, as an Argo CD plugin's generate command does (docs/gitops.md); the rendered
 * manifests are then in `rendered`.
 */
function synth(clone: string, env: { [k: string]: string | undefined }, readOnly = false, clusters = 'cluster-a,cluster-b'): Run & { rendered: string } {
  const node = [process.execPath, '-r', TSX, '-r', path.join(APP, 'shift-clock.cjs'), path.join(APP, 'app.cjs')];
  const outdir = readOnly ? tmp('sms-render-') : path.join(clone, 'dist');
  const fullEnv = { SMS_LIB: ROOT, CLUSTERS: clusters, FLUX_AGE_RECIPIENT: fluxRecipient, CDK8S_OUTDIR: outdir, ...env };
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && cd "$1" && shift && exec "$@"';
  const r = readOnly ? run('unshare', ['-m', 'sh', '-c', script, 'sh', clone, ...node], { env: fullEnv }) : run(node[0], node.slice(1), { cwd: clone, env: fullEnv });
  let rendered = '';
  try {
    rendered = readdirSync(outdir).sort().map(f => `--- ${f}\n${readFileSync(path.join(outdir, f), 'utf8')}`).join('');
  } catch {
    // nothing rendered
  }
  return { ...r, rendered };
}

function dist(clone: string): string {
  return readdirSync(path.join(clone, 'dist')).sort().map(f => `--- ${f}\n${readFileSync(path.join(clone, 'dist', f), 'utf8')}`).join('');
}

beforeAll(() => {
  ok('bash', [path.join(__dirname, 'build-tools.sh'), BIN]);
  work = tmp('sms-gitops-');
  emptyHome = path.join(work, 'home');
  mkdirSync(emptyHome);
  keys = path.join(work, 'team-keys.txt');
  ok(tool('age-keygen'), ['-o', keys]);
  recipient = ok(tool('age-keygen'), ['-y', keys]).trim();
  fluxKeys = path.join(work, 'flux.agekey');
  ok(tool('age-keygen'), ['-o', fluxKeys]);
  fluxRecipient = ok(tool('age-keygen'), ['-y', fluxKeys]).trim();
  // the sealed-secrets controller's key pair, as the controller makes it (RSA 4096, self-signed)
  controllerKey = path.join(work, 'controller.key');
  ok('openssl', ['genrsa', '-out', controllerKey, '4096']);
  ok('openssl', ['req', '-x509', '-new', '-key', controllerKey, '-subj', '/O=sealed-secret/CN=sealed-secret', '-days', '3650', '-out', path.join(work, 'sealed-secrets.pem')]);
});

describe('age: the library and the age CLI read each other', () => {
  test('library -> age -d, and age -e -> library', () => {
    const f = path.join(work, 'x.age');
    writeFileSync(f, ageEncrypt(Buffer.from('from the library'), [recipient]));
    expect(ok(tool('age'), ['-d', '-i', keys, f])).toBe('from the library');
    const out = execFileSync(tool('age'), ['-e', '-r', recipient, '-a'], { input: 'from age' });
    expect(ageDecrypt(out.toString(), parseAgeKeyFile(readFileSync(keys, 'utf8'), keys)).toString()).toBe('from age');
  });
});

describe('the team scenario', () => {
  let origin: string;
  let a: string;
  let b: string;
  let first: string;

  test('clone A (identity) creates the shared store and commits; clone B (CI, no identity, read-only) synthesizes byte-identical', () => {
    origin = path.join(work, 'origin.git');
    ok('git', ['init', '--bare', '-b', 'main', origin]);
    a = path.join(work, 'a');
    git(work, 'clone', origin, a);
    cpSync(path.join(work, 'sealed-secrets.pem'), path.join(a, 'sealed-secrets.pem'));
    writeFileSync(path.join(a, '.gitignore'), 'dist/\n');
    ok(process.execPath, ['-r', TSX, path.join(ROOT, 'lib/cli/main.ts'), 'store', 'init', '--store', STORE, '--age-recipient', recipient], { cwd: a });
    const r = synth(a, { ...noIdentity(emptyHome), SOPS_AGE_KEY_FILE: keys });
    expect(r).toMatchObject({ code: 0 });
    first = dist(a);
    expect(first).toContain('kind: SealedSecret');
    git(a, 'add', '-A');
    git(a, 'commit', '-qm', 'shared store');
    git(a, 'push', '-q', 'origin', 'main');

    b = path.join(work, 'b');
    git(work, 'clone', origin, b);
    const rb = synth(b, { ...noIdentity(emptyHome), CI: 'true' }, true);
    expect(rb).toMatchObject({ code: 0, stderr: '' });
    expect(rb.rendered).toBe(first);
    // the mount is read-only indeed
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && touch "$1/.secure-metrics-server/shared/x"';
    expect(run('unshare', ['-m', 'sh', '-c', script, 'sh', b]).stderr).toMatch(/Read-only file system/);
    expect(git(b, 'status', '--porcelain')).toBe('');
  });

  test('real sops decrypts every file the library encrypted: the keys of the store and the SOPS Secret', () => {
    const env = { SOPS_AGE_KEY_FILE: keys };
    const storeDir = path.join(a, STORE);
    const keyFiles = ok('git', ['ls-files', STORE], { cwd: a }).split('\n').filter(f => f.endsWith('.key.sops'));
    expect(keyFiles.length).toBe(4);
    for (const f of keyFiles) {
      const plain = ok(tool('sops'), ['-d', path.join(a, f)], { env });
      expect(plain).toMatch(/^-----BEGIN (EC |RSA )?PRIVATE KEY-----/);
      expect(plain).toBe(sopsDecryptBinary(readFileSync(path.join(a, f), 'utf8'), parseAgeKeyFile(readFileSync(keys, 'utf8'), keys), f).toString());
    }
    const secret = (yaml.loadAll(readFileSync(path.join(a, 'dist', 'cluster-b.k8s.yaml'), 'utf8')) as any[]).find(o => o?.kind === 'Secret');
    const one = path.join(work, 'secret.yaml');
    writeFileSync(one, yaml.dump(secret));
    const decrypted = JSON.parse(ok(tool('sops'), ['-d', '--output-type', 'json', one], { env: { SOPS_AGE_KEY_FILE: fluxKeys } }));
    expect(Buffer.from(decrypted.data['tls.crt'], 'base64').toString()).toBe(readFileSync(path.join(storeDir, 'clusters/cluster-b', IDENTITY_DIR, 'tls.crt'), 'utf8'));
    expect(Buffer.from(decrypted.data['tls.key'], 'base64').toString()).toMatch(/PRIVATE KEY/);
    // the team's identity is not a recipient of the cluster's Secret
    expect(run(tool('sops'), ['-d', one], { env }).code).not.toBe(0);
  });

  test("sealed-secrets' own Unseal opens the SealedSecret with the controller's key, and refuses it under another namespace or name", () => {
    const sealed = readFileSync(path.join(a, 'dist', 'cluster-a.k8s.yaml'), 'utf8').split(/^---$/m).find(d => /kind: SealedSecret/.test(d))!;
    const opened = JSON.parse(ok(tool('unseal'), ['-key', controllerKey], { input: sealed }));
    expect(opened).toMatchObject({ namespace: 'kube-system', name: 'metrics-server-tls', type: 'kubernetes.io/tls' });
    expect(Buffer.from(opened.data['tls.crt'], 'base64').toString()).toBe(readFileSync(path.join(a, STORE, 'clusters/cluster-a', IDENTITY_DIR, 'tls.crt'), 'utf8'));
    // what kube-apiserver does with it once the sealed-secrets CRD is applied: the CRD's structural
    // schema, pruning and validation, with the apiextensions-apiserver code (no control plane here)
    const crdDir = ok('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/bitnami-labs/sealed-secrets'], { cwd: __dirname }).trim();
    const crd = path.join(crdDir, 'helm', 'sealed-secrets', 'crds', 'bitnami.com_sealedsecrets.yaml');
    const object = JSON.stringify(yaml.load(sealed));
    expect(ok(tool('crdcheck'), ['-crd', crd], { input: object }).trim()).toBe('valid');
    expect(run(tool('crdcheck'), ['-crd', crd], { input: object.replace('"encryptedData"', '"encryptedDatum"') }).stderr).toMatch(/spec.encryptedData: Required value/);
    for (const moved of [['-namespace', 'default'], ['-name', 'other-tls']]) {
      const r = run(tool('unseal'), ['-key', controllerKey, ...moved], { input: sealed });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no key could decrypt secret/);
    }
  });

  test('the library reads key files that real sops wrote', () => {
    const c = path.join(work, 'c-sops');
    git(work, 'clone', '-q', origin, c);
    const f = path.join(c, STORE, 'clusters/cluster-a', IDENTITY_DIR, 'tls.key.sops');
    const plain = ok(tool('sops'), ['-d', f], { env: { SOPS_AGE_KEY_FILE: keys } });
    const plainFile = path.join(work, 'tls.key');
    writeFileSync(plainFile, plain);
    writeFileSync(f, ok(tool('sops'), ['-e', '--input-type', 'binary', '--output-type', 'binary', '--age', recipient, plainFile], { env: { SOPS_AGE_KEY_FILE: keys } }));
    expect(readFileSync(f, 'utf8')).toContain('"version": "3.13.3"');
    expect(sopsDecryptBinary(readFileSync(f, 'utf8'), parseAgeKeyFile(readFileSync(keys, 'utf8'), keys), f).toString()).toBe(plain);
    // the store's .sops.yaml is sops's own config: 'sops updatekeys' re-keys a file to a recipient added there
    const sopsYaml = path.join(c, STORE, '.sops.yaml');
    writeFileSync(sopsYaml, readFileSync(sopsYaml, 'utf8').replace(/^( {4}age: .*)$/m, `$1,${fluxRecipient}`));
    const caKey = path.join(c, STORE, 'clusters/cluster-a/ca/ca.key.sops');
    ok(tool('sops'), ['updatekeys', '-y', path.relative(path.join(c, STORE), caKey)], { cwd: path.join(c, STORE), env: { SOPS_AGE_KEY_FILE: keys } });
    expect(sopsDecryptBinary(readFileSync(caKey, 'utf8'), parseAgeKeyFile(readFileSync(fluxKeys, 'utf8'), fluxKeys), caKey).toString()).toMatch(/PRIVATE KEY/);
    // and a YAML Secret that sops encrypted with encrypted_regex
    const secretFile = path.join(work, 'plain-secret.yaml');
    writeFileSync(secretFile, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labels:\n    a: "1"\ntype: kubernetes.io/tls\ndata:\n  tls.crt: Y2VydA==\n  tls.key: a2V5\n');
    const enc = ok(tool('sops'), ['-e', '--encrypted-regex', '^(data|stringData)$', '--age', recipient, secretFile]);
    const doc = sopsDecryptDocument(yaml.load(enc), parseAgeKeyFile(readFileSync(keys, 'utf8'), keys), 'sops-written');
    expect(doc.data).toEqual({ 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' });
    // and with the MAC over the encrypted values only (sops 3.9+)
    const macOnly = ok(tool('sops'), ['-e', '--mac-only-encrypted', '--encrypted-regex', '^(data|stringData)$', '--age', recipient, secretFile]);
    expect(macOnly).toContain('mac_only_encrypted: true');
    expect(sopsDecryptDocument(yaml.load(macOnly), parseAgeKeyFile(readFileSync(keys, 'utf8'), keys), 'mac-only').data).toEqual({ 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' });
    // the plain-Secret synth reads the key file sops wrote
    const r = run(process.execPath, ['-e', `
      const path = require('path'); const lib = require(path.join(process.env.SMS_LIB, 'lib'));
      const { App, Chart } = require(path.join(process.env.SMS_LIB, 'node_modules', 'cdk8s'));
      const app = new App({ outdir: 'dist' }); app.node.setContext(lib.SecureMetricsServer.SILENCE_WARNINGS_CONTEXT, true);
      new lib.SecureMetricsServer(new Chart(app, 'cluster-a'), 'MetricsServer', { servingTls: lib.ServingTls.fromDedicatedCa({
        sharedStore: lib.SharedCertificateStore.fromDirectory('${STORE}'), secretOutput: lib.SecretOutput.plainSecret() }) });
      const s = Chart.of(app.node.children[0].node.children[0]).toJson().find(o => o.kind === 'Secret');
      process.stdout.write(Buffer.from(s.data['tls.key'], 'base64').toString());`], { cwd: c, env: { ...noIdentity(emptyHome), SMS_LIB: ROOT, SOPS_AGE_KEY_FILE: keys, NODE_OPTIONS: `-r ${TSX}` } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(plain);
  });

  test('inside renewBefore B fails with the command; A renews and commits; B is byte-identical again', () => {
    const late = { SMS_TEST_CLOCK_SHIFT_DAYS: '340' };
    const rb = synth(b, { ...noIdentity(emptyHome), CI: 'true', ...late });
    expect(rb.code).not.toBe(0);
    expect(rb.stderr).toMatch(/inside renewBefore .* synth is frozen \(CI is set\).*run 'cdk8s synth'.*SOPS_AGE_KEY_FILE.*git add \.secure-metrics-server\/shared && git commit/s);
    const ra = synth(a, { ...noIdentity(emptyHome), SOPS_AGE_KEY_FILE: keys, ...late });
    expect(ra).toMatchObject({ code: 0 });
    const renewed = dist(a);
    expect(renewed).not.toBe(first);
    const changed = git(a, 'status', '--porcelain', STORE).split('\n').filter(Boolean).map(l => l.slice(3)).sort();
    // the serving certificates, their keys and records; the CAs are untouched
    expect(changed.some(f => f.includes('/ca/'))).toBe(false);
    expect(changed).toEqual(expect.arrayContaining([`${STORE}/clusters/cluster-a/${IDENTITY_DIR}/tls.crt`, `${STORE}/clusters/cluster-a/${IDENTITY_DIR}/tls.key.sops`]));
    git(a, 'commit', '-qam', 'renew the serving certificates');
    git(a, 'push', '-q', 'origin', 'main');
    git(b, 'pull', '-q', 'origin', 'main');
    const again = synth(b, { ...noIdentity(emptyHome), CI: 'true', ...late });
    expect(again).toMatchObject({ code: 0 });
    expect(dist(b)).toBe(renewed);
  });

  test('two clones that both issue before pulling end in a merge conflict on the store, not two CAs', () => {
    const c = path.join(work, 'c');
    const d = path.join(work, 'd');
    git(work, 'clone', '-q', origin, c);
    git(work, 'clone', '-q', origin, d);
    for (const clone of [c, d]) {
      expect(synth(clone, { ...noIdentity(emptyHome), SOPS_AGE_KEY_FILE: keys, SMS_TEST_CLOCK_SHIFT_DAYS: '340' }, false, 'cluster-a,cluster-b,cluster-new')).toMatchObject({ code: 0 });
      git(clone, 'add', '-A');
      git(clone, 'commit', '-qm', `cluster-new from ${path.basename(clone)}`);
    }
    git(c, 'push', '-q', 'origin', 'main');
    const pull = run('git', ['-c', 'user.name=dev', '-c', 'user.email=dev@example.com', 'pull', '--no-rebase', 'origin', 'main'], { cwd: d });
    expect(pull.code).not.toBe(0);
    const conflicted = git(d, 'diff', '--name-only', '--diff-filter=U').split('\n').filter(Boolean);
    expect(conflicted).toEqual(expect.arrayContaining([`${STORE}/clusters/cluster-new/ca/ca.crt`, `${STORE}/clusters/cluster-new/ca/ca.key.sops`]));
    // what the user does: take the CA that was pushed first, and synthesize again
    git(d, 'checkout', '--theirs', '--', `${STORE}/clusters/cluster-new`);
    git(d, 'add', STORE);
    git(d, 'commit', '-qm', 'merge: keep the pushed CA of cluster-new');
    expect(synth(d, { ...noIdentity(emptyHome), CI: 'true', SMS_TEST_CLOCK_SHIFT_DAYS: '340' }, false, 'cluster-a,cluster-b,cluster-new')).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path.join(d, STORE, 'clusters/cluster-new/ca/ca.crt'), 'utf8')).toBe(readFileSync(path.join(c, STORE, 'clusters/cluster-new/ca/ca.crt'), 'utf8'));
  });

  test('an Argo CD repo-server render: a fresh clone, read-only, no identity, byte-identical to the engineer\'s', () => {
    const repo = path.join(work, 'argocd-repo');
    git(work, 'clone', '-q', origin, repo);
    // the plugin's generate command writes the manifests to stdout (docs/gitops.md): the output
    // directory is a temporary one outside the read-only clone
    const env = { ...noIdentity(emptyHome), ARGOCD_APP_NAME: 'metrics-server', SMS_TEST_CLOCK_SHIFT_DAYS: '340' };
    const r = synth(repo, env, true);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const rendered = r.rendered;
    const engineer = path.join(work, 'engineer');
    git(work, 'clone', '-q', origin, engineer);
    expect(synth(engineer, { ...noIdentity(emptyHome), SOPS_AGE_KEY_FILE: keys, SMS_TEST_CLOCK_SHIFT_DAYS: '340' })).toMatchObject({ code: 0 });
    expect(rendered).toBe(dist(engineer));
  });

  test('no tracked file and no manifest holds a plaintext private key (PEM, DER, base64 of either)', () => {
    for (const clone of [a, path.join(work, 'd')]) {
      const files = git(clone, 'ls-files').split('\n').filter(Boolean);
      expect(files.length).toBeGreaterThan(10);
      for (const f of [...files, ...readdirSync(path.join(clone, 'dist')).map(n => `dist/${n}`)]) {
        expect({ f, keys: findPlaintextKeys(readFileSync(path.join(clone, f))) }).toEqual({ f, keys: [] });
      }
    }
    // the git objects too (every version ever committed)
    const objects = ok('git', ['rev-list', '--objects', '--all'], { cwd: a }).split('\n').filter(Boolean).map(l => l.split(' ')[0]);
    for (const o of objects) {
      if (ok('git', ['cat-file', '-t', o], { cwd: a }).trim() === 'blob') {
        expect({ o, keys: findPlaintextKeys(execFileSync('git', ['cat-file', 'blob', o], { cwd: a })) }).toEqual({ o, keys: [] });
      }
    }
  });
});
