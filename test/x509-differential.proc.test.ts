import { execFileSync, spawnSync } from 'child_process';
import { generateKeyPairSync, KeyObject } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { CertificateStore, KeyAlgorithm, Pem, ServingTls } from '../lib';
import { buildCertificate } from '../lib/x509/forge-adapter';
import { goVerifyBinary } from './go-verify-binary';
import { tmp } from './helpers';

// Differential test: the library's verdict on certificate and key material
// equals Go's (crypto/tls + crypto/x509, as kube-apiserver dials the
// APIService), for every shape generated below, in three modes:
// - fromPem(cert, key, bundle)  vs  a Go TLS handshake, client trusting only the bundle
// - fromCa(caCert, caKey)       vs  a Go handshake with a leaf openssl issues from that CA
//                                   (and, when the library accepts, its own leaf must pass Go
//                                   and `openssl verify -x509_strict`)
// - fromExistingSecret(bundle)  vs  Go's verdict on the bundle as roots (test/go-verify bundleVerdict)
// All shapes are made once per run (openssl and the library's own builder)
// and verified in ONE Go process (test/go-verify -batch).
//
// The reference is current Go: test/go-verify's go.mod says `go 1.26`, so Go
// runs with 1.26's defaults (RSA keys under 1024 bits and negative serial
// numbers refused, as kube-apiserver built with Go 1.24+ refuses them; no
// GODEBUG default of an older go line). Where the library is deliberately
// stricter than Go (a policy, never a Go version), the shape lists why in
// `deliberate`; for those the library must refuse.

const NAME = 'metrics-server';
const NS = 'kube-system';
const SERVER_NAME = `${NAME}.${NS}.svc`;
const ALL_NAMES = [NAME, `${NAME}.${NS}`, SERVER_NAME, `${SERVER_NAME}.cluster.local`];
const haveGo = spawnSync('go', ['version']).status === 0;

// ---- material --------------------------------------------------------------

interface Key { readonly pem: string; readonly file: string; readonly obj: KeyObject; readonly ed: boolean }
interface Cert { readonly pem: string; readonly file: string; readonly key: Key }

let dir = '';
let counter = 0;

function keyOf(obj: KeyObject): Key {
  const pem = obj.export({ type: 'pkcs8', format: 'pem' }) as string;
  const file = path.join(dir, `k${counter++}.pem`);
  writeFileSync(file, pem);
  return { pem, file, obj, ed: ['ed25519', 'ed448'].includes(obj.asymmetricKeyType ?? '') };
}

const gen = {
  rsa: (bits: number) => keyOf(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey),
  ec: (curve: string) => keyOf(generateKeyPairSync('ec', { namedCurve: curve }).privateKey),
  ed25519: () => keyOf(generateKeyPairSync('ed25519').privateKey),
  ed448: () => keyOf(generateKeyPairSync('ed448').privateKey),
  rsaPss: () => keyOf(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey),
};

interface CertOptions {
  readonly key: Key;
  readonly cn: string;
  readonly issuer?: Cert;
  /** openssl extension lines; undefined = a v1 certificate */
  readonly ext?: string[];
  readonly md?: string;
  readonly serial?: string;
  readonly days?: number;
}

const CA_EXT = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature', 'subjectKeyIdentifier=hash'];
const LEAF_EXT = (names: string[] = ALL_NAMES, more: string[] = []) => [
  'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
  ...(names.length ? [`subjectAltName=${names.map(n => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`] : []), ...more,
];

/** A certificate made by the openssl CLI. */
function cert(o: CertOptions): Cert {
  const n = counter++;
  const cfg = path.join(dir, `c${n}.cnf`);
  const file = path.join(dir, `c${n}.pem`);
  writeFileSync(cfg, `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=${o.cn}\n${o.ext ? `[ext]\n${o.ext.join('\n')}\n` : ''}`);
  const signer = o.issuer?.key ?? o.key;
  const args = ['req', '-x509', '-new', '-config', cfg, '-key', o.key.file, '-out', file, '-days', String(o.days ?? 90),
    '-set_serial', o.serial ?? String(1000 + n)];
  if (o.ext) {
    args.push('-extensions', 'ext');
  }
  if (!signer.ed) {
    args.push(`-${o.md ?? 'sha256'}`);
  }
  if (o.issuer) {
    args.push('-CA', o.issuer.file, '-CAkey', o.issuer.key.file);
  }
  execFileSync('openssl', args, { stdio: 'pipe' });
  return { pem: readFileSync(file, 'utf8'), file, key: o.key };
}

