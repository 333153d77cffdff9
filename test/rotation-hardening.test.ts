import { execFileSync } from 'child_process';
import { existsSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ServingTls } from '../lib';
import { fixtureStore, FIXTURE_CLUSTER, synth } from './helpers';
import { Phase, runCa, setCaParams, signedByOneOf, synthPhase } from './support/rotation';

// Rotation (issue 18, item 5): --abort never goes back once a serving
// certificate is the new CA's, --force skips the wait only, --min-wait keeps
// its floor, every instruction the command prints is true, and retired CA
// keys can be pruned.

const P256 = { commonName: 'rotated-ca', validityDays: 400, keyAlgorithm: 'ECDSA_P256' };

function rotationStore(): string {
  const store = fixtureStore();
  synth({ servingTls: ServingTls.fromDedicatedCa({ store }) });
  setCaParams(store.directory, FIXTURE_CLUSTER, P256);
  return store.directory;
}

const t0 = Date.now();
const at = (minutes: number) => new Date(t0 + minutes * 60000).toISOString();

/** A store after 'switch' and the synth that reissued the serving certificate with the new CA. */
async function switchedAndReissued(): Promise<string> {
  const dir = rotationStore();
  expect((await runCa(['rotate', '--store', dir, '--now', at(0)])).code).toBe(0);
  expect((await runCa(['rotate', '--store', dir, '--now', at(11)])).code).toBe(0);
  const p = synthPhase(dir, FIXTURE_CLUSTER);
  expect(signedByOneOf(p.cert, [p.bundle[1]])).toBe(true);
  return dir;
}

