import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, KeyObject, randomBytes, timingSafeEqual } from 'crypto';
import { bech32Decode, bech32Encode } from './bech32';

/**
 * The age file format v1 (age-encryption.org/v1) with X25519 recipients, on
 * Node's crypto: X25519, HKDF-SHA-256, HMAC-SHA-256 and ChaCha20-Poly1305.
 * SOPS keeps its data key as an armored age file per recipient; this is
 * what it reads and writes. Only the X25519 stanza is implemented (what
 * `age-keygen` makes and SOPS's `age:` recipients are); scrypt and ssh
 * recipients are not (a file for them is refused by name).
 *
 * @see https://age-encryption.org/v1
 */

const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** An age X25519 identity (secret key) with its recipient (public key). */
export interface AgeIdentity {
  /** `AGE-SECRET-KEY-1...` */
  readonly identity: string;
  /** `age1...` */
  readonly recipient: string;
  /** @internal */
  readonly _secret: Buffer;
  /** @internal */
  readonly _public: Buffer;
}

function b64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

function unb64(text: string, what: string): Buffer {
  // age uses canonical base64 without padding
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) {
    throw new Error(`age: ${what} is not unpadded base64`);
  }
  const data = Buffer.from(text, 'base64');
  if (b64(data) !== text) {
    throw new Error(`age: ${what} is not canonical base64`);
  }
  return data;
}

function privateKeyOf(secret: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, secret]), format: 'der', type: 'pkcs8' });
}

function publicKeyOf(pub: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, pub]), format: 'der', type: 'spki' });
}

function rawPublic(key: KeyObject): Buffer {
  return (createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_X25519.length);
}

function rawSecret(key: KeyObject): Buffer {
  return (key.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(PKCS8_X25519.length);
}

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function sealChaCha(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function openChaCha(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < 16) {
    return undefined;
  }
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    return undefined;
  }
}

function identityFromSecret(secret: Buffer): AgeIdentity {
  const pub = rawPublic(privateKeyOf(secret));
  return {
    identity: bech32Encode('age-secret-key-', secret).toUpperCase(),
    recipient: bech32Encode('age', pub),
    _secret: secret,
    _public: pub,
  };
}

/** A new X25519 identity, as `age-keygen` makes. */
export function generateAgeIdentity(): AgeIdentity {
  const { privateKey } = generateKeyPairSync('x25519');
  return identityFromSecret(rawSecret(privateKey));
}

/** An age key file, as `age-keygen` writes it. */
export function ageKeyFile(identity: AgeIdentity, created: Date): string {
  return `# created: ${created.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n# public key: ${identity.recipient}\n${identity.identity}\n`;
}

/**
 * Parses an `age1...` recipient; throws naming the value and the fix.
 * @param what the prop or source, for the error
 */
export function parseAgeRecipient(recipient: string, what: string): Buffer {
  const decoded = typeof recipient === 'string' ? bech32Decode(recipient.trim()) : undefined;
  if (!decoded || decoded.hrp !== 'age' || decoded.data.length !== 32 || recipient.trim() !== recipient.trim().toLowerCase()) {
    throw new Error(`${what}: '${String(recipient).slice(0, 80)}' is not an age X25519 recipient; use the public key that 'age-keygen' prints ('age1' and 58 characters), e.g. from 'age-keygen -y keys.txt'`);
  }
  return decoded.data;
}

/** The recipient of an `AGE-SECRET-KEY-1...` identity. */
export function parseAgeIdentity(line: string, what: string): AgeIdentity {
  const decoded = bech32Decode(line.trim());
  if (!decoded || decoded.hrp !== 'age-secret-key-' || decoded.data.length !== 32 || line.trim() !== line.trim().toUpperCase()) {
    throw new Error(`${what}: a line is not an age X25519 identity (expected 'AGE-SECRET-KEY-1...', as 'age-keygen' writes); the key is not shown`);
  }
  return identityFromSecret(decoded.data);
}

/**
 * The identities of an age key file: one `AGE-SECRET-KEY-1...` a line,
 * `#` comments and blank lines ignored (age's identity file format).
 */
export function parseAgeKeyFile(text: string, source: string): AgeIdentity[] {
  const ids: AgeIdentity[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    ids.push(parseAgeIdentity(line, source));
  }
  if (ids.length === 0) {
    throw new Error(`${source}: no age identity in it; make one with 'age-keygen -o keys.txt'`);
  }
  return ids;
}

/** Encrypts to X25519 recipients: the binary age file. */
export function ageEncrypt(plaintext: Buffer, recipients: string[]): Buffer {
  if (recipients.length === 0) {
    throw new Error('age: no recipient to encrypt to');
  }
  const fileKey = randomBytes(16);
  let header = `${VERSION_LINE}\n`;
  for (const r of recipients) {
    const pub = parseAgeRecipient(r, 'age recipient');
    const { privateKey } = generateKeyPairSync('x25519');
    const share = rawPublic(privateKey);
    const shared = diffieHellman({ privateKey, publicKey: publicKeyOf(pub) });
    const wrapKey = hkdf(shared, Buffer.concat([share, pub]), X25519_INFO);
    const body = sealChaCha(wrapKey, Buffer.alloc(12), fileKey);
    header += `-> X25519 ${b64(share)}\n${wrapLines(b64(body))}\n`;
  }
  header += '---';
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(header).digest();
  header += ` ${b64(mac)}\n`;
  const nonce = randomBytes(16);
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  const chunks: Buffer[] = [Buffer.from(header, 'latin1'), nonce];
  let offset = 0;
  let counter = 0;
  do {
    const piece = plaintext.subarray(offset, offset + CHUNK);
    offset += piece.length;
    const last = offset >= plaintext.length;
    chunks.push(sealChaCha(payloadKey, streamNonce(counter++, last), piece));
  } while (offset < plaintext.length);
  return Buffer.concat(chunks);
}