/** A certificate with given dates, made by the library's builder (openssl's CLI cannot backdate). */
function datedCert(key: Key, issuer: Cert, notBefore: Date, notAfter: Date): Cert {
  const der = buildCertificate({
    serialHex: '0a0b0c', notBefore, notAfter, commonName: SERVER_NAME, publicKey: key.obj, signerKey: issuer.key.obj,
    rawIssuer: subjectDer(issuer),
    extensions: [{ name: 'basicConstraints', cA: false, critical: true }, { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: ALL_NAMES.map(value => ({ type: 2, value })) }],
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { pem, file: '', key };
}

/** A self-signed CA with given dates, made by the library's builder. */
function datedCa(key: Key, cn: string, notBefore: Date, notAfter: Date): Cert {
  const der = buildCertificate({
    serialHex: (0x100 + counter++).toString(16), notBefore, notAfter, commonName: cn, publicKey: key.obj, signerKey: key.obj,
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  const file = path.join(dir, `ca${counter++}.pem`);
  writeFileSync(file, pem);
  return { pem, file, key };
}

function subjectDer(c: Cert): string {
  const { X509Certificate } = require('crypto');
  const x = new X509Certificate(c.pem);
  // the subject as DER, through the adapter's parser
  const { parseCertificateDer } = require('../lib/x509/forge-adapter');
  return parseCertificateDer(x.raw).rawSubject;
}

// ---- shapes ----------------------------------------------------------------

type Mode = 'fromPem' | 'fromCa' | 'fromExistingSecret';

interface Shape {
  readonly id: string;
  /** for fromPem: cert chain, key and bundle PEM */
  readonly pem?: { cert: string; key: string; bundle: string };
  /** for fromCa: a CA and its key (Go judges a leaf openssl issues from it) */
  readonly ca?: Cert;
  /** for fromExistingSecret: the bundle alone (default: pem.bundle or the CA) */
  readonly bundle?: string;
  /** modes where the library is deliberately stricter than Go, with the reason */
  readonly deliberate?: { [mode: string]: string };
}


function makeShapes(): Shape[] {
  const k = {
    rsa512: gen.rsa(512), rsa1024: gen.rsa(1024), rsaA: gen.rsa(2048), rsaB: gen.rsa(2048), rsaC: gen.rsa(2048),
    p224: gen.ec('secp224r1'), p256: gen.ec('prime256v1'), p256b: gen.ec('prime256v1'), p384: gen.ec('secp384r1'), p521: gen.ec('secp521r1'),
    k256: gen.ec('secp256k1'), ed: gen.ed25519(), ed448: gen.ed448(), pss: gen.rsaPss(),
  };
  const root = cert({ key: k.rsaA, cn: 'root', ext: CA_EXT });
  const rootPem = root.pem;
  const leafOf = (key: Key, o: Partial<CertOptions> = {}) => cert({ key, cn: SERVER_NAME, issuer: root, ext: LEAF_EXT(), ...o });
  const shapes: Shape[] = [];
  const pemShape = (id: string, c: string, key: string, bundle = rootPem, deliberate?: { [mode: string]: string }) =>
    shapes.push({ id, pem: { cert: c, key, bundle }, deliberate });

  // serving key types and sizes
  pemShape('leaf RSA 2048', leafOf(k.rsaB).pem, k.rsaB.pem);
  pemShape('leaf ECDSA P-256', leafOf(k.p256).pem, k.p256.pem);
  pemShape('leaf ECDSA P-384', leafOf(k.p384).pem, k.p384.pem);
  pemShape('leaf ECDSA P-521', leafOf(k.p521).pem, k.p521.pem);
  pemShape('leaf Ed25519', leafOf(k.ed).pem, k.ed.pem);
  pemShape('leaf ECDSA P-224 (no TLS signature scheme)', leafOf(k.p224).pem, k.p224.pem);
  pemShape('leaf ECDSA secp256k1', leafOf(k.k256).pem, k.k256.pem);
  pemShape('leaf RSA 1024 (weak, warned)', leafOf(k.rsa1024).pem, k.rsa1024.pem);
  pemShape('leaf RSA 512', leafOf(k.rsa512).pem, k.rsa512.pem, rootPem);
  pemShape('leaf Ed448', leafOf(k.ed448).pem, k.ed448.pem);
  pemShape('leaf RSA-PSS key', leafOf(k.pss).pem, k.pss.pem);
  // SAN forms
  pemShape('CN only, no SAN', leafOf(k.rsaB, { ext: LEAF_EXT([]) }).pem, k.rsaB.pem);
  pemShape('wildcard SAN *.kube-system.svc', leafOf(k.rsaB, { ext: LEAF_EXT([`*.${NS}.svc`]) }).pem, k.rsaB.pem);
  pemShape('wildcard SAN *.svc (two labels)', leafOf(k.rsaB, { ext: LEAF_EXT(['*.svc']) }).pem, k.rsaB.pem);
  pemShape('SAN for another name', leafOf(k.rsaB, { ext: LEAF_EXT(['other.kube-system.svc']) }).pem, k.rsaB.pem);
  pemShape('SAN in upper case', leafOf(k.rsaB, { ext: LEAF_EXT([SERVER_NAME.toUpperCase()]) }).pem, k.rsaB.pem);
  pemShape('IP SAN only', leafOf(k.rsaB, { ext: LEAF_EXT(['10.0.0.1']) }).pem, k.rsaB.pem);
  pemShape('DNS and IP SANs', leafOf(k.rsaB, { ext: LEAF_EXT([SERVER_NAME, '10.0.0.1']) }).pem, k.rsaB.pem);
  pemShape('SAN extension critical', leafOf(k.rsaB, { ext: LEAF_EXT([]).concat([`subjectAltName=critical,DNS:${SERVER_NAME}`]) }).pem, k.rsaB.pem);
  // EKU / KU / basicConstraints on the leaf
  const leafExt = (more: string[]) => [`subjectAltName=DNS:${SERVER_NAME}`, ...more];
  pemShape('leaf EKU clientAuth only', leafOf(k.rsaB, { ext: leafExt(['extendedKeyUsage=clientAuth']) }).pem, k.rsaB.pem);
  pemShape('leaf EKU serverAuth+clientAuth', leafOf(k.rsaB, { ext: leafExt(['extendedKeyUsage=serverAuth,clientAuth']) }).pem, k.rsaB.pem);
  pemShape('leaf EKU anyExtendedKeyUsage', leafOf(k.rsaB, { ext: leafExt(['extendedKeyUsage=anyExtendedKeyUsage']) }).pem, k.rsaB.pem);
  pemShape('leaf without EKU, KU or basicConstraints', leafOf(k.rsaB, { ext: leafExt([]) }).pem, k.rsaB.pem);
  pemShape('leaf KU keyCertSign only', leafOf(k.rsaB, { ext: leafExt(['keyUsage=critical,keyCertSign']) }).pem, k.rsaB.pem);
  pemShape('leaf is a CA (CA:TRUE)', leafOf(k.rsaB, { ext: leafExt(['basicConstraints=critical,CA:TRUE']) }).pem, k.rsaB.pem, rootPem,
    { fromPem: 'a serving certificate that may sign certificates: whoever holds the metrics-server key could mint certificates under the cluster CA' });
  pemShape('leaf unknown critical extension', leafOf(k.rsaB, { ext: LEAF_EXT(ALL_NAMES, ['1.2.3.4=critical,ASN1:NULL']) }).pem, k.rsaB.pem);
  pemShape('leaf unknown non-critical extension', leafOf(k.rsaB, { ext: LEAF_EXT(ALL_NAMES, ['1.2.3.4=ASN1:NULL']) }).pem, k.rsaB.pem);
  pemShape('leaf v1 (no extensions)', leafOf(k.rsaB, { ext: undefined }).pem, k.rsaB.pem);
  // signature algorithms, serials, validity
  pemShape('leaf signed SHA-1', leafOf(k.rsaB, { md: 'sha1' }).pem, k.rsaB.pem);
  pemShape('leaf signed SHA-384', leafOf(k.rsaB, { md: 'sha384' }).pem, k.rsaB.pem);
  pemShape('leaf signed SHA-512', leafOf(k.rsaB, { md: 'sha512' }).pem, k.rsaB.pem);
  pemShape('leaf negative serial', leafOf(k.rsaB, { serial: '-1234' }).pem, k.rsaB.pem, rootPem);
  const day = 86400_000;
  pemShape('leaf expired', datedCert(k.rsaB, root, new Date(Date.now() - 10 * day), new Date(Date.now() - day)).pem, k.rsaB.pem);
  pemShape('leaf not yet valid', datedCert(k.rsaB, root, new Date(Date.now() + day), new Date(Date.now() + 10 * day)).pem, k.rsaB.pem);
  // chains
  const mid = (o: Partial<CertOptions>) => cert({ key: k.rsaC, cn: 'intermediate', issuer: root, ext: CA_EXT, ...o });
  const viaMid = (m: Cert, names = ALL_NAMES) => cert({ key: k.p256, cn: SERVER_NAME, issuer: m, ext: LEAF_EXT(names) });
  const good = mid({});
  pemShape('chain leaf + intermediate', viaMid(good).pem + good.pem, k.p256.pem);
  pemShape('chain in the wrong order (intermediate first)', good.pem + viaMid(good).pem, k.p256.pem);
  pemShape('chain without its intermediate', viaMid(good).pem, k.p256.pem);
  pemShape('intermediate given in the bundle', viaMid(good).pem, k.p256.pem, rootPem + good.pem);
  const path0 = mid({ ext: [...CA_EXT, 'basicConstraints=critical,CA:TRUE,pathlen:0'] });
  pemShape('intermediate pathlen:0', viaMid(path0).pem + path0.pem, k.p256.pem);
  const root0 = cert({ key: k.rsaA, cn: 'root-pathlen0', ext: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign'] });
  const under0 = cert({ key: k.rsaC, cn: 'intermediate', issuer: root0, ext: CA_EXT });
  pemShape('root pathlen:0 with an intermediate', viaMid(under0).pem + under0.pem, k.p256.pem, root0.pem);
  const notCa = mid({ ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyCertSign'] });
  pemShape('intermediate CA:FALSE', viaMid(notCa).pem + notCa.pem, k.p256.pem);
  const noSign = mid({ ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature'] });
  pemShape('intermediate without keyCertSign', viaMid(noSign).pem + noSign.pem, k.p256.pem);
  const midClient = mid({ ext: [...CA_EXT, 'extendedKeyUsage=clientAuth'] });
  pemShape('intermediate EKU clientAuth only', viaMid(midClient).pem + midClient.pem, k.p256.pem);
  const midServer = mid({ ext: [...CA_EXT, 'extendedKeyUsage=serverAuth'] });
  pemShape('intermediate EKU serverAuth', viaMid(midServer).pem + midServer.pem, k.p256.pem);
  const midNc = mid({ ext: [...CA_EXT, 'nameConstraints=critical,permitted;DNS:kube-system.svc'] });
  pemShape('intermediate permits kube-system.svc, leaf inside', viaMid(midNc, [SERVER_NAME]).pem + midNc.pem, k.p256.pem);
  pemShape('intermediate permits kube-system.svc, leaf has more names', viaMid(midNc).pem + midNc.pem, k.p256.pem);
  const midCrit = mid({ ext: [...CA_EXT, '1.2.3.4=critical,ASN1:NULL'] });
  pemShape('intermediate unknown critical extension', viaMid(midCrit).pem + midCrit.pem, k.p256.pem);

  // name constraints on email and URI SANs (Go checks them on every CA of the chain)
  const dnsSans = ALL_NAMES.map(n => `DNS:${n}`).join(',');
  const withSans = (extra: string) => LEAF_EXT([]).concat([`subjectAltName=${dnsSans},${extra}`]);
  const ncCa = (cn: string, nc: string) => cert({ key: k.rsaC, cn, ext: [...CA_EXT, `nameConstraints=critical,${nc}`] });
  const ncShape = (id: string, nc: string, sans: string, deliberate?: { [mode: string]: string }) => {
    const ca = ncCa(`nc-${counter}`, nc);
    pemShape(`nameConstraints ${nc}; leaf SAN ${sans}`.concat(id ? ` (${id})` : ''), cert({ key: k.p256, cn: SERVER_NAME, issuer: ca, ext: withSans(sans) }).pem, k.p256.pem, ca.pem, deliberate);
  };
  ncShape('', 'permitted;email:example.com', 'email:ops@example.com');
  ncShape('', 'permitted;email:example.com', 'email:ops@other.org');
  ncShape('', 'permitted;email:.example.com', 'email:ops@example.com');
  ncShape('', 'permitted;email:.example.com', 'email:ops@mail.example.com');
  ncShape('', 'excluded;email:ops@example.com', 'email:ops@example.com');
  ncShape('', 'excluded;email:ops@example.com', 'email:dev@EXAMPLE.com');
  ncShape('excluded wins', 'permitted;email:example.com,excluded;email:.example.com', 'email:ops@mail.example.com');
  ncShape('excluded wins', 'permitted;URI:example.com,excluded;URI:api.example.com', 'URI:https://api.example.com/');
  ncShape('', 'permitted;DNS:svc,permitted;DNS:kube-system,permitted;DNS:metrics-server,permitted;DNS:local', 'email:not-a-mailbox');
  ncShape('no constraint on it', 'excluded;DNS:example.com', 'email:ops@example.com');
  ncShape('', `permitted;URI:${NS}.svc,permitted;DNS:svc,permitted;DNS:kube-system,permitted;DNS:metrics-server,permitted;DNS:local`, `URI:spiffe://${SERVER_NAME}/ns/${NS}/sa/${NAME}`);
  ncShape('', 'excluded;URI:.example.com', 'URI:https://api.example.com:8443/x');
  ncShape('', 'excluded;URI:.example.com', 'URI:https://example.com/x');
  ncShape('', 'permitted;URI:example.com', 'URI:https://10.0.0.1/');
  ncShape('', 'excluded;URI:example.com', 'URI:urn:example:metrics');
  ncShape('no URI constraint', 'excluded;DNS:example.com', 'URI:https://10.0.0.1/');
  ncShape('no URI constraint', 'excluded;email:example.com', 'URI:https://10.0.0.1/,email:ops@example.org');
  // constraints on the intermediate only, then on the root only
  const midEmail = mid({ ext: [...CA_EXT, 'nameConstraints=critical,permitted;email:example.com'] });
  pemShape('intermediate permits email:example.com, leaf email:ops@other.org',
    cert({ key: k.p256, cn: SERVER_NAME, issuer: midEmail, ext: withSans('email:ops@other.org') }).pem + midEmail.pem, k.p256.pem);
  pemShape('intermediate permits email:example.com, leaf email:ops@example.com',
    cert({ key: k.p256, cn: SERVER_NAME, issuer: midEmail, ext: withSans('email:ops@example.com') }).pem + midEmail.pem, k.p256.pem);
  const rootUri = cert({ key: k.rsaA, cn: 'root-uri', ext: [...CA_EXT, 'nameConstraints=critical,excluded;URI:example.com'] });
  const underUri = cert({ key: k.rsaC, cn: 'intermediate', issuer: rootUri, ext: CA_EXT });
  pemShape('root excludes URI:example.com, leaf under its intermediate has URI:https://example.com',
    cert({ key: k.p256, cn: SERVER_NAME, issuer: underUri, ext: withSans('URI:https://example.com/') }).pem + underUri.pem, k.p256.pem, rootUri.pem);

  // chain building: Go tries every candidate issuer with the issuer's name, and backtracks
  const twinA = cert({ key: k.rsaA, cn: 'same-name-root', ext: CA_EXT });
  const twinB = cert({ key: k.rsaC, cn: 'same-name-root', ext: CA_EXT });
  pemShape('two roots with the same subject, the second signs the leaf', cert({ key: k.p256, cn: SERVER_NAME, issuer: twinB, ext: LEAF_EXT() }).pem, k.p256.pem, twinA.pem + twinB.pem);
  const otherRoot = cert({ key: k.rsaB, cn: 'other-root', ext: CA_EXT });
  const crossOther = cert({ key: k.rsaC, cn: 'cross', issuer: otherRoot, ext: CA_EXT });
  const crossRoot = cert({ key: k.rsaC, cn: 'cross', issuer: root, ext: CA_EXT });
  const crossLeaf = viaMid(crossRoot);
  pemShape('cross-signed intermediate, the untrusted path first', crossLeaf.pem + crossOther.pem + crossRoot.pem, k.p256.pem);
  pemShape('cross-signed intermediate, only the untrusted path', crossLeaf.pem + crossOther.pem, k.p256.pem);
  const oldRoot = datedCa(k.rsaA, 'rotated-root', new Date(Date.now() - 400 * day), new Date(Date.now() - day));
  const newRoot = datedCa(k.rsaA, 'rotated-root', new Date(Date.now() - day), new Date(Date.now() + 400 * day));
  const rotLeaf = cert({ key: k.p256, cn: SERVER_NAME, issuer: newRoot, ext: LEAF_EXT() }).pem;
  pemShape('expired root and renewed root, same subject and key (rotation)', rotLeaf, k.p256.pem, oldRoot.pem + newRoot.pem);
  pemShape('expired root alone, same subject and key', rotLeaf, k.p256.pem, oldRoot.pem);
  const newKeyRoot = cert({ key: k.rsaB, cn: 'rotation-ca', ext: CA_EXT });
  const oldKeyRoot = cert({ key: k.rsaC, cn: 'rotation-ca', ext: CA_EXT });
  pemShape('ca rotate bundle: old and new CA, same subject, leaf from the new', cert({ key: k.p256, cn: SERVER_NAME, issuer: newKeyRoot, ext: LEAF_EXT() }).pem, k.p256.pem, oldKeyRoot.pem + newKeyRoot.pem);
  pemShape('ca rotate bundle: old and new CA, same subject, leaf from the old', cert({ key: k.p256, cn: SERVER_NAME, issuer: oldKeyRoot, ext: LEAF_EXT() }).pem, k.p256.pem, oldKeyRoot.pem + newKeyRoot.pem);
  const midExcl = mid({ ext: [...CA_EXT, `nameConstraints=critical,excluded;DNS:${NS}.svc`] });
  pemShape('two intermediates, same subject and key: the first excludes the name, the second does not', viaMid(good).pem + midExcl.pem + good.pem, k.p256.pem);
  pemShape('two intermediates, same subject and key: only the one that excludes the name', viaMid(good).pem + midExcl.pem, k.p256.pem);
  const midOld = mid({ ext: [...CA_EXT, 'extendedKeyUsage=clientAuth'] });
  pemShape('two intermediates, same subject and key: the first lacks serverAuth', viaMid(good).pem + midOld.pem + good.pem, k.p256.pem);

  // PEM variants and encodings
  const leaf = leafOf(k.p256b).pem;
  const key = k.p256b.pem;
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  pemShape('PEM with CRLF line ends', crlf(leaf), crlf(key), crlf(rootPem));
  pemShape('PEM with text before and after', `subject=CN = x\n${leaf}trailing\n`, `# key\n${key}junk`, `Bag Attributes\n${rootPem}end\n`);
  pemShape('certificate block with headers', leaf.replace('-----\n', '-----\nComment: x\n\n'), key);
  pemShape('bundle block with headers', leaf, key, rootPem.replace('-----\n', '-----\nComment: x\n\n'));
  pemShape('bundle with a private key block too', leaf, key, rootPem + k.rsaA.pem);
  pemShape('key file: the right key, then another', leaf, key + k.rsaA.pem);
  pemShape('key file: another key first', leaf, k.rsaA.pem + key);
  const sec1 = k.p256b.obj.export({ type: 'sec1', format: 'pem' }) as string;
  pemShape('key SEC1 (EC PRIVATE KEY)', leaf, sec1);
  pemShape('key SEC1 after an EC PARAMETERS block', leaf, '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + sec1);
  pemShape('key PKCS#1 RSA', leafOf(k.rsaB).pem, k.rsaB.obj.export({ type: 'pkcs1', format: 'pem' }) as string);
  pemShape('key encrypted PKCS#8', leaf, k.p256b.obj.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string);
  pemShape('key encrypted, legacy Proc-Type', leaf, k.p256b.obj.export({ type: 'sec1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' }) as string);
  pemShape('key with a broken base64 body', leaf, key.replace(/\n(.)/, '\n!$1'));
  pemShape('key without its END line', leaf, key.replace(/-----END[^\n]*\n/, ''));
  pemShape('certificate END line names another type', leaf.replace('END CERTIFICATE', 'END X509 CRL'), key);
  pemShape('certificate in DER, not PEM', Buffer.from(leaf.split('\n').slice(1, -2).join(''), 'base64').toString('binary'), key);

  // roots / CAs: each is checked in all three modes
  const caShape = (id: string, ca: Cert, deliberate?: { [mode: string]: string }) => {
    const leafKey = k.p256b;
    const leafPem = cert({ key: leafKey, cn: SERVER_NAME, issuer: ca, ext: LEAF_EXT() }).pem;
    shapes.push({ id: `CA ${id}`, ca, pem: { cert: leafPem, key: leafKey.pem, bundle: ca.pem }, deliberate });
  };
  caShape('RSA 2048', root);
  caShape('RSA 1024 (weak, warned)', cert({ key: k.rsa1024, cn: 'ca-1024', ext: CA_EXT }));
  caShape('RSA 512', cert({ key: k.rsa512, cn: 'ca-512', ext: CA_EXT }));
  caShape('ECDSA P-256 (k3s, RKE2)', cert({ key: k.p256, cn: 'k3s-server-ca', ext: CA_EXT }));
  caShape('ECDSA P-384', cert({ key: k.p384, cn: 'ca-p384', ext: CA_EXT }));
  caShape('ECDSA P-521', cert({ key: k.p521, cn: 'ca-p521', ext: CA_EXT }));
  caShape('Ed25519', cert({ key: k.ed, cn: 'ca-ed25519', ext: CA_EXT }));
  caShape('ECDSA P-224', cert({ key: k.p224, cn: 'ca-p224', ext: CA_EXT }),
    { fromCa: 'the library signs with P-256, P-384 and P-521 only (Go pairs no TLS or modern signature use with P-224); issue the certificate yourself and use fromPem' });
  caShape('ECDSA secp256k1', cert({ key: k.k256, cn: 'ca-k256', ext: CA_EXT }));
  caShape('self-signed with SHA-1 (warned)', cert({ key: k.rsaA, cn: 'ca-sha1', ext: CA_EXT, md: 'sha1' }));
  caShape('EKU clientAuth only', cert({ key: k.rsaA, cn: 'ca-client', ext: [...CA_EXT, 'extendedKeyUsage=clientAuth'] }));
  caShape('EKU serverAuth', cert({ key: k.rsaA, cn: 'ca-server', ext: [...CA_EXT, 'extendedKeyUsage=serverAuth'] }));
  caShape('nameConstraints excluded DNS:svc', cert({ key: k.rsaA, cn: 'ca-nc1', ext: [...CA_EXT, 'nameConstraints=critical,excluded;DNS:svc'] }));
  caShape('nameConstraints permitted DNS:example.com', cert({ key: k.rsaA, cn: 'ca-nc2', ext: [...CA_EXT, 'nameConstraints=critical,permitted;DNS:example.com'] }));
  caShape('nameConstraints permitting every Service name', cert({ key: k.rsaA, cn: 'ca-nc3', ext: [...CA_EXT, `nameConstraints=critical,permitted;DNS:${NAME},permitted;DNS:${NS},permitted;DNS:svc,permitted;DNS:cluster.local`] }));
  caShape('nameConstraints excluded IP only', cert({ key: k.rsaA, cn: 'ca-nc4', ext: [...CA_EXT, 'nameConstraints=critical,excluded;IP:10.0.0.0/255.0.0.0'] }));
  caShape('nameConstraints permitted email only', cert({ key: k.rsaA, cn: 'ca-nc5', ext: [...CA_EXT, 'nameConstraints=critical,permitted;email:example.com'] }));
  caShape('nameConstraints with a directory name', cert({ key: k.rsaA, cn: 'ca-nc6', ext: [...CA_EXT, 'nameConstraints=critical,permitted;dirName:dir_sect'].concat(['[dir_sect]', 'CN=x']) }));
  caShape('nameConstraints permitted URI only', cert({ key: k.rsaA, cn: 'ca-nc7', ext: [...CA_EXT, 'nameConstraints=critical,permitted;URI:example.com'] }));
  caShape('nameConstraints URI constraint that is an IP (Go cannot parse it)', cert({ key: k.rsaA, cn: 'ca-nc8', ext: [...CA_EXT, 'nameConstraints=critical,excluded;URI:10.0.0.1'] }));
  caShape('nameConstraints malformed email mailbox (Go cannot parse it)', cert({ key: k.rsaA, cn: 'ca-nc9', ext: [...CA_EXT, 'nameConstraints=critical,permitted;email:a..b@example.com'] }));
  caShape('nameConstraints exact mailbox', cert({ key: k.rsaA, cn: 'ca-nc10', ext: [...CA_EXT, 'nameConstraints=critical,excluded;email:root@example.com'] }));
  caShape('nameConstraints excluded DNS:kube-system.svc, permitted DNS:svc (excluded wins)', cert({ key: k.rsaA, cn: 'ca-nc11', ext: [...CA_EXT, `nameConstraints=critical,permitted;DNS:svc,excluded;DNS:${NS}.svc`] }));
  caShape('unknown critical extension', cert({ key: k.rsaA, cn: 'ca-crit', ext: [...CA_EXT, '1.2.3.4=critical,ASN1:NULL'] }));
  caShape('keyUsage without keyCertSign', cert({ key: k.rsaA, cn: 'ca-nosign', ext: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature'] }));
  caShape('CA:FALSE', cert({ key: k.rsaA, cn: 'ca-false', ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,keyCertSign'] }));
  caShape('v3 without basicConstraints', cert({ key: k.rsaA, cn: 'ca-nobc', ext: ['keyUsage=critical,keyCertSign'] }));
  caShape('v1 (no extensions)', cert({ key: k.rsaA, cn: 'ca-v1' }), {
    fromPem: 'an X.509 v1 root: Go accepts it as a root, but RFC 5280 CAs are v3 and every distribution makes v3 cluster CAs',
    fromCa: 'an X.509 v1 root: as above', fromExistingSecret: 'an X.509 v1 root: as above',
  });
  caShape('pathlen:0', cert({ key: k.rsaA, cn: 'ca-pathlen0', ext: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign'] }));
  caShape('signed SHA-384', cert({ key: k.rsaA, cn: 'ca-sha384', ext: CA_EXT, md: 'sha384' }));
  return shapes;
}

// ---- the library's verdicts ------------------------------------------------

const NOW = () => new Date();

function bind(servingTls: ServingTls): { ok: boolean; message: string; secret?: any; warnings?: string[] } {
  const chart = new Chart(Testing.app(), 'c');
  try {
    const config = (servingTls as any)._bind(chart, {
      prop: 'servingTls', namespace: NS, serviceName: NAME, clusterDomain: 'cluster.local', labels: {}, now: NOW(),
    });
    return { ok: true, message: 'ok', secret: config.secret?.toJson(), warnings: config.warnings };
  } catch (e: any) {
    return { ok: false, message: e.message };
  }
}

interface Row {
  readonly shape: Shape;
  readonly mode: Mode;
  readonly library: { ok: boolean; message: string; warnings?: string[] };
  readonly goCase: string;
  readonly deliberate?: string;
  readonly alsoHandshake?: boolean;
}

(haveGo ? describe : describe.skip)('the library agrees with Go crypto/x509 on every shape', () => {
  let rows: Row[] = [];
  let results: { [id: string]: { handshake: string; bundle: string } } = {};
  let shapes: Shape[] = [];
  const libraryLeaves: Array<{ id: string; cert: string; ca: string }> = [];
  let seconds = 0;

  beforeAll(() => {
    const started = Date.now();
    const bin = goVerifyBinary();
    dir = tmp('sms-x509-');
    shapes = makeShapes();
    const cases: any[] = [];
    const addCase = (id: string, c: { cert?: string; key?: string; bundle: string }) => {
      cases.push({ id, cert: c.cert ?? '', key: c.key ?? '', bundle: c.bundle, serverName: SERVER_NAME });
      return id;
    };
    for (const shape of shapes) {
      if (shape.pem) {
        const p = shape.pem;
        const library = bind(ServingTls.fromPem({ certificate: Pem.fromString(p.cert), privateKey: Pem.fromString(p.key),
          caBundle: Pem.fromString(p.bundle) }));
        rows.push({ shape, mode: 'fromPem', library, goCase: addCase(`${shape.id}/pem`, p), deliberate: shape.deliberate?.fromPem });
        if (library.ok) {
          // only the key that matches the certificate reaches the Secret
          const written = Buffer.from(library.secret.data['tls.key'], 'base64').toString();
          expect(written.match(/BEGIN/g)).toHaveLength(1);
        }
      }
      const bundle = shape.bundle ?? (shape.ca ? shape.ca.pem : shape.pem!.bundle);
      rows.push({
        shape, mode: 'fromExistingSecret',
        library: bind(ServingTls.fromExistingSecret({ secretName: 'tls', caBundle: Pem.fromString(bundle) })),
        goCase: addCase(`${shape.id}/bundle`, { bundle }),
        // for a CA: the Secret would hold a correct serving certificate from it, so Go's handshake
        // with the reference leaf is part of the verdict (name constraints, EKU, key types)
        alsoHandshake: shape.ca !== undefined,
        deliberate: shape.deliberate?.fromExistingSecret,
      });
      if (shape.ca) {
        const store = CertificateStore.fromDirectory(path.join(dir, `store-${counter++}`));
        // ECDSA serving keys keep the run fast; one RSA CA follows its own type (RSA 2048)
        const keyAlgorithm = shape.id === 'CA RSA 2048' ? undefined : KeyAlgorithm.ECDSA_P256;
        const library = bind(ServingTls.fromCa({ caCertificate: Pem.fromString(shape.ca.pem), caKey: Pem.fromString(shape.ca.key.pem), store, keyAlgorithm }));
        rows.push({ shape, mode: 'fromCa', library, goCase: `${shape.id}/pem`, deliberate: shape.deliberate?.fromCa });
        if (library.ok) {
          const decode = (k: string) => Buffer.from(library.secret.data[k], 'base64').toString();
          addCase(`${shape.id}/library-leaf`, { cert: decode('tls.crt'), key: decode('tls.key'), bundle: shape.ca.pem });
          libraryLeaves.push({ id: shape.id, cert: decode('tls.crt'), ca: shape.ca.file });
        }
      }
    }
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify(cases));
    const out = JSON.parse(execFileSync(bin, ['-batch', manifest], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    for (const r of out) {
      results[r.id] = { handshake: r.Handshake ?? r.handshake, bundle: r.Bundle ?? r.bundle };
    }
    seconds = (Date.now() - started) / 1000;
  }, 120_000);

  afterAll(() => {
    const count = (mode: Mode, ok: boolean) => rows.filter(r => r.mode === mode && r.library.ok === ok).length;
    process.stdout.write(`x509 differential: ${shapes.length} shapes, ${rows.length} verdicts `
      + `(fromPem ${count('fromPem', true)} accepted / ${count('fromPem', false)} refused, `
      + `fromCa ${count('fromCa', true)}/${count('fromCa', false)}, fromExistingSecret ${count('fromExistingSecret', true)}/${count('fromExistingSecret', false)}), `
      + `${rows.filter(r => r.deliberate).length} deliberate differences, generation + Go in ${seconds.toFixed(1)} s\n`);
    if (process.env.X509_DIFFERENTIAL_TABLE) {
      const go = (r: Row) => (r.mode === 'fromExistingSecret' ? results[r.goCase]?.bundle : results[r.goCase]?.handshake);
      writeFileSync(process.env.X509_DIFFERENTIAL_TABLE, rows.map(r => `${r.shape.id}\t${r.mode}\t${r.library.ok ? 'accept' : 'refuse'}\t${go(r)}\t${r.deliberate ?? ''}\t${r.library.ok ? '' : r.library.message}`).join('\n') + '\n');
    }
    rows = [];
    results = {};
  });

  test('at least 60 shapes', () => {
    expect(shapes.length).toBeGreaterThanOrEqual(60);
  });

  test('every verdict equals Go\'s, except the listed deliberate strictness', () => {
    const goOk = (r: Row) => (r.mode === 'fromExistingSecret'
      ? results[r.goCase].bundle === 'ok' && (!r.alsoHandshake || results[`${r.shape.id}/pem`].handshake === 'ok')
      : results[r.goCase].handshake === 'ok');
    const disagreements = rows
      .filter(r => (r.deliberate ? r.library.ok : r.library.ok !== goOk(r)))
      .map(r => `${r.shape.id} [${r.mode}]: library ${r.library.ok ? 'accepts' : `refuses (${r.library.message})`}, Go ${r.mode === 'fromExistingSecret' ? `bundle ${results[r.goCase].bundle}${r.alsoHandshake ? `, handshake ${results[`${r.shape.id}/pem`].handshake}` : ''}` : results[r.goCase].handshake}`);
    expect(disagreements).toEqual([]);
  });

  test('every refusal names the prop', () => {
    const bad = rows.filter(r => !r.library.ok && !/^servingTls\.(certificate|privateKey|caBundle|caCertificate|caKey)?:? ?/.test(r.library.message));
    expect(bad.map(r => `${r.shape.id} [${r.mode}]: ${r.library.message}`)).toEqual([]);
  });

  test('every certificate the library issues passes Go and openssl verify -x509_strict', () => {
    expect(libraryLeaves.length).toBeGreaterThanOrEqual(8);
    for (const leaf of libraryLeaves) {
      expect(`${leaf.id}: ${results[`CA ${leaf.id.replace(/^CA /, '')}/library-leaf`]?.handshake ?? results[`${leaf.id}/library-leaf`].handshake}`).toBe(`${leaf.id}: ok`);
      const file = path.join(dir, `lib-${counter++}.pem`);
      writeFileSync(file, leaf.cert);
      const r = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', leaf.ca, file], { encoding: 'utf8' });
      expect(`${leaf.id}: ${r.stdout.trim()}${r.stderr.trim()}`).toBe(`${leaf.id}: ${file}: OK`);
    }
  });

  test('weak but valid material is accepted with a warning', () => {
    const warned = (id: string, mode: Mode) => rows.find(r => r.shape.id === id && r.mode === mode)!.library.warnings ?? [];
    expect(warned('leaf RSA 1024 (weak, warned)', 'fromPem')).toEqual([expect.stringMatching(/^servingTls\.certificate: the serving certificate .* has an RSA key of 1024 bits, which is weak/)]);
    expect(warned('CA RSA 1024 (weak, warned)', 'fromExistingSecret')).toEqual([expect.stringMatching(/^servingTls\.caBundle: the CA certificate \(CN=ca-1024\) has an RSA key of 1024 bits/)]);
    expect(warned('CA RSA 1024 (weak, warned)', 'fromCa')).toEqual([expect.stringMatching(/^servingTls\.caCertificate: the CA certificate \(CN=ca-1024\) has an RSA key of 1024 bits/)]);
    expect(warned('CA self-signed with SHA-1 (warned)', 'fromPem')).toEqual([expect.stringMatching(/^servingTls\.caBundle: the CA certificate \(CN=ca-sha1\) signs itself with sha1WithRSAEncryption/)]);
    expect(warned('CA self-signed with SHA-1 (warned)', 'fromCa')).toHaveLength(1);
    expect(warned('leaf RSA 2048', 'fromPem')).toEqual([]);
  });

  test('the wrong order says leaf first', () => {
    const row = rows.find(r => r.shape.id.startsWith('chain in the wrong order') && r.mode === 'fromPem')!;
    expect(row.library.message).toMatch(/wrong order.*put the leaf first/);
  });
});

test('Go is there under CI, and test/go-verify runs on current Go with its own defaults (no GODEBUG of an older go line)', () => {
  expect(haveGo || !process.env.CI).toBe(true);
  if (!haveGo) {
    return;
  }
  const v = JSON.parse(execFileSync(goVerifyBinary(), ['-version'], { encoding: 'utf8' }));
  const [major, minor] = /^go(\d+)\.(\d+)/.exec(v.go)!.slice(1).map(Number);
  expect(major * 100 + minor).toBeGreaterThanOrEqual(126);
  // an older `go` line in go.mod switches old behaviour back on (Go 1.19's accepted both)
  expect(v.defaultGodebug).not.toMatch(/x509negativeserial|rsa1024min/);
  expect(v.defaultGodebug).toBe('');
});