/** Splits a command line printed by the command (words, single-quoted words). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map(m => m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]);
}

describe('--abort never goes back to the old CA once a serving certificate is the new one\'s', () => {
  test('an unusable state after switch: the message does not offer --abort, --abort is refused and changes nothing, and the printed way out works', async () => {
    const dir = await switchedAndReissued();
    const cluster = path.join(dir, 'clusters', FIXTURE_CLUSTER);
    writeFileSync(path.join(cluster, 'ca-next', 'rotation.json'), '{ not json');
    let message = '';
    try {
      synthPhase(dir, FIXTURE_CLUSTER);
    } catch (e: any) {
      message = e.message;
    }
    expect(message).toContain("'ca rotate --abort' is not possible: the serving certificate of 'metrics-server.kube-system.svc.cluster.local' is not issued by the old CA");
    expect(message).not.toMatch(/or run 'secure-metrics-server ca rotate --abort'/);
    const aborted = await runCa(['rotate', '--store', dir, '--abort']);
    expect(aborted.code).toBe(2);
    expect(aborted.stderr).toContain("'ca rotate --abort' is not possible");
    expect(existsSync(path.join(cluster, 'ca-next', 'ca.key'))).toBe(true);
    expect(existsSync(path.join(cluster, 'ca-retired'))).toBe(false);
    // the printed way out: write the state back, then go on
    const echo = /echo '([^']+)' > '([^']+)'/.exec(message)!;
    execFileSync('sh', ['-c', `echo '${echo[1]}' > '${echo[2]}'`]);
    const p = synthPhase(dir, FIXTURE_CLUSTER);
    expect(p.bundle).toHaveLength(2);
    const finish = await runCa(['rotate', '--store', dir, '--now', new Date(Date.now() + 11 * 60000).toISOString()]);
    expect([finish.code, finish.stderr]).toEqual([0, '']);
    const done = synthPhase(dir, FIXTURE_CLUSTER);
    expect(done.bundle).toHaveLength(1);
    expect(signedByOneOf(done.cert, done.bundle)).toBe(true);
  });

  test('a state edited back to "staged" after the reissue: --abort is refused (exit 1), naming the certificate', async () => {
    const dir = await switchedAndReissued();
    writeFileSync(path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-next', 'rotation.json'), JSON.stringify({ version: 1, phase: 'staged', stagedAt: at(0) }));
    const r = await runCa(['rotate', '--store', dir, '--abort']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ca rotate --abort: the serving certificate of 'metrics-server.kube-system.svc.cluster.local' in cluster 'fixture' is not issued by the old CA");
    expect(existsSync(path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-next'))).toBe(true);
  });
});

describe('--force skips the wait only; --min-wait keeps its floor', () => {
  test('finish before a synth reissued the leaf is refused with --force too; --skip-reissue-check is the named way past it', async () => {
    const dir = rotationStore();
    expect((await runCa(['rotate', '--store', dir, '--now', at(0)])).code).toBe(0);
    expect((await runCa(['rotate', '--store', dir, '--now', at(1), '--force'])).code).toBe(0);
    const forced = await runCa(['rotate', '--store', dir, '--now', at(2), '--force']);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain("'finish' is refused: the serving certificate of 'metrics-server.kube-system.svc.cluster.local' is not yet issued by the new CA");
    expect(forced.stderr).toContain('or pass --skip-reissue-check (--force does not skip this check)');
    const skipped = await runCa(['rotate', '--store', dir, '--now', at(30), '--skip-reissue-check']);
    expect(skipped.code).toBe(0);
  });

  test('--min-wait below the documented 10 minutes is a usage error; a longer one is enforced', async () => {
    const dir = rotationStore();
    const low = await runCa(['rotate', '--store', dir, '--min-wait', '1m']);
    expect(low.code).toBe(2);
    expect(low.stderr).toContain("--min-wait: '1m' is below the floor of 10 minutes between phases");
    expect(existsSync(path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-next'))).toBe(false);
    expect((await runCa(['rotate', '--store', dir, '--now', at(0), '--min-wait', '30m'])).code).toBe(0);
    const early = await runCa(['rotate', '--store', dir, '--now', at(11), '--min-wait', '30m']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('(30 minutes after \'stage\'');
  });
});

describe('every instruction the command prints is true', () => {
  /** What a "Now: synthesize and apply (the X changes; the Y does not)" line claims. */
  function claims(stdout: string): { bundle: boolean; secret: boolean } {
    const m = /Now: synthesize and apply \(the (APIService caBundle|caBundle|Secret) changes(?: back)?; the (caBundle|Secret) does not\)/.exec(stdout);
    expect(m).not.toBeNull();
    return { bundle: m![1] !== 'Secret', secret: m![1] === 'Secret' };
  }
  function changed(a: Phase, b: Phase) {
    return { bundle: a.bundlePem !== b.bundlePem, secret: a.cert !== b.cert || a.key !== b.key };
  }
  async function runPrinted(line: string, now: string) {
    const words = shellWords(line);
    expect(words.slice(0, 2)).toEqual(['secure-metrics-server', 'ca']);
    return runCa([...words.slice(2), '--now', now]);
  }
  const before = (iso: string) => new Date(Date.parse(iso) - 1000).toISOString();

  test('through stage, switch and finish: what changes, the printed commands and their earliest times, and prune', async () => {
    const dir = rotationStore();
    let last = synthPhase(dir, FIXTURE_CLUSTER);
    let r = await runCa(['rotate', '--store', dir, '--now', at(0)]);
    let now = at(0);
    for (const step of ['stage', 'switch', 'finish']) {
      expect([step, r.code, r.stderr]).toEqual([step, 0, '']);
      expect(r.stdout).toContain(`phase '${step}' done`);
      const next = synthPhase(dir, FIXTURE_CLUSTER);
      expect([step, changed(last, next)]).toEqual([step, claims(r.stdout)]);
      last = next;
      const then = /Then: run (.+) again, not before (\S+)\.$/m.exec(r.stdout);
      if (step === 'finish') {
        expect(then).toBeNull();
        break;
      }
      // the printed command, pasted as printed: refused a second before the printed time, done at it
      const early = await runPrinted(then![1], before(then![2]));
      expect([step, early.code]).toEqual([step, 1]);
      now = then![2];
      r = await runPrinted(then![1], now);
    }
    const retired = path.join(dir, 'clusters', FIXTURE_CLUSTER, 'ca-retired');
    expect(readdirSync(retired)).toHaveLength(1);
    const prune = /Later: .*: (secure-metrics-server ca prune .+)$/m.exec(r.stdout)!;
    const pruned = await runPrinted(prune[1], now);
    expect([pruned.code, pruned.stdout]).toEqual([0, expect.stringContaining('1 retired CA(s) removed. Nothing to apply: the caBundle and the Secret do not change.')]);
    expect(readdirSync(retired)).toEqual([]);
    expect(synthPhase(dir, FIXTURE_CLUSTER).yaml).toBe(last.yaml);
    const status = JSON.parse((await runCa(['status', '--store', dir, '--format', 'json'])).stdout);
    expect(status.clusters[0].certificates.map((c: any) => c.role)).toEqual(['current', 'serving']);
    expect((await runCa(['prune', '--store', dir])).stdout).toContain("cluster fixture: no retired CA to prune.");
  });

  test('the synth\'s rotation warning names a command that runs as printed', async () => {
    const dir = rotationStore();
    expect((await runCa(['rotate', '--store', dir, '--now', at(0)])).code).toBe(0);
    const warning = synthPhase(dir, FIXTURE_CLUSTER).warnings.find(w => w.includes('being rotated'))!;
    const command = /run '(secure-metrics-server ca rotate [^']+)' for 'switch'/.exec(warning)![1];
    const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map(m => m[1] ?? m[2]);
    const r = await runCa([...words.slice(2), '--now', at(11)]);
    expect([r.code, r.stdout]).toEqual([0, expect.stringContaining("phase 'switch' done")]);
  });

  test('--abort: the caBundle changes back, the Secret does not', async () => {
    const dir = rotationStore();
    expect((await runCa(['rotate', '--store', dir, '--now', at(0)])).code).toBe(0);
    const staged = synthPhase(dir, FIXTURE_CLUSTER);
    const r = await runCa(['rotate', '--store', dir, '--abort']);
    expect(r.code).toBe(0);
    expect(changed(staged, synthPhase(dir, FIXTURE_CLUSTER))).toEqual(claims(r.stdout));
  });
});