function wrapLines(text: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) {
    lines.push(text.slice(i, i + 64));
  }
  // a body whose length is a multiple of 64 columns ends with an empty line
  if (text.length % 64 === 0) {
    lines.push('');
  }
  return lines.join('\n');
}

function streamNonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/** The ASCII armor of an age file (what SOPS stores per recipient). */
export function ageArmor(binary: Buffer): string {
  const text = binary.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 64) {
    lines.push(text.slice(i, i + 64));
  }
  return `${ARMOR_BEGIN}\n${lines.join('\n')}\n${ARMOR_END}\n`;
}

function unarmor(text: string): Buffer {
  const t = text.trim();
  if (!t.startsWith(ARMOR_BEGIN) || !t.endsWith(ARMOR_END)) {
    throw new Error('age: not an armored age file');
  }
  const body = t.slice(ARMOR_BEGIN.length, t.length - ARMOR_END.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*=*$/.test(body)) {
    throw new Error('age: the armor is not base64');
  }
  return Buffer.from(body, 'base64');
}

/**
 * Decrypts an age file (binary or armored) with any of the identities.
 * Throws `no identity matched` (with `code` 'AGE_NO_IDENTITY') when none of
 * them is a recipient, and on any damage to the header or payload.
 */
export function ageDecrypt(file: Buffer | string, identities: AgeIdentity[]): Buffer {
  const data = typeof file === 'string' ? unarmor(file) : (file.subarray(0, ARMOR_BEGIN.length).toString('latin1') === ARMOR_BEGIN ? unarmor(file.toString('latin1')) : file);
  const headerEnd = findHeaderEnd(data);
  const headerText = data.subarray(0, headerEnd).toString('latin1');
  const lines = headerText.split('\n');
  if (lines[0] !== VERSION_LINE) {
    throw new Error('age: not an age v1 file');
  }
  const macLine = lines[lines.length - 2];
  if (!macLine.startsWith('--- ')) {
    throw new Error('age: the header has no MAC line');
  }
  const stanzas: { type: string; args: string[]; body: Buffer }[] = [];
  let i = 1;
  while (i < lines.length - 2) {
    const line = lines[i];
    if (!line.startsWith('-> ')) {
      throw new Error('age: malformed header stanza');
    }
    const [type, ...args] = line.slice(3).split(' ');
    i++;
    let body = '';
    for (;;) {
      if (i >= lines.length - 2) {
        throw new Error('age: a header stanza has no end');
      }
      const b = lines[i++];
      body += b;
      if (b.length < 64) {
        break;
      }
    }
    stanzas.push({ type, args, body: unb64(body, 'a stanza body') });
  }
  let fileKey: Buffer | undefined;
  const types = new Set(stanzas.map(s => s.type));
  for (const s of stanzas) {
    if (s.type !== 'X25519' || s.args.length !== 1) {
      continue;
    }
    const share = unb64(s.args[0], 'an X25519 share');
    if (share.length !== 32 || s.body.length !== 32) {
      throw new Error('age: malformed X25519 stanza');
    }
    for (const id of identities) {
      const shared = diffieHellman({ privateKey: privateKeyOf(id._secret), publicKey: publicKeyOf(share) });
      if (shared.every(b => b === 0)) {
        throw new Error('age: X25519 share is a low-order point');
      }
      const wrapKey = hkdf(shared, Buffer.concat([share, id._public]), X25519_INFO);
      const key = openChaCha(wrapKey, Buffer.alloc(12), s.body);
      if (key) {
        fileKey = key;
        break;
      }
    }
    if (fileKey) {
      break;
    }
  }
  if (!fileKey) {
    const err: any = new Error(`age: no identity matched any of the file's recipients (${[...types].join(', ') || 'none'})`);
    err.code = 'AGE_NO_IDENTITY';
    throw err;
  }
  const macInput = headerText.slice(0, headerText.length - macLine.length - 1) + '---';
  const mac = unb64(macLine.slice(4), 'the header MAC');
  const expected = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(macInput, 'latin1').digest();
  if (mac.length !== 32 || !timingSafeEqual(mac, expected)) {
    throw new Error('age: the header MAC does not verify (the file was changed)');
  }
  const payload = data.subarray(headerEnd);
  if (payload.length < 16 + 16) {
    throw new Error('age: the payload is truncated');
  }
  const payloadKey = hkdf(fileKey, payload.subarray(0, 16), 'payload');
  const out: Buffer[] = [];
  let offset = 16;
  let counter = 0;
  for (;;) {
    const sealed = payload.subarray(offset, offset + CHUNK + 16);
    offset += sealed.length;
    const last = offset >= payload.length;
    const plain = openChaCha(payloadKey, streamNonce(counter++, last), sealed);
    if (!plain || (last && plain.length === 0 && counter > 1)) {
      throw new Error('age: the payload does not decrypt (the file was changed or truncated)');
    }
    out.push(plain);
    if (last) {
      break;
    }
  }
  return Buffer.concat(out);
}

function findHeaderEnd(data: Buffer): number {
  // the header ends with the line '--- <mac>\n' (the payload that follows is binary)
  const at = data.indexOf('\n--- ', 0, 'latin1');
  const nl = at < 0 ? -1 : data.indexOf('\n', at + 1);
  if (nl < 0) {
    throw new Error('age: no header end');
  }
  return nl + 1;
}
