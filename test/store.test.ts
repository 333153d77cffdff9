import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart } from 'cdk8s';
import * as forge from 'node-forge';
import { CertificateStore, Pem, SecureMetricsServer, ServingTls } from '../lib';
import { decode, find, fixtureCa, fixtureStore, pem, listTree, storePaths, synthYaml, testCert, testKey, tmp, writeStoreCa, DEFAULT_DNS_NAMES } from './helpers';

function objectsOf(construct: SecureMetricsServer): any[] {
  return Chart.of(construct).toJson();
}

function servingCert(construct: SecureMetricsServer): forge.pki.Certificate {
  return forge.pki.certificateFromPem(decode(find(objectsOf(construct), 'Secret').data['tls.crt']));
}


describe('certificate store', () => {
  test('two synths with one store are byte-identical, and the second generates no key', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(first.keys).toBe(2);
    expect(second.keys).toBe(0);
    expect(second.yaml).toBe(first.yaml);
    expect(first.yaml).toContain('kind: Secret');
  });

  test('issuing with a cluster CA is stable too', () => {
    const ca = fixtureCa('kubernetes');
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const props = () => ({ servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(ca.cert), caKey: Pem.fromFile(ca.key), store }) });
    const first = synthYaml(props());
    const second = synthYaml(props());
    expect(first.keys).toBe(1);
    expect(second.keys).toBe(0);
    expect(second.yaml).toBe(first.yaml);
    expect(listTree(store.directory)).toEqual([
      '.gitignore',
      'clusters/metrics-server/chart.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local.checked.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.crt',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.key',
    ]);
  });

  test('files are 0600 in a 0700 directory, with no temporary files left', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'nested', 'pki'));
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(statSync(store.directory).mode & 0o777).toBe(0o700);
    const files = listTree(store.directory);
    expect(files).toEqual([
      '.gitignore',
      'clusters/metrics-server/ca/ca.crt',
      'clusters/metrics-server/ca/ca.key',
      'clusters/metrics-server/ca/params.json',
      'clusters/metrics-server/chart.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local.checked.json',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.crt',
      'clusters/metrics-server/metrics-server.kube-system.svc.cluster.local/tls.key',
    ]);
    for (const f of files) {
      expect(statSync(path.join(store.directory, f)).mode & 0o777).toBe(0o600);
    }
    for (const d of ['clusters', 'clusters/metrics-server', 'clusters/metrics-server/ca']) {
      expect(statSync(path.join(store.directory, d)).mode & 0o777).toBe(0o700);
    }
    // the store keeps itself out of git
    expect(readFileSync(path.join(store.directory, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  test('an expiring serving certificate is reissued while its CA stays', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const caBefore = readFileSync(storePaths(store).caCrt, 'utf8');
    // replace the stored certificate by one from the same CA that expires in 10 days
    const ca = { cert: forge.pki.certificateFromPem(caBefore), key: { privateKey: forge.pki.privateKeyFromPem(readFileSync(storePaths(store).caKey, 'utf8')) } as any };
    const tlsKey = forge.pki.privateKeyFromPem(readFileSync(storePaths(store).tlsKey, 'utf8')) as forge.pki.rsa.PrivateKey;
    const keyPair = { privateKey: tlsKey, publicKey: forge.pki.setRsaPublicKey(tlsKey.n, tlsKey.e) };
    const expiring = testCert({ cn: 'metrics-server.kube-system.svc', key: keyPair, issuer: ca, dnsNames: DEFAULT_DNS_NAMES, notAfter: new Date(Date.now() + 10 * 86400_000), serial: '1234' });
    writeFileSync(storePaths(store).tlsCrt, pem.cert(expiring));

    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(second.keys).toBe(1);
    const renewed = servingCert(second.construct);
    expect(renewed.serialNumber).not.toBe('1234');
    expect(renewed.validity.notAfter.getTime() - Date.now()).toBeGreaterThan(364 * 86400_000);
    expect(readFileSync(storePaths(store).caCrt, 'utf8')).toBe(caBefore);
    expect(second.construct.caBundle).toBe(first.construct.caBundle);
    expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).yaml).toBe(second.yaml);
  });

  test('renewBefore decides what counts as expiring', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration_days(100), renewBefore: Duration_days(30) }) });
    expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration_days(100), renewBefore: Duration_days(30) }) }).keys).toBe(0);
    // a 100-day certificate falls within a 120-day window: reissued
    expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store, validity: Duration_days(200), renewBefore: Duration_days(120) }) }).keys).toBe(1);
  });

  test('changed inputs reissue: names (namespace), key size, signing CA', () => {
    const store = fixtureStore();
    const base = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const moved = synthYaml({ namespace: 'monitoring', servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(moved.keys).toBe(1);
    expect(servingCert(moved.construct).getExtension('subjectAltName')).toMatchObject({
      altNames: expect.arrayContaining([expect.objectContaining({ value: 'metrics-server.monitoring.svc' })]),
    });
    expect(moved.construct.caBundle).toBe(base.construct.caBundle);
    expect(synthYaml({ namespace: 'monitoring', servingTls: ServingTls.fromDedicatedCa({ store, keySize: 3072 }) }).keys).toBe(1);

    const other = fixtureCa('other-ca');
    const byOther = synthYaml({ namespace: 'monitoring', servingTls: ServingTls.fromCa({ caCertificate: Pem.fromFile(other.cert), caKey: Pem.fromFile(other.key), store }) });
    expect(byOther.keys).toBe(1);
    expect(servingCert(byOther.construct).issuer.getField('CN').value).toBe('other-ca');
  });

  test('a corrupt store is an error and nothing in it is overwritten', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    writeFileSync(storePaths(store).tlsCrt, 'garbage');
    const caBefore = readFileSync(storePaths(store).caCrt, 'utf8');
    const keyBefore = readFileSync(storePaths(store).tlsKey, 'utf8');
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${storePaths(store).tlsCrt}' is unusable (servingTls: ${storePaths(store).tlsCrt} is not a PEM certificate (it holds no PEM block '-----BEGIN CERTIFICATE-----'); pass a PEM certificate file such as /etc/kubernetes/pki/ca.crt); restore it from your backup, or delete '${storePaths(store).tlsCrt}' and '${storePaths(store).tlsKey}' to issue a new serving certificate. Nothing in the store was changed`);
    expect(readFileSync(storePaths(store).tlsCrt, 'utf8')).toBe('garbage');
    expect(readFileSync(storePaths(store).tlsKey, 'utf8')).toBe(keyBefore);
    expect(readFileSync(storePaths(store).caCrt, 'utf8')).toBe(caBefore);
  });

  test('a corrupt or half-missing CA is an error, never replaced', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const caKey = readFileSync(storePaths(store).caKey, 'utf8');
    writeFileSync(storePaths(store).caKey, caKey.slice(0, 200));
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(new RegExp(`^store: '${storePaths(store).caKey}' is unusable .*move the directory '${storePaths(store).ca}' aside to create a new CA`));
    expect(readFileSync(storePaths(store).caKey, 'utf8')).toBe(caKey.slice(0, 200));

    require('fs').unlinkSync(storePaths(store).caKey);
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${storePaths(store).caKey}' is unusable (it is missing while ${storePaths(store).caCrt} exists); restore the file from your backup`);
  });

  test('a serving certificate without its dedicated CA is an error, and no CA is created', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    require('fs').unlinkSync(storePaths(store).caCrt);
    require('fs').unlinkSync(storePaths(store).caKey);
    require('fs').rmSync(storePaths(store).ca, { recursive: true });
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: '${storePaths(store).serving}' holds tls.crt and tls.key but there is no dedicated CA ('${storePaths(store).ca}'); restore the CA from your backup, or delete '${storePaths(store).serving}' to start over with a new CA. Nothing in the store was changed`);
    expect(listTree(storePaths(store).cluster)).toEqual([
      'metrics-server.kube-system.svc.cluster.local.checked.json',
      'metrics-server.kube-system.svc.cluster.local/tls.crt',
      'metrics-server.kube-system.svc.cluster.local/tls.key',
    ]);
  });

  test('an expired dedicated CA is an error, not silently replaced', () => {
    const dir = path.join(tmp(), 'pki');
    const store = CertificateStore.fromDirectory(dir);
    const oldCa = testCert({ cn: 'secure-metrics-server-ca', key: testKey(0), ca: true, notBefore: new Date('2015-01-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z') });
    writeStoreCa(store, pem.cert(oldCa), pem.key(testKey(0)));
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(/^servingTls: the dedicated CA in '.*' expired on 2025-01-01T00:00:00Z; it is never replaced silently/);
    expect(readFileSync(storePaths(store).caCrt, 'utf8')).toBe(pem.cert(oldCa));
    expect(listTree(dir)).toEqual(['clusters/metrics-server/ca/ca.crt', 'clusters/metrics-server/ca/ca.key']);
  });

  test('a CA close to expiry: a warning, the certificate ends with the CA, and it stays stable', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const caEnd = new Date(Math.floor((Date.now() + 20 * 86400_000) / 1000) * 1000);
    const shortCa = testCert({ cn: 'secure-metrics-server-ca', key: testKey(0), ca: true, notAfter: caEnd });
    writeStoreCa(store, pem.cert(shortCa), pem.key(testKey(0)));
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(first.construct.warnings).toEqual([expect.stringMatching(/^servingTls: the signing CA \(CN=secure-metrics-server-ca\) expires on .*, within the renewBefore window/)]);
    expect(servingCert(first.construct).validity.notAfter.getTime()).toBe(caEnd.getTime());
    const second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    expect(second.keys).toBe(0);
    expect(second.yaml).toBe(first.yaml);
  });

  test('an unreadable store directory is an error naming the path', () => {
    if (process.getuid && process.getuid() === 0) {
      // root reads files whatever their mode: make the path a directory where a file is expected instead
      const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
      require('fs').mkdirSync(storePaths(store).caCrt, { recursive: true });
      writeFileSync(storePaths(store).caKey, 'x', { mode: 0o600 });
      expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
        .toThrow(`store: cannot read '${storePaths(store).caCrt}' (EISDIR); fix its permissions, or restore it from your backup`);
    } else {
      const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
      synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      chmodSync(storePaths(store).caCrt, 0o000);
      expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) })).toThrow(/store: cannot read/);
    }
  });

  test('key material never reaches standard output or error', () => {
    const writes: string[] = [];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((s: any) => { writes.push(String(s)); return true; });
    const err = jest.spyOn(process.stderr, 'write').mockImplementation((s: any) => { writes.push(String(s)); return true; });
    const log = jest.spyOn(console, 'log').mockImplementation((...a: any[]) => { writes.push(a.join(' ')); });
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    let keyLines: string[];
    try {
      synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      keyLines = [storePaths(store).tlsKey, storePaths(store).caKey].flatMap(f => readFileSync(f, 'utf8').split('\n').filter(l => l.length > 40));
      writeFileSync(storePaths(store).tlsKey, 'broken');
      try {
        synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      } catch (e: any) {
        writes.push(e.message);
      }
    } finally {
      out.mockRestore();
      err.mockRestore();
      log.mockRestore();
    }
    expect(keyLines.length).toBeGreaterThan(20);
    const printed = writes.join('\n');
    expect(printed).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----\n/);
    for (const line of keyLines) {
      expect(printed).not.toContain(line);
    }
  });
});

describe('check record', () => {
  const x509 = require('../lib/x509/x509');

  test('it holds no key material', () => {
    const store = fixtureStore();
    synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const record = readFileSync(storePaths(store).record, 'utf8');
    expect(record).not.toMatch(/BEGIN|PRIVATE/);
    expect(Object.keys(JSON.parse(record)).sort()).toEqual(['dates', 'digest', 'keyAlgorithm', 'version']);
    expect(JSON.parse(record).keyAlgorithm).toBe('RSA_2048');
  });

  /**
   * Counts the real work of `fn` at the crypto primitives themselves (not at
   * the library's own functions, which another code path could go around):
   * certificates and keys parsed, signatures checked or made, keys made,
   * DER decoded by forge, store locks taken and files written.
   */
  function countWork(fn: () => void): { [what: string]: number } {
    const crypto = require('crypto');
    const fs = require('fs');
    const forge = require('node-forge');
    const { lockCount } = require('../lib/store/store-lock');
    const proto = crypto.X509Certificate.prototype;
    const spies = {
      verify: jest.spyOn(proto, 'verify'),
      checkPrivateKey: jest.spyOn(proto, 'checkPrivateKey'),
      createPrivateKey: jest.spyOn(crypto, 'createPrivateKey'),
      createPublicKey: jest.spyOn(crypto, 'createPublicKey'),
      sign: jest.spyOn(crypto, 'sign'),
      generateKeyPairSync: jest.spyOn(crypto, 'generateKeyPairSync'),
      forgeFromDer: jest.spyOn(forge.asn1, 'fromDer'),
      writeSync: jest.spyOn(fs, 'writeSync'),
      renameSync: jest.spyOn(fs, 'renameSync'),
    };
    // a class cannot be spied on as a function: a subclass counts its constructions
    const Original = crypto.X509Certificate;
    let certificates = 0;
    crypto.X509Certificate = class extends Original {
      constructor(...args: any[]) {
        super(...args);
        certificates++;
      }
    };
    const locks = lockCount();
    try {
      fn();
      const counts: { [what: string]: number } = { locks: lockCount() - locks, X509Certificate: certificates };
      for (const [what, spy] of Object.entries(spies)) {
        counts[what] = spy.mock.calls.length;
      }
      return counts;
    } finally {
      crypto.X509Certificate = Original;
      Object.values(spies).forEach(spy => spy.mockRestore());
    }
  }

  test('a warm synth whose store matches the record does no crypto work, takes no lock and writes nothing', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    let second: ReturnType<typeof synthYaml> | undefined;
    const warm = countWork(() => {
      second = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    });
    expect(second!.yaml).toBe(first.yaml);
    expect(Object.entries(warm).filter(([, n]) => n > 0)).toEqual([]);
    // the counters see the work: without the record the same synth parses and checks everything again
    rmSync(storePaths(store).record);
    const cold = countWork(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }));
    expect(cold.X509Certificate).toBeGreaterThan(0);
    expect(cold.createPrivateKey).toBeGreaterThan(0);
    expect(cold.writeSync).toBeGreaterThan(0);
  });

  test('any change to the store, the request or the record means a full check again', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    const parseCerts = jest.spyOn(x509, 'parseCertificates');
    try {
      // a record whose dates were edited no longer matches its digest
      const record = JSON.parse(readFileSync(storePaths(store).record, 'utf8'));
      record.dates.notAfter += 86400_000;
      writeFileSync(storePaths(store).record, JSON.stringify(record));
      expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).yaml).toBe(first.yaml);
      expect(parseCerts).toHaveBeenCalled();
      parseCerts.mockClear();
      // the record was rewritten by the full check, so the next synth trusts it again
      synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      expect(parseCerts).not.toHaveBeenCalled();
      // a record that does not parse is only a miss
      writeFileSync(storePaths(store).record, '{');
      expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).yaml).toBe(first.yaml);
      expect(parseCerts).toHaveBeenCalled();
      parseCerts.mockClear();
      // a different request (another cluster domain) is checked, and reissued
      const moved = synthYaml({ clusterDomain: 'example.internal', servingTls: ServingTls.fromDedicatedCa({ store }) });
      expect(parseCerts).toHaveBeenCalled();
      expect(moved.keys).toBe(1);
    } finally {
      parseCerts.mockRestore();
    }
  });

  test('the record does not skip renewal: 340 days later the certificate is reissued', () => {
    const store = fixtureStore();
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    jest.useFakeTimers({ now: Date.now() + 340 * 86400_000, doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval'] });
    try {
      const later = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
      expect(later.keys).toBe(1);
      expect(later.construct.caBundle).toBe(first.construct.caBundle);
      expect(synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }).keys).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

function Duration_days(n: number) {
  return require('cdk8s').Duration.days(n);
}
