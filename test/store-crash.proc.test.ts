import { X509Certificate } from 'crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { CertificateStore, ServingTls } from '../lib';
import { legacyStoreFixture, listTree, storePaths, synthYaml, tmp } from './helpers';
import { LEGACY_CA_VALIDITY_DAYS, LEGACY_VALIDITY_DAYS } from './support/legacy-store-0.1';
import { leftovers, limited, spawnSynth } from './support/proc';

/**
 * Each case kills a synth (SIGKILL, through the store's fault-injection hook
 * SECURE_METRICS_SERVER_TEST_CRASH_AT) at one point before or after a write
 * or rename, then runs a normal synth, which must succeed without user
 * action, match the store, and leave no temporary file behind.
 */
type Start = 'empty' | 'warm' | 'legacy';
const CASES: [Start, string][] = [
  ['empty', 'locked'],
  ['empty', 'ca:partial'],
  ['empty', 'ca:written'],
  // after the rename (on an empty store there is no old unit to delete: ca:done is the same state)
  ['empty', 'ca:renamed'],
  ['empty', 'tls:partial'],
  ['empty', 'tls:written'],
  ['empty', 'tls:renamed'],
  ['warm', 'tls:partial'],
  ['warm', 'tls:written'],
  ['warm', 'tls:old-moved'],
  ['warm', 'tls:renamed'],
  ['warm', 'tls:done'],
  ['legacy', 'adopt-ca:written'],
  ['legacy', 'adopt-ca:done'],
  ['legacy', 'adopt-tls:written'],
  ['legacy', 'adopt:tls-removed'],
];

/** A renewal: the warm store's 100-day certificate falls within a 120-day window. */
const WARM = { validity: 100, renewBefore: 30 };
const RENEW = { validity: 200, renewBefore: 120 };
const LEGACY = { caValidity: Duration.days(LEGACY_CA_VALIDITY_DAYS), validity: Duration.days(LEGACY_VALIDITY_DAYS) };

function prepare(start: Start, template: string): string {
  const dir = path.join(tmp(), 'pki');
  if (start === 'warm') {
    cpSync(template, dir, { recursive: true });
  } else if (start === 'legacy') {
    mkdirSync(dir, { mode: 0o700 });
    for (const f of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'checked.json']) {
      cpSync(path.join(legacyStoreFixture(), f), path.join(dir, f));
      chmodSync(path.join(dir, f), 0o600);
    }
  }
  return dir;
}

function envOf(start: Start, dir: string, point: string) {
  const days = start === 'warm' ? RENEW : start === 'legacy' ? { validity: LEGACY_VALIDITY_DAYS, renewBefore: 30 } : undefined;
  return {
    STORE_DIR: dir,
    SECURE_METRICS_SERVER_TEST_CRASH_AT: point,
    VALIDITY_DAYS: days ? String(days.validity) : undefined,
    RENEW_BEFORE_DAYS: days ? String(days.renewBefore) : undefined,
  };
}

function optionsOf(start: Start, store: CertificateStore) {
  if (start === 'warm') {
    return { store, validity: Duration.days(RENEW.validity), renewBefore: Duration.days(RENEW.renewBefore) };
  }
  return start === 'legacy' ? { store, ...LEGACY } : { store };
}

describe('a synth killed at any point is recovered by the next synth', () => {
  let crashed: { start: Start; point: string; dir: string; signal: string | null; stderr: string }[];

  beforeAll(async () => {
    const template = path.join(tmp(), 'pki');
    const store = CertificateStore.fromDirectory(template);
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration.days(WARM.validity), renewBefore: Duration.days(WARM.renewBefore) }) });
    const dirs = CASES.map(([start]) => prepare(start, template));
    const results = await limited(4, CASES.map(([start, point], i) => () => spawnSynth(envOf(start, dirs[i], point))));
    crashed = CASES.map(([start, point], i) => ({ start, point, dir: dirs[i], signal: results[i].signal, stderr: results[i].stderr }));
  }, 120_000);

  test.each(CASES)('%s store, killed at %s', (start, point) => {
    const c = crashed.find(x => x.start === start && x.point === point)!;
    // the hook was reached: the child died by SIGKILL, not by an error
    expect({ signal: c.signal, stderr: c.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    const store = CertificateStore.fromDirectory(c.dir);
    const caFile = storePaths(store).caCrt;
    let caBefore: string | undefined;
    try {
      caBefore = readFileSync(caFile, 'utf8');
    } catch {
      caBefore = undefined;
    }

    // the dead synth's lock is recovered at once (a live one would make this fail after 5 s)
    process.env.SECURE_METRICS_SERVER_LOCK_TIMEOUT = '5';
    try {
      const next = synthYaml({ servingTls: ServingTls.fromDedicatedCa(optionsOf(start, store)) });
      const p = storePaths(store);
      const ca = readFileSync(p.caCrt, 'utf8');
      expect(next.construct.caBundle).toBe(ca);
      expect(next.cert).toBe(readFileSync(p.tlsCrt, 'utf8'));
      expect(next.key).toBe(readFileSync(p.tlsKey, 'utf8'));
      expect(new X509Certificate(next.cert).verify(new X509Certificate(ca).publicKey)).toBe(true);
      // a CA committed before the crash is kept, never replaced
      if (caBefore !== undefined) {
        expect(ca).toBe(caBefore);
      }
      if (start === 'legacy') {
        expect(ca).toBe(readFileSync(path.join(legacyStoreFixture(), 'ca.crt'), 'utf8'));
        expect(next.key).toBe(readFileSync(path.join(legacyStoreFixture(), 'tls.key'), 'utf8'));
      }
      const files = listTree(store.directory);
      expect(leftovers(files)).toEqual([]);
      expect(files.filter(f => !f.includes('/') && f !== '.gitignore')).toEqual([]);
      // and the synth after that changes nothing
      const again = synthYaml({ servingTls: ServingTls.fromDedicatedCa(optionsOf(start, store)) });
      expect(again.keys).toBe(0);
      expect(again.yaml).toBe(next.yaml);
    } finally {
      delete process.env.SECURE_METRICS_SERVER_LOCK_TIMEOUT;
    }
  });
});

