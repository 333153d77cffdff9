import { execFileSync } from 'child_process';
import { existsSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { CertificateStore, KeyAlgorithm, Pem, SecureMetricsServerTesting, ServingTls } from '../lib';
import * as pki from '../lib/x509/pki';
import * as x509 from '../lib/x509/x509';
import { captureStderr, fixtureCa, fixtureStore, FIXTURE_CLUSTER, listTree, synthYaml, tmp } from './helpers';
import { runCa, setCaParams } from './support/rotation';

// Bounds before commits (issue 18, item 6), and progress of slow key
// generation (item 14).

const P256 = KeyAlgorithm.ECDSA_P256;

describe('validity periods no certificate can carry are refused before any key is made', () => {
  test.each([
    ['caValidity', Duration.days(3_000_000), "servingTls.caValidity: 3000000 days cannot be issued: 3000000 days is more than 36525 days (100 years); use e.g. Duration.days(3650)"],
    ['caValidity', Duration.days(36525 + 1), 'servingTls.caValidity: 36526 days cannot be issued: 36526 days is more than 36525 days (100 years)'],
    ['validity', Duration.days(40_000), 'servingTls.validity: 40000 days cannot be issued: 40000 days is more than 36525 days (100 years); use e.g. Duration.days(365)'],
  ])('%s %p', (prop, value, message) => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const before = SecureMetricsServerTesting.generatedKeyCount();
    const opts: any = { store, keyAlgorithm: P256, [prop]: value };
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa(opts) })).toThrow(message);
    expect(SecureMetricsServerTesting.generatedKeyCount()).toBe(before);
    expect(existsSync(store.directory) ? listTree(store.directory).filter(f => f.endsWith('.key')) : []).toEqual([]);
  });

  test('the end of 9999 is the bound, whatever the clock says', () => {
    expect(pki.validityDaysProblem(36525, new Date('9990-01-01T00:00:00Z'))).toBe('36525 days from 9990-01-01T00:00:00.000Z end after 9999-12-31T23:59:59Z, the last time an X.509 certificate can carry');
    expect(pki.validityDaysProblem(1, new Date('9999-12-30T23:59:59Z'))).toBeUndefined();
    expect(pki.validityDaysProblem(1.5, new Date())).toBe('1.5 is not a positive whole number of days');
    expect(pki.validityDaysProblem(1, new Date(NaN))).toMatch(/an invalid date/);
  });

  test('fromCa: an absurd serving validity is refused too, though the CA would cap it', () => {
    const ca = fixtureCa('k3s-ecdsa');
    expect(() => synthYaml({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key), validity: Duration.days(99_999), store: CertificateStore.fromDirectory(path.join(tmp(), 'pki')) }) }))
      .toThrow('servingTls.validity: 99999 days cannot be issued');
  });

  test('a CA that ends after 2049 carries GeneralizedTime (UTCTime before), and verifies in OpenSSL with -x509_strict', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const r = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: P256, caValidity: Duration.days(36500),
      validity: Duration.days(36000) }) });
    const dir = tmp();
    const ca = path.join(dir, 'ca.crt');
    const leaf = path.join(dir, 'tls.crt');
    writeFileSync(ca, r.construct.caBundle!);
    writeFileSync(leaf, r.cert);
    const parsed = execFileSync('openssl', ['asn1parse', '-in', ca], { encoding: 'utf8' });
    expect(parsed).toMatch(/UTCTIME[\s\S]*GENERALIZEDTIME/);
    expect(execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', ca, leaf], { encoding: 'utf8' })).toContain(': OK');
  });

  test('ca rotate: an absurd validity in params.json is refused before the new CA is made; nothing is committed', async () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    setCaParams(store.directory, FIXTURE_CLUSTER, { commonName: 'x', validityDays: 10_000_000, keyAlgorithm: 'ECDSA_P256' });
    const before = SecureMetricsServerTesting.generatedKeyCount();
    const r = await runCa(['rotate', '--store', store.directory]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the new CA's validity (validityDays in");
    expect(r.stderr).toContain('10000000 days is more than 36525 days (100 years); set validityDays to e.g. 3650 in that file');
    expect(SecureMetricsServerTesting.generatedKeyCount()).toBe(before);
    expect(existsSync(path.join(store.directory, 'clusters', FIXTURE_CLUSTER, 'ca-next'))).toBe(false);
  });
});

