import { execFileSync, spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import { cpSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { goVerifyBinary } from './go-verify-binary';
import { KeyAlgorithm, Pem, ServingTls } from '../lib';
import { decode, find, fixtureCa, fixtureStore, FIXTURE_CLUSTER, listTree, synth, tmp, writeTmp } from './helpers';
import { bundledChild, ChildResult, leftovers, limited, spawnMany, spawnNode } from './support/proc';
import { Phase, rotateThroughAllPhases, runCa, setCaParams, splitPem, synthPhase } from './support/rotation';

// The CA rotation against Go's crypto/tls (kube-apiserver's verifier, one
// test/go-verify -batch process for every case), killed in the middle of each
// phase (real child processes, the store's crash hook), and with synths
// running at once while the serving certificate is reissued.

const CLUSTER = 'metrics-server';
const SERVER_NAME = 'metrics-server.kube-system.svc';
const P256 = { commonName: 'rotated-ca', validityDays: 400, keyAlgorithm: 'ECDSA_P256' };
/**
 * As `ca rotate` makes the next CA of a default dedicated CA: RSA and the same
 * name as the current one, so that the switched bundle holds two CAs of one
 * name, told apart by OpenSSL by their key identifiers only.
 */
const RSA = { commonName: 'secure-metrics-server-ca', validityDays: 400, keyAlgorithm: 'RSA_2048' };

/** A store with the fixture's CA and serving certificate under cluster 'metrics-server' (the synth child's chart). */
function startStore(params: typeof P256 = P256): string {
  const dir = path.join(tmp(), 'pki');
  fixtureStore(dir);
  cpSync(path.join(dir, 'clusters', FIXTURE_CLUSTER), path.join(dir, 'clusters', CLUSTER), { recursive: true });
  rmSync(path.join(dir, 'clusters', FIXTURE_CLUSTER), { recursive: true });
  setCaParams(dir, CLUSTER, params);
  return dir;
}

function copyOf(template: string): string {
  const dir = path.join(tmp(), 'pki');
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** Runs `ca ...` in a child process (bundled once). */
function spawnCa(args: string[], env: { [k: string]: string }): Promise<ChildResult> {
  return spawnNode([...bundledChild(path.join(__dirname, 'support', 'ca-child.ts')), ...args], env);
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

/** The four synths of the fromCa recipe: A signs; A signs, B trusted; B signs, A trusted; B signs. */
function fromCaPhases(): { cert: string; key: string; bundle: string }[] {
  const a = fixtureCa('kubernetes');
  const b = fixtureCa('other-ca');
  const store = fixtureStore();
  const phase = (signer: { cert: string; key: string }, trusted?: { cert: string }) => {
    const { objects } = synth({
      servingTls: ServingTls.fromCa({
        store, caCertificate: Pem.fromFile(signer.cert), caKey: Pem.fromFile(signer.key), keyAlgorithm: KeyAlgorithm.ECDSA_P256,
        additionalTrustedCas: trusted ? Pem.fromFile(trusted.cert) : undefined,
      }),
    });
    const secret = find(objects, 'Secret');
    return {
      cert: decode(secret.data['tls.crt']), key: decode(secret.data['tls.key']), bundle: decode(find(objects, 'APIService').spec.caBundle),
    };
  };
  return [phase(a), phase(a, b), phase(b, a), phase(b)];
}

describe('every step of the rotation verifies both ways, with Go', () => {
  let phases: Phase[];
  let results: any[];
  let handPhases: { cert: string; key: string; bundle: string }[];
  let opensslResults: string[][];
  beforeAll(async () => {
    const bin = goVerifyBinary();
    phases = (await rotateThroughAllPhases(startStore(RSA), CLUSTER, Date.now())).phases;
    const cases = [];
    for (let i = 0; i + 1 < phases.length; i++) {
      cases.push({ id: `old cert ${i} / new bundle ${i + 1}`, cert: phases[i].cert, key: phases[i].key, bundle: phases[i + 1].bundlePem, serverName: SERVER_NAME });
      cases.push({ id: `new cert ${i + 1} / old bundle ${i}`, cert: phases[i + 1].cert, key: phases[i + 1].key, bundle: phases[i].bundlePem, serverName: SERVER_NAME });
    }
    // the documented recipe for a CA you hold (docs/rotation.md): fromCa with additionalTrustedCas
    handPhases = fromCaPhases();
    for (let i = 0; i + 1 < handPhases.length; i++) {
      cases.push({ id: `fromCa: old cert ${i} / new bundle ${i + 1}`, cert: handPhases[i].cert, key: handPhases[i].key, bundle: handPhases[i + 1].bundle, serverName: SERVER_NAME });
      cases.push({ id: `fromCa: new cert ${i + 1} / old bundle ${i}`, cert: handPhases[i + 1].cert, key: handPhases[i + 1].key, bundle: handPhases[i].bundle, serverName: SERVER_NAME });
    }
    // each phase's own manifest: tls.crt against its own caBundle (the switched phase holds two CAs of one name)
    phases.forEach((ph, i) => cases.push({ id: `own ${i}`, cert: ph.cert, key: ph.key, bundle: ph.bundlePem, serverName: SERVER_NAME }));
    // the control: the switched certificate against the bundle before the rotation must fail
    cases.push({ id: 'control', cert: phases[2].cert, key: phases[2].key, bundle: phases[0].bundlePem, serverName: SERVER_NAME });
    const manifest = path.join(tmp(), 'cases.json');
    writeFileSync(manifest, JSON.stringify(cases));
    results = JSON.parse(execFileSync(bin, ['-batch', manifest], { encoding: 'utf8' }));
    // OpenSSL next to Go: it picks the issuer by key identifier and never backtracks
    const dir = tmp();
    opensslResults = cases.map((c, i) => {
      const r = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', SERVER_NAME,
        '-CAfile', writeTmp(dir, `b${i}.pem`, c.bundle), writeTmp(dir, `c${i}.pem`, c.cert)], { encoding: 'utf8' });
      return [c.id, r.status === 0 ? 'ok' : `${r.stdout}${r.stderr}`.trim()];
    });
  });

  test('OpenSSL (-x509_strict) verifies every pair and each phase\'s own manifest, the switched one included; the control fails', () => {
    const [control, rest] = [opensslResults.filter(([id]) => id === 'control'), opensslResults.filter(([id]) => id !== 'control')];
    expect(rest.map(([id]) => id)).toContain('own 2');
    expect(rest).toEqual(rest.map(([id]) => [id, 'ok']));
    expect(control[0][1]).not.toBe('ok');
  });

  test('each consecutive pair: the previous certificate against the next bundle and the next certificate against the previous bundle', () => {
    expect(results.filter(r => r.id.startsWith('own ')).map(r => [r.id, r.handshake])).toEqual([0, 1, 2, 3].map(i => [`own ${i}`, 'ok']));
    expect(results.filter(r => r.id !== 'control' && !r.id.startsWith('fromCa:') && !r.id.startsWith('own ')).map(r => [r.id, r.handshake, r.bundle])).toEqual([
      ['old cert 0 / new bundle 1', 'ok', 'ok'], ['new cert 1 / old bundle 0', 'ok', 'ok'],
      ['old cert 1 / new bundle 2', 'ok', 'ok'], ['new cert 2 / old bundle 1', 'ok', 'ok'],
      ['old cert 2 / new bundle 3', 'ok', 'ok'], ['new cert 3 / old bundle 2', 'ok', 'ok'],
    ]);
  });

  test('fromCa with additionalTrustedCas, phase by phase as documented: each consecutive pair verifies both ways', () => {
    const hand = results.filter(r => r.id.startsWith('fromCa:'));
    expect(hand).toHaveLength(6);
    expect(hand.map(r => [r.id, r.handshake])).toEqual(hand.map(r => [r.id, 'ok']));
    // the certificate moved from one CA to the other, and the bundle ends with the new CA alone
    expect(handPhases[1].cert).toBe(handPhases[0].cert);
    expect(handPhases[2].cert).not.toBe(handPhases[1].cert);
    expect(splitPem(handPhases[3].bundle)).toHaveLength(1);
  });

  test('the control fails: skipping stage would break the old bundle', () => {
    expect(results.find(r => r.id === 'control').handshake).toMatch(/certificate signed by unknown authority/);
  });

  test('the final bundle holds exactly the new CA', () => {
    expect(phases[3].bundle.map(fp)).toEqual([fp(phases[1].bundle[1])]);
    expect(fp(phases[1].bundle[1])).not.toBe(fp(phases[0].bundle[0]));
  });
});

describe('a rotation killed inside a phase resumes', () => {
  // templates: before the rotation; staged; switched with the reissued certificate
  let before: string;
  let staged: string;
  let switched: string;
  /** the finished synth of the switched template, run without a crash */
  let finishedYaml: string;
  beforeAll(async () => {
    before = startStore();
    synthPhase(before, CLUSTER);
    staged = copyOf(before);
    await runCa(['rotate', '--store', staged]);
    switched = copyOf(staged);
    await runCa(['rotate', '--store', switched, '--force']);
    synthPhase(switched, CLUSTER);
    const reference = copyOf(switched);
    expect((await runCa(['rotate', '--store', reference, '--force'])).code).toBe(0);
    finishedYaml = synthPhase(reference, CLUSTER).yaml;
  });

  type Case = [from: 'before' | 'staged' | 'switched', point: string, phaseAfterCrash: string];
  const CASES: Case[] = [
    ['before', 'rotate:locked', 'none'],
    ['before', 'rotate-stage:written', 'none'],
    ['before', 'rotate-stage:renamed', 'staged'],
    ['staged', 'rotate-switch:old-moved', 'staged'],
    ['staged', 'rotate-switch:renamed', 'switched'],
    ['switched', 'rotate-retire:written', 'switched'],
    ['switched', 'rotate:retired', 'switched'],
    ['switched', 'rotate-finish:old-moved', 'switched'],
    ['switched', 'rotate-finish:renamed', 'finish-interrupted'],
    ['switched', 'rotate:next-moved', 'finish-interrupted'],
  ];

  test('killed at each point: the store is repaired by the next synth, the phase is the one before or after, and ca rotate completes it', async () => {
    const dirs = CASES.map(([from]) => copyOf(from === 'before' ? before : from === 'staged' ? staged : switched));
    const killed = await limited(3, CASES.map(([, point], i) => () => spawnCa(['rotate', '--store', dirs[i], '--force'], { SECURE_METRICS_SERVER_TEST_CRASH_AT: point })));
    const seen: unknown[] = [];
    for (let i = 0; i < CASES.length; i++) {
      const [from, point] = CASES[i];
      const dir = dirs[i];
      const afterCrash = synthPhase(dir, CLUSTER);
      const phase = JSON.parse((await runCa(['status', '--store', dir, '--format', 'json'])).stdout).clusters[0].phase;
      const left = leftovers(listTree(dir));
      const resumed = await runCa(['rotate', '--store', dir, '--force']);
      const final = synthPhase(dir, CLUSTER);
      seen.push([point, killed[i].signal, phase, left, resumed.code,
        from === 'switched' ? final.yaml === finishedYaml : final.bundle.length,
        // a finish cut short already synthesizes as finished
        phase === 'finish-interrupted' ? afterCrash.yaml === finishedYaml : afterCrash.bundle.length]);
    }
    expect(seen).toEqual(CASES.map(([from, point, phase]) => [
      point, 'SIGKILL', phase, [], 0,
      // the next call: stage (from none) or switch (from staged) give two CAs; finish gives one
      from === 'switched' ? true : phase === 'switched' ? 1 : 2,
      phase === 'finish-interrupted' ? true : phase === 'none' ? 1 : 2,
    ]));
  });

  test('synths running at once while the serving certificate is reissued (after switch) agree, under the store lock', async () => {
    const dir = copyOf(staged);
    expect((await runCa(['rotate', '--store', dir, '--force'])).code).toBe(0);
    const results = await spawnMany(3, { STORE_DIR: dir });
    expect(results.map(r => r.code)).toEqual([0, 0, 0]);
    // the one warning printed: the rotation in progress
    expect(results.map(r => r.stderr.trim().split('\n').filter(l => l.trim() !== '' && !l.includes("phase 'switched' since")))).toEqual([[], [], []]);
    expect(new Set(results.map(r => r.stdout)).size).toBe(1);
    const inProcess = synthPhase(dir, CLUSTER);
    expect(results[0].stdout).toBe(inProcess.yaml);
    expect(inProcess.bundle).toHaveLength(2);
    expect(new X509Certificate(inProcess.cert).checkIssued(new X509Certificate(inProcess.bundle[1]))).toBe(true);
  });
});
