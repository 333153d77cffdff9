// A certificate store as release 0.1 (commit 632fe04) wrote it, made at test
// time so that no private key is kept in git: the flat layout
// `{ca,tls}.{crt,key}` + `checked.json` (record version 2), with the
// certificates and keys that 0.1's lib/x509/pki.ts made (node-forge
// structures, PKCS#1 keys, LF line ends) and the record its issuance.ts wrote.
// The code below is 0.1's, reduced to the dedicated-CA path; the upgrade tests
// (store-layout, store-crash) adopt what it writes.
import { createHash, randomBytes, X509Certificate } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import * as forge from 'node-forge';

/** The options the upgrade tests use too (so that the store never expires). */
export const LEGACY_CA_VALIDITY_DAYS = 36500;
export const LEGACY_VALIDITY_DAYS = 36000;

const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const SERVICE = 'metrics-server.kube-system.svc';
const DNS_NAMES = ['metrics-server', 'metrics-server.kube-system', SERVICE, `${SERVICE}.cluster.local`];

const lf = (pem: string) => pem.replace(/\r\n/g, '\n');

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function setValidity(cert: forge.pki.Certificate, now: Date, days: number, notAfterMax?: Date): void {
  const start = Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000;
  let end = Math.floor(now.getTime() / 1000) * 1000 + days * DAY_MS;
  if (notAfterMax && end > notAfterMax.getTime()) {
    end = notAfterMax.getTime();
  }
  cert.validity.notBefore = new Date(start);
  cert.validity.notAfter = new Date(end);
}

/** 0.1's createCa: v3, CA:TRUE (critical), keyCertSign+cRLSign+digitalSignature, SKI, SHA-256. */
function createCa(now: Date): { cert: forge.pki.Certificate; keys: forge.pki.rsa.KeyPair } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  setValidity(cert, now, LEGACY_CA_VALIDITY_DAYS);
  const subject = [{ name: 'commonName', value: 'secure-metrics-server-ca' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, keys };
}

/** 0.1's issueServingCertificate (for a CA whose subject node-forge encodes as written). */
function issueServing(ca: { cert: forge.pki.Certificate; keys: forge.pki.rsa.KeyPair },
  now: Date): { cert: forge.pki.Certificate; keys: forge.pki.rsa.KeyPair } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  setValidity(cert, now, LEGACY_VALIDITY_DAYS, ca.cert.validity.notAfter);
  cert.setSubject([{ name: 'commonName', value: SERVICE }]);
  cert.setIssuer(ca.cert.subject.attributes);
  const caSki = ca.cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: DNS_NAMES.map(value => ({ type: 2, value })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki!.subjectKeyIdentifier!) },
  ]);
  cert.sign(ca.keys.privateKey, forge.md.sha256.create());
  return { cert, keys };
}

/** 0.1's check-record digest (CHECK_VERSION 2, keyBits 2048). */
function digest(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return hash.digest('hex');
}

/** Writes a 0.1 store into `dir` (files 0600 in a 0700 directory, as 0.1 wrote them). */
export function writeLegacyStore(dir: string, now = new Date()): void {
  const ca = createCa(now);
  const tls = issueServing(ca, now);
  const files: { [name: string]: string } = {
    'ca.crt': lf(forge.pki.certificateToPem(ca.cert)),
    'ca.key': lf(forge.pki.privateKeyToPem(ca.keys.privateKey)),
    'tls.crt': lf(forge.pki.certificateToPem(tls.cert)),
    'tls.key': lf(forge.pki.privateKeyToPem(tls.keys.privateKey)),
  };
  const caX = new X509Certificate(files['ca.crt']);
  const dates = {
    caSubject: caX.subject.replace(/\n/g, ', '),
    caNotBefore: ca.cert.validity.notBefore.getTime(),
    caNotAfter: ca.cert.validity.notAfter.getTime(),
    notBefore: tls.cert.validity.notBefore.getTime(),
    notAfter: tls.cert.validity.notAfter.getTime(),
  };
  const recordDigest = digest([
    '2', files['ca.crt'], files['ca.key'], files['tls.crt'], files['tls.key'],
    SERVICE, DNS_NAMES.join(','), '2048',
    JSON.stringify([dates.caSubject, dates.caNotBefore, dates.caNotAfter, dates.notBefore, dates.notAfter]),
  ]);
  files['checked.json'] = JSON.stringify({ version: 2, digest: recordDigest, dates }, undefined, 2) + '\n';
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  }
}