describe('no error follows a commit: every outcome is built first (injected failures)', () => {
  test('a serving certificate that fails to be issued leaves no CA behind; the next synth starts clean', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const spy = jest.spyOn(pki, 'issueServingCertificate').mockImplementation(() => {
      throw new Error('injected issuance failure');
    });
    try {
      expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: P256 }) })).toThrow('injected issuance failure');
    } finally {
      spy.mockRestore();
    }
    expect(listTree(store.directory).filter(f => !f.startsWith('.'))).toEqual([]);
    const ok = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: P256 }) });
    expect(ok.keys).toBe(2);
  });

  test('a new CA that fails its check is not committed', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const real = x509.parseCertificates;
    const spy = jest.spyOn(x509, 'parseCertificates').mockImplementation((prop, pem, source) => {
      if (String(source).endsWith(path.join('ca', 'ca.crt'))) {
        throw new Error('injected parse failure');
      }
      return real(prop, pem, source);
    });
    try {
      expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, keyAlgorithm: P256 }) })).toThrow('injected parse failure');
    } finally {
      spy.mockRestore();
    }
    expect(listTree(store.directory).filter(f => f.includes('ca.'))).toEqual([]);
  });

  test('ca rotate stage: a new CA that fails its check is not committed', async () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    setCaParams(store.directory, FIXTURE_CLUSTER, { commonName: 'x', validityDays: 400, keyAlgorithm: 'ECDSA_P256' });
    const real = x509.parseCertificates;
    const spy = jest.spyOn(x509, 'parseCertificates').mockImplementation((prop, pem, source) => {
      if (String(source).includes('ca-next')) {
        throw new Error('injected parse failure');
      }
      return real(prop, pem, source);
    });
    let r;
    try {
      r = await runCa(['rotate', '--store', store.directory]);
    } finally {
      spy.mockRestore();
    }
    expect(r.stderr).toContain('injected parse failure');
    expect(existsSync(path.join(store.directory, 'clusters', FIXTURE_CLUSTER, 'ca-next'))).toBe(false);
    expect((await runCa(['rotate', '--store', store.directory])).code).toBe(0);
  });
});

describe('progress of slow key generation on stderr', () => {
  /** Generates `n` keys with a clock that moves `stepMs` per reading. */
  function generate(n: number, stepMs: number): string {
    let t = Date.now() + 1e9 + Math.random() * 1e9;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => (t += stepMs));
    process.env[pki.PROGRESS_ENV] = '1';
    try {
      return captureStderr(() => {
        for (let i = 0; i < n; i++) {
          pki.generateKey(P256);
        }
      }).stderr;
    } finally {
      delete process.env[pki.PROGRESS_ENV];
      now.mockRestore();
    }
  }

  test('keys in a row that take more than two seconds get a line, then one line per further key', () => {
    // 800 ms a key: the third crosses two seconds
    const lines = generate(5, 800).trim().split('\n');
    expect(lines[0]).toBe('secure-metrics-server: key generation is slow: 3 key(s) in 2.4 s (the last ECDSA_P256); the keys are kept in the certificate store, so the next synth makes none');
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^secure-metrics-server: generating key 4 \(3 so far in \d+\.\d s\)\.\.\.$/), expect.stringMatching(/generating key 5 \(4 so far/)]);
  });

  test('fast key generation prints nothing; SECURE_METRICS_SERVER_PROGRESS=0 silences it', () => {
    expect(generate(3, 100)).toBe('');
    let t = Date.now() + 3e9;
    const now = jest.spyOn(Date, 'now').mockImplementation(() => (t += 3000));
    process.env[pki.PROGRESS_ENV] = '0';
    try {
      expect(captureStderr(() => pki.generateKey(P256)).stderr).toBe('');
    } finally {
      delete process.env[pki.PROGRESS_ENV];
      now.mockRestore();
    }
  });
});
