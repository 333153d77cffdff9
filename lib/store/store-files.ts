import { randomBytes } from 'crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'fs';
import * as path from 'path';
import { BoundedReadError, readRegularFileSync } from '../k8s/bounded-read';

/**
 * File primitives of the certificate store: units that commit atomically,
 * their recovery after a crash, the permission check of key files and the
 * fault-injection hook of the crash tests.
 *
 * A *unit* is a directory holding files that only make sense together (a
 * certificate and its key). It is replaced as a whole:
 *
 * 1. the new files are written and fsynced in `.<unit>.new-<random>`;
 * 2. an existing unit is renamed to `.<unit>.old-<random>`;
 * 3. the new directory is renamed to the unit's name;
 * 4. the old one is deleted.
 *
 * A crash at any point leaves either the old unit, the new unit, or (between
 * 2 and 3) no unit and an old one beside it, which recovery (under the lock)
 * puts back. Recovery then deletes every leftover, so no temporary file with
 * key material survives the next locked run.
 *
 * @internal
 */

/** Environment variable read only by the crash tests: the named point kills the process. */
/** File names of a CA unit: the certificate, its key, and the settings it was made with. */
export const CA_CERT = 'ca.crt';
export const CA_KEY = 'ca.key';
export const PARAMS_FILE = 'params.json';

/** The subdirectories of `dir` (not hidden ones, such as temporaries), sorted; none when it is missing. */
export function listDirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter(d => d.isDirectory() && !d.name.startsWith('.')).map(d => d.name).sort();
  } catch {
    return [];
  }
}

export const CRASH_ENV = 'SECURE_METRICS_SERVER_TEST_CRASH_AT';

/** Kills this process (SIGKILL, no clean-up) when the crash tests ask for this point. */
export function crashPoint(name: string): void {
  if (process.env[CRASH_ENV] === name) {
    process.kill(process.pid, 'SIGKILL');
  }
}

/** Reads a file, or undefined when it does not exist. */
export function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      return undefined;
    }
    throw new Error(`store: cannot read '${file}' (${e.code ?? e.message}); fix its permissions, or restore it from your backup`, { cause: e });
  }
}

/** The fix for a key file with a wide mode, as ssh words it. */
function modeRefusal(file: string, mode: number, what: string): Error {
  return new Error(`${what}: '${file}' holds a private key but its mode is 0${mode.toString(8)} (group or others may access it); run: chmod 600 '${file}' (and chmod 700 on its directory)`);
}

function symlinkRefusal(file: string, what: string): Error {
  return new Error(`${what}: '${file}' holds a private key but is a symbolic link; a key file is read only as a regular file of its own (a link could point anywhere, and its mode says nothing of the target): replace the link with the file itself (cp --remove-destination "$(readlink -f '${file}')" '${file}'), then chmod 600 '${file}'`);
}

/**
 * Key files readable or writable by group or others are refused, as ssh
 * refuses an unprotected private key; the message gives the chmod that fixes
 * it. A symbolic link is refused too (lstat: never followed, never chmod-ed
 * through). A missing file is left to the reader.
 */
export function assertPrivate(file: string, what = 'store'): void {
  if (process.platform === 'win32') {
    return;
  }
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) {
    throw symlinkRefusal(file, what);
  }
  const mode = st.mode & 0o777;
  if (mode & 0o077) {
    throw modeRefusal(file, mode, what);
  }
}

/** Largest key file read (an RSA 16384 key in PEM is about 13 KiB). */
const MAX_KEY_FILE_BYTES = 1 << 20;

/**
 * Reads a private key file, or undefined when it does not exist: opened
 * with O_NOFOLLOW (a symbolic link is refused, not followed), checked on the
 * open descriptor (a regular file, mode 0600 or narrower: `assertPrivate`'s
 * rule) so that no rename between the check and the read can swap it, and
 * read up to 1 MiB. `what` starts the messages ('store', or the prop of an
 * input key such as 'servingTls.caKey').
 */
export function readKeyFile(file: string, what = 'store'): string | undefined {
  if (process.platform === 'win32') {
    return readOptional(file);
  }
  try {
    // non-blocking: a FIFO put where the key should be is refused, never waited on
    return readRegularFileSync(file, MAX_KEY_FILE_BYTES, {
      noFollow: true,
      onStat: st => {
        const mode = st.mode & 0o777;
        if (mode & 0o077) {
          throw modeRefusal(file, mode, what);
        }
      },
    }).toString('utf8');
  } catch (e: any) {
    if (e instanceof BoundedReadError || e.code === 'EISDIR') {
      throw e.code !== 'EFBIG'
        ? new Error(`${what}: '${file}' should hold a private key but is not a regular file; put the key file there`)
        : new Error(`${what}: '${file}' is ${e.size ?? 'more than ' + MAX_KEY_FILE_BYTES} bytes, more than a private key file can be (at most ${MAX_KEY_FILE_BYTES}); pass the key file itself`);
    }
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
      return undefined;
    }
    if (e.code === 'ELOOP' || e.code === 'EMLINK') {
      throw symlinkRefusal(file, what);
    }
    if (e.code === undefined) {
      throw e;
    }
    throw new Error(`${what}: cannot read '${file}' (${e.code ?? e.message}); fix its permissions, or restore it from your backup`, { cause: e });
  }
}

