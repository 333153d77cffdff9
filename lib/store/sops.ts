import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AgeIdentity, ageArmor, ageDecrypt, ageEncrypt, parseAgeKeyFile, parseAgeRecipient } from './age';

/**
 * SOPS's encrypted file format (getsops/sops v3) with age recipients, on
 * Node's crypto: a 32-byte data key, each value AES-256-GCM with a 32-byte
 * IV and the value's path (`key:key:`) as additional data, written
 * `ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]`; the MAC is the upper-case
 * hex SHA-512 of every plaintext value in file order, encrypted with the
 * data key and the `lastmodified` time as additional data; the data key is
 * an armored age file per recipient under `sops.age`.
 *
 * Two shapes are written: a document (a Kubernetes Secret, encrypted where
 * `encrypted_regex` matches a key of the path) and SOPS's binary format (a
 * JSON file `{"data": …, "sops": …}` that `sops -d` turns back into the
 * exact bytes, used for the keys of the shared store).
 */

let decryptions = 0;

/** How many SOPS files this process decrypted (the benchmark checks a warm shared-store synth decrypts none). */
export function sopsDecryptionCount(): number {
  return decryptions;
}

/** The version written into `sops.version`: the release whose format this follows. */
export const SOPS_FORMAT_VERSION = '3.13.3';
const NONCE_SIZE = 32;
/** SHA-256 of 'sops': where the MAC of a `mac_only_encrypted` file starts (sops.go, MACOnlyEncryptedInitialization). */
const MAC_ONLY_ENCRYPTED_INITIALIZATION = createHash('sha256').update('sops').digest();
const ENC_PATTERN = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:(str|int|float|bool|bytes|time|comment)\]$/;

/** What decides which values are encrypted (SOPS's metadata fields). */
export interface SopsRules {
  /** `encrypted_regex`: only values with a path component matching it */
  readonly encryptedRegex?: string;
  /** `unencrypted_suffix`: values with a path component ending in it stay clear */
  readonly unencryptedSuffix?: string;
}

type Leaf = string | number | boolean;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function typeOf(v: Leaf): string {
  if (typeof v === 'string') {
    return 'str';
  }
  if (typeof v === 'boolean') {
    return 'bool';
  }
  return Number.isInteger(v) ? 'int' : 'float';
}

/** SOPS's ToBytes: the bytes a value contributes to the MAC and to its ciphertext. */
function bytesOf(v: Leaf): Buffer {
  if (typeof v === 'boolean') {
    return Buffer.from(v ? 'True' : 'False');
  }
  return Buffer.from(String(v));
}

