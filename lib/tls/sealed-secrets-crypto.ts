import { createCipheriv, createPublicKey, constants, KeyObject, publicEncrypt, randomBytes, X509Certificate } from 'crypto';

/**
 * sealed-secrets' hybrid encryption (pkg/crypto.HybridEncrypt), as
 * `kubeseal --cert` does it offline: a random 32-byte session key,
 * RSA-OAEP with SHA-256 and the scope label, then AES-256-GCM with a zero
 * nonce (the session key is used once); the value is
 * `uint16 len(rsa) || rsa ciphertext || aes ciphertext+tag`, base64.
 *
 * The label binds the ciphertext to where it may be opened: strict scope
 * `<namespace>/<name>`, namespace-wide `<namespace>`, cluster-wide empty.
 */

/** The RSA-OAEP label of a scope. */
export function sealingLabel(scope: 'strict' | 'namespace-wide' | 'cluster-wide', namespace: string, name: string): Buffer {
  if (scope === 'cluster-wide') {
    return Buffer.alloc(0);
  }
  return Buffer.from(scope === 'namespace-wide' ? namespace : `${namespace}/${name}`);
}

/** Encrypts one value to the controller's public key. */
export function hybridEncrypt(publicKey: KeyObject, plaintext: Buffer, label: Buffer): Buffer {
  const sessionKey = randomBytes(32);
  const rsa = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label }, sessionKey);
  const c = createCipheriv('aes-256-gcm', sessionKey, Buffer.alloc(12));
  const sealed = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(rsa.length);
  return Buffer.concat([len, rsa, sealed]);
}

/**
 * The controller's RSA public key from its certificate (`kubeseal
 * --fetch-cert`), checked as kubeseal checks it: an RSA key in an X.509
 * certificate. Throws naming `prop`, the source and the fix.
 */
export function controllerPublicKey(prop: string, pem: string, source: string, now: Date): { key: KeyObject; notAfter: Date; fingerprint: string } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e: any) {
    throw new Error(`${prop}: ${source} is not a PEM certificate (${e.message}); pass the controller's certificate, as 'kubeseal --fetch-cert > sealed-secrets.pem' writes it`, { cause: e });
  }
  const key = createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' }));
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`${prop}: the certificate in ${source} has a ${key.asymmetricKeyType} key; the sealed-secrets controller seals with RSA: pass its certificate ('kubeseal --fetch-cert')`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) {
    throw new Error(`${prop}: the certificate in ${source} has a ${bits}-bit RSA key; sealed-secrets controllers use 4096 bits (at least 2048): pass the controller's current certificate`);
  }
  // kubeseal seals with an expired certificate too (the controller keeps its old keys): the caller warns
  const notAfter = new Date(cert.validTo);
  void now;
  return { key, notAfter, fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
}
