import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AgeIdentity } from './age';
import { SHARED_MARKER, SOPS_CONFIG_FILE } from './shared-config';
import { sopsDecryptBinary, sopsEncryptBinary } from './sops';
import { makeDirectory, readOptional, writeAtomic } from './store-files';

/**
 * Moving a shared store's material in and out of a plain certificate store
 * directory (a private temporary working copy), so that issuing, renewing
 * and rotating stay the one implementation of lib/tls (issuance.ts,
 * ca-rotation.ts): decrypt into the copy, let them work, encrypt back what
 * changed. A key whose plaintext did not change keeps its ciphertext, so
 * the git diff shows exactly what was issued.
 * @internal
 */

/** The suffix of an encrypted key file in a shared store. */
export const SEALED_KEY_SUFFIX = '.sops';

/** Files of a shared store that are not store material. */
function isSharedOnly(rel: string): boolean {
  const base = path.basename(rel);
  return rel === SOPS_CONFIG_FILE || rel === SHARED_MARKER || base === '.gitignore' || base === '.lock'
    || base.startsWith('.') || base.endsWith('.served.json') || base.endsWith('.outputs.json');
}

/** Files of a local store that are caches or its own (never synced). */
function isLocalOnly(rel: string): boolean {
  const base = path.basename(rel);
  return base.startsWith('.') || base.endsWith('.checked.json') || base.endsWith('.outputs.json');
}

/** Every file under `dir`, relative, sorted (hidden directories skipped). */
export function listFiles(dir: string, rel = ''): string[] {
  let entries;
  try {
    entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel === '' ? e.name : path.join(rel, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) {
        out.push(...listFiles(dir, r));
      }
    } else if (e.isFile()) {
      out.push(r);
    }
  }
  return out;
}

/** What a working copy started from: the plaintext of every file, by its path in the local layout. */
export type Snapshot = Map<string, string>;

const WORK_PREFIX = 'sms-shared-work-';

/**
 * A private temporary directory (0700) for a working copy, named after this
 * process; copies left by a killed process (its pid gone) are removed first,
 * since they hold decrypted keys.
 */
export function workingDirectory(): string {
  const tmp = os.tmpdir();
  try {
    for (const name of readdirSync(tmp)) {
      const pid = Number(/^sms-shared-work-(\d+)-/.exec(name)?.[1]);
      if (pid > 0 && pid !== process.pid && !processAlive(pid)) {
        rmSync(path.join(tmp, name), { recursive: true, force: true });
      }
    }
  } catch {
    // best effort: another user's directory, or a race with its owner
  }
  return mkdtempSync(path.join(tmp, `${WORK_PREFIX}${process.pid}-`));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}

/** Removes a working copy (it holds decrypted keys). */
export function removeWorkingDirectory(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Decrypts the shared store into `work` (the local layout, keys 0600).
 * Throws when a key cannot be decrypted with `identities`.
 */
export function materialize(sharedDir: string, work: string, identities: AgeIdentity[]): Snapshot {
  const snapshot: Snapshot = new Map();
  for (const rel of listFiles(sharedDir)) {
    if (isSharedOnly(rel)) {
      continue;
    }
    const text = readFileSync(path.join(sharedDir, rel), 'utf8');
    let localRel = rel;
    let content = text;
    if (rel.endsWith(`.key${SEALED_KEY_SUFFIX}`)) {
      localRel = rel.slice(0, -SEALED_KEY_SUFFIX.length);
      content = sopsDecryptBinary(text, identities, path.join(sharedDir, rel)).toString('utf8');
    }
    makeDirectory(path.join(work, path.dirname(localRel)));
    writeAtomic(path.join(work, localRel), content);
    snapshot.set(localRel, content);
  }
  return snapshot;
}

/**
 * Writes back into the shared store what changed in `work` since
 * `snapshot`: new or changed keys encrypted to `recipients`, other files in
 * clear; files that went away are removed. Returns the paths written.
 */
export function syncBack(work: string, sharedDir: string, snapshot: Snapshot, recipients: string[], now: Date): string[] {
  const changed: string[] = [];
  const present = new Set<string>();
  // keys first, then the certificates that belong to them: a crash in between leaves a key that git shows
  const files = listFiles(work).filter(rel => !isLocalOnly(rel));
  files.sort((a, b) => Number(b.endsWith('.key')) - Number(a.endsWith('.key')) || a.localeCompare(b));
  for (const rel of files) {
    present.add(rel);
    const content = readFileSync(path.join(work, rel), 'utf8');
    if (snapshot.get(rel) === content) {
      continue;
    }
    const isKey = rel.endsWith('.key');
    const target = path.join(sharedDir, isKey ? rel + SEALED_KEY_SUFFIX : rel);
    makeDirectory(path.dirname(target));
    if (isKey) {
      writeAtomic(target, sopsEncryptBinary(Buffer.from(content, 'utf8'), recipients, now));
    } else if (readOptional(target) !== content) {
      writeAtomic(target, content);
    } else {
      continue;
    }
    changed.push(path.relative(sharedDir, target));
  }
  for (const rel of snapshot.keys()) {
    if (!present.has(rel)) {
      const target = path.join(sharedDir, rel.endsWith('.key') ? rel + SEALED_KEY_SUFFIX : rel);
      try {
        unlinkSync(target);
        changed.push(path.relative(sharedDir, target));
      } catch {
        // already gone
      }
      removeEmptyParents(path.dirname(target), sharedDir);
    }
  }
  return changed;
}

function removeEmptyParents(dir: string, stop: string): void {
  let d = dir;
  while (d.startsWith(stop + path.sep) && d !== stop) {
    try {
      if (readdirSync(d).length > 0) {
        return;
      }
      rmSync(d, { recursive: false, force: true } as any);
    } catch {
      return;
    }
    d = path.dirname(d);
  }
}

/** Re-encrypts every key of the shared store to `recipients` (the plaintext is unchanged). */
export function reencryptAll(sharedDir: string, identities: AgeIdentity[], recipients: string[], now: Date): string[] {
  const written: string[] = [];
  for (const rel of listFiles(sharedDir)) {
    if (!rel.endsWith(`.key${SEALED_KEY_SUFFIX}`)) {
      continue;
    }
    const file = path.join(sharedDir, rel);
    const plain = sopsDecryptBinary(readFileSync(file, 'utf8'), identities, file);
    writeAtomic(file, sopsEncryptBinary(plain, recipients, now));
    written.push(rel);
  }
  return written;
}

/** Whether `p` is a directory. */
export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Writes a public file of the shared store (mode 0644: it is meant for git). */
export function writePublic(file: string, text: string): void {
  makeDirectory(path.dirname(file));
  writeAtomic(file, text);
  chmodSync(file, 0o644);
}