function encryptValue(v: Leaf, key: Buffer, additionalData: string): string {
  if (v === '') {
    return '';
  }
  const iv = randomBytes(NONCE_SIZE);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(additionalData));
  const data = Buffer.concat([c.update(bytesOf(v)), c.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:${typeOf(v)}]`;
}

function decryptValue(text: string, key: Buffer, additionalData: string, where: string): Leaf {
  const m = ENC_PATTERN.exec(text);
  if (!m) {
    throw new Error(`sops: ${where}: not a SOPS AES256_GCM value`);
  }
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2], 'base64'));
  d.setAAD(Buffer.from(additionalData));
  d.setAuthTag(Buffer.from(m[3], 'base64'));
  let plain: Buffer;
  try {
    plain = Buffer.concat([d.update(Buffer.from(m[1], 'base64')), d.final()]);
  } catch {
    throw new Error(`sops: ${where}: the value does not decrypt (changed, moved, or encrypted with another data key)`);
  }
  const s = plain.toString('utf8');
  switch (m[4]) {
    case 'int': return parseInt(s, 10);
    case 'float': return parseFloat(s);
    case 'bool': return s === 'True';
    default: return s;
  }
}

function shouldEncrypt(pathParts: string[], rules: SopsRules): boolean {
  let encrypted = true;
  if (rules.unencryptedSuffix) {
    if (pathParts.some(p => p.endsWith(rules.unencryptedSuffix!))) {
      encrypted = false;
    }
  }
  if (rules.encryptedRegex !== undefined && rules.encryptedRegex !== '') {
    const re = new RegExp(rules.encryptedRegex);
    encrypted = pathParts.some(p => re.test(p));
  }
  return encrypted;
}

/** Walks every leaf in document order (SOPS's walkBranch: array items keep their parent's path). */
function walk(value: any, pathParts: string[], visit: (leaf: Leaf, pathParts: string[]) => any): any {
  if (Array.isArray(value)) {
    return value.map(v => walk(v, pathParts, visit));
  }
  if (value !== null && typeof value === 'object') {
    const out: any = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = walk(v, [...pathParts, k], visit);
    }
    return out;
  }
  if (value === null || value === undefined) {
    return value;
  }
  return visit(value as Leaf, pathParts);
}

/** The age recipients of a data key: each an armored age file. */
function wrapDataKey(dataKey: Buffer, recipients: string[]): { recipient: string; enc: string }[] {
  if (recipients.length === 0) {
    throw new Error('sops: no age recipient; a file that no one can decrypt is not written');
  }
  return [...new Set(recipients)].map(recipient => {
    parseAgeRecipient(recipient, 'sops age recipient');
    return { recipient, enc: ageArmor(ageEncrypt(dataKey, [recipient])) };
  });
}

/**
 * Encrypts a document (plain JSON: objects, arrays, strings, numbers,
 * booleans) for the age recipients; returns the document with its values
 * encrypted and the `sops` metadata appended, as `sops -e` writes it.
 */
export function sopsEncryptDocument(doc: { [key: string]: any }, recipients: string[], rules: SopsRules, now: Date): { [key: string]: any } {
  if (doc.sops !== undefined) {
    throw new Error("sops: the document already has a 'sops' key (it is encrypted already)");
  }
  const dataKey = randomBytes(32);
  const hash = createHash('sha512');
  const encrypted = walk(doc, [], (leaf, p) => {
    hash.update(bytesOf(leaf));
    return shouldEncrypt(p, rules) ? encryptValue(leaf, dataKey, p.join(':') + ':') : leaf;
  });
  const lastmodified = rfc3339(now);
  const mac = encryptValue(hash.digest('hex').toUpperCase(), dataKey, lastmodified);
  return {
    ...encrypted,
    sops: {
      age: wrapDataKey(dataKey, recipients),
      lastmodified,
      mac,
      ...(rules.unencryptedSuffix ? { unencrypted_suffix: rules.unencryptedSuffix } : {}),
      ...(rules.encryptedRegex ? { encrypted_regex: rules.encryptedRegex } : {}),
      version: SOPS_FORMAT_VERSION,
    },
  };
}

/** The recipients a SOPS file's data key is encrypted to (flat `age:` and `key_groups`). */
export function sopsRecipients(doc: any): string[] {
  const meta = doc?.sops;
  const entries: any[] = [...(Array.isArray(meta?.age) ? meta.age : [])];
  for (const group of Array.isArray(meta?.key_groups) ? meta.key_groups : []) {
    entries.push(...(Array.isArray(group?.age) ? group.age : []));
  }
  return entries.map(e => String(e?.recipient ?? '')).filter(r => r !== '');
}

/** The rules a SOPS file was encrypted with. */
export function sopsRulesOf(doc: any): SopsRules {
  const meta = doc?.sops ?? {};
  return {
    ...(typeof meta.encrypted_regex === 'string' ? { encryptedRegex: meta.encrypted_regex } : {}),
    ...(typeof meta.unencrypted_suffix === 'string' ? { unencryptedSuffix: meta.unencrypted_suffix } : {}),
  };
}

/**
 * Decrypts a SOPS document (as parsed from YAML or JSON) with the age
 * identities and verifies its MAC; returns the document without `sops`.
 * @param source the file, for errors
 */
export function sopsDecryptDocument(doc: any, identities: AgeIdentity[], source: string): { [key: string]: any } {
  decryptions++;
  const meta = doc?.sops;
  if (!meta || typeof meta !== 'object') {
    throw new Error(`sops: ${source} has no 'sops' metadata (it is not encrypted)`);
  }
  for (const unsupported of ['unencrypted_regex', 'encrypted_suffix', 'encrypted_comment_regex', 'unencrypted_comment_regex', 'shamir_threshold']) {
    if (meta[unsupported] !== undefined && meta[unsupported] !== '' && meta[unsupported] !== 0) {
      throw new Error(`sops: ${source} uses '${unsupported}', which this reader does not support; decrypt it with 'sops -d' and encrypt it again with encrypted_regex or the default rules`);
    }
  }
  const dataKey = unwrapDataKey(meta, identities, source);
  const rules = sopsRulesOf(doc);
  const { sops: _meta, ...body } = doc;
  const hash = createHash('sha512');
  // mac_only_encrypted (sops 3.9+): the MAC starts from a known constant and covers only the encrypted values
  const macOnlyEncrypted = meta.mac_only_encrypted === true;
  if (macOnlyEncrypted) {
    hash.update(MAC_ONLY_ENCRYPTED_INITIALIZATION);
  }
  const plain = walk(body, [], (leaf, p) => {
    let value = leaf;
    const encrypted = shouldEncrypt(p, rules);
    if (typeof leaf === 'string' && leaf.startsWith('ENC[') && encrypted) {
      value = decryptValue(leaf, dataKey, p.join(':') + ':', `${source}: ${p.join('.')}`);
    }
    if (!macOnlyEncrypted || encrypted) {
      hash.update(bytesOf(value));
    }
    return value;
  });
  const lastmodified = String(meta.lastmodified instanceof Date ? rfc3339(meta.lastmodified) : meta.lastmodified);
  const mac = decryptValue(String(meta.mac ?? ''), dataKey, lastmodified, `${source}: sops.mac`);
  if (mac !== hash.digest('hex').toUpperCase()) {
    throw new Error(`sops: ${source}: MAC mismatch (the file was changed after it was encrypted)`);
  }
  return plain;
}

function unwrapDataKey(meta: any, identities: AgeIdentity[], source: string): Buffer {
  const recipients = sopsRecipients({ sops: meta });
  const entries: any[] = [
    ...(Array.isArray(meta.age) ? meta.age : []),
    ...(Array.isArray(meta.key_groups) ? meta.key_groups.flatMap((g: any) => (Array.isArray(g?.age) ? g.age : [])) : []),
  ];
  for (const e of entries) {
    try {
      const key = ageDecrypt(String(e.enc), identities);
      if (key.length === 32) {
        return key;
      }
    } catch (err: any) {
      if (err.code !== 'AGE_NO_IDENTITY') {
        throw new Error(`sops: ${source}: the data key for ${e.recipient} does not decrypt (${err.message})`, { cause: err });
      }
    }
  }
  const err: any = new Error(`sops: ${source} is encrypted to ${recipients.length ? recipients.join(', ') : 'no age recipient'}, and none of the age identities given (${identities.map(i => i.recipient).join(', ') || 'none'}) is one of them; set SOPS_AGE_KEY_FILE to a key file of one of those recipients, or ask a holder to add yours ('secure-metrics-server store recipients add')`);
  err.code = 'SOPS_NO_IDENTITY';
  throw err;
}

/** SOPS's binary format: `sops -d` gives back exactly `plaintext`. */
export function sopsEncryptBinary(plaintext: Buffer, recipients: string[], now: Date): string {
  const doc = sopsEncryptDocument({ data: plaintext.toString('utf8') }, recipients, { unencryptedSuffix: '_unencrypted' }, now);
  if (Buffer.from(plaintext.toString('utf8')) .compare(plaintext) !== 0) {
    throw new Error('sops: binary format holds UTF-8 text only here');
  }
  return JSON.stringify(doc, undefined, '\t') + '\n';
}

/** Opens a file in SOPS's binary format (JSON with `data` and `sops`). */
export function sopsDecryptBinary(text: string, identities: AgeIdentity[], source: string): Buffer {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e: any) {
    throw new Error(`sops: ${source} is not a SOPS file (${e.message})`, { cause: e });
  }
  const plain = sopsDecryptDocument(doc, identities, source);
  if (typeof plain.data !== 'string') {
    throw new Error(`sops: ${source} is not in SOPS's binary format (no 'data' string)`);
  }
  return Buffer.from(plain.data, 'utf8');
}