/** Creates a directory (and parents) with mode 0700, naming the path on failure. */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e: any) {
    throw new Error(`store: cannot create '${dir}' (${e.code ?? e.message}); choose a writable directory`, { cause: e });
  }
}

/** Writes a file atomically (temporary file, fsync, rename), mode 0600. */
export function writeAtomic(file: string, content: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, content);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e: any) {
    if (fd !== undefined) {
      closeSync(fd);
    }
    rmQuiet(tmp);
    throw new Error(`store: cannot write '${file}' (${e.code ?? e.message}); choose a writable directory`, { cause: e });
  }
}

function rmQuiet(p: string): void {
  try {
    rmSync(p, { recursive: true, force: true });
  } catch {
    // left for the next locked run
  }
}

function fsyncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported everywhere (e.g. Windows); the renames are still atomic
  }
}

/** Leftovers of a unit's interrupted commits, in its parent directory. */
function leftovers(unit: string): { news: string[]; olds: string[] } {
  const parent = path.dirname(unit);
  const base = path.basename(unit);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return { news: [], olds: [] };
  }
  const pick = (kind: string) => names.filter(n => n.startsWith(`.${base}.${kind}-`)).map(n => path.join(parent, n));
  return { news: pick('new'), olds: pick('old') };
}

/**
 * Finishes or undoes an interrupted commit of a unit. Call under the lock.
 * A missing unit with an old copy beside it gets the old copy back; every
 * other leftover is deleted.
 */
export function recoverUnit(unit: string): void {
  const { news, olds } = leftovers(unit);
  if (olds.length > 0 && !exists(unit)) {
    renameSync(olds[0], unit);
    olds.shift();
  }
  for (const p of [...news, ...olds]) {
    rmQuiet(p);
  }
  // a temporary file of writeAtomic left by a crash
  const parent = path.dirname(unit);
  try {
    for (const n of readdirSync(parent)) {
      if (n.startsWith('.') && n.endsWith('.tmp')) {
        rmQuiet(path.join(parent, n));
      }
    }
  } catch {
    // no parent yet
  }
}

/**
 * Whether an interrupted commit left something beside the units in these
 * directories (cheap: one directory listing each); the next synth then takes
 * the lock to finish or undo it.
 */
export function hasLeftovers(dirs: string[]): boolean {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    if (names.some(n => n.startsWith('.') && (/\.(new|old)-/.test(n) || n.endsWith('.tmp')))) {
      return true;
    }
  }
  return false;
}

/**
 * Deletes the temporary files (`.<name>.<pid>.<random>.tmp`) that a killed
 * process left in a directory: those of a pid that no longer exists and
 * older than a minute (a process on another host sharing the directory has
 * long renamed its own by then). Call under the lock.
 */
export function removeDeadTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\..*\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(n);
    if (!m) {
      continue;
    }
    const file = path.join(dir, n);
    try {
      if (Date.now() - statSync(file).mtimeMs < 60_000) {
        continue;
      }
      process.kill(Number(m[1]), 0);
    } catch (e: any) {
      if (e.code === 'ESRCH') {
        rmQuiet(file);
      }
    }
  }
}

export function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replaces the unit (a directory of files) as a whole. Call under the lock.
 * `tag` names the crash points: `<tag>:partial`, `<tag>:written`,
 * `<tag>:old-moved`, `<tag>:renamed`, `<tag>:done`.
 */
export function commitUnit(unit: string, files: { [name: string]: string }, tag: string): void {
  const parent = path.dirname(unit);
  makeDirectory(parent);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const fresh = path.join(parent, `.${path.basename(unit)}.new-${suffix}`);
  const old = path.join(parent, `.${path.basename(unit)}.old-${suffix}`);
  try {
    mkdirSync(fresh, { mode: 0o700 });
    let first = true;
    for (const [name, content] of Object.entries(files)) {
      const fd = openSync(path.join(fresh, name), 'wx', 0o600);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (first) {
        crashPoint(`${tag}:partial`);
        first = false;
      }
    }
    fsyncDirectory(fresh);
    crashPoint(`${tag}:written`);
    const replacing = exists(unit);
    if (replacing) {
      renameSync(unit, old);
      crashPoint(`${tag}:old-moved`);
    }
    renameSync(fresh, unit);
    fsyncDirectory(parent);
    crashPoint(`${tag}:renamed`);
    if (replacing) {
      rmSync(old, { recursive: true, force: true });
    }
    crashPoint(`${tag}:done`);
  } catch (e: any) {
    rmQuiet(fresh);
    if (!exists(unit) && exists(old)) {
      renameSync(old, unit);
    }
    throw new Error(`store: cannot write '${unit}' (${e.code ?? e.message}); choose a writable directory`, { cause: e });
  }
}

/** Deletes files quietly (a legacy layout's files once adopted). */
export function unlinkAll(files: string[]): void {
  for (const f of files) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
}