/**
 * The age identities this process has, as SOPS finds them: `SOPS_AGE_KEY`
 * (the key file's text), `SOPS_AGE_KEY_FILE` (its path), and the default
 * key file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, or
 * `~/.config/sops/age/keys.txt`). Empty when there is none: a synth that
 * needs to decrypt then says so.
 */
export function ageIdentitiesFromEnvironment(env: NodeJS.ProcessEnv = process.env): { identities: AgeIdentity[]; sources: string[] } {
  const identities: AgeIdentity[] = [];
  const sources: string[] = [];
  if (env.SOPS_AGE_KEY !== undefined && env.SOPS_AGE_KEY.trim() !== '') {
    identities.push(...parseAgeKeyFile(env.SOPS_AGE_KEY, 'SOPS_AGE_KEY'));
    sources.push('SOPS_AGE_KEY');
  }
  if (env.SOPS_AGE_KEY_FILE !== undefined && env.SOPS_AGE_KEY_FILE.trim() !== '') {
    const file = env.SOPS_AGE_KEY_FILE;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e: any) {
      throw new Error(`SOPS_AGE_KEY_FILE: cannot read '${file}' (${e.code ?? e.message}); point it at an age key file ('age-keygen -o keys.txt')`, { cause: e });
    }
    identities.push(...parseAgeKeyFile(text, `SOPS_AGE_KEY_FILE '${file}'`));
    sources.push(`SOPS_AGE_KEY_FILE '${file}'`);
  }
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? os.homedir(), '.config');
  const fallback = path.join(base, 'sops', 'age', 'keys.txt');
  if (existsSync(fallback)) {
    try {
      identities.push(...parseAgeKeyFile(readFileSync(fallback, 'utf8'), fallback));
      sources.push(fallback);
    } catch {
      // an unreadable default key file is as good as none
    }
  }
  return { identities, sources };
}
