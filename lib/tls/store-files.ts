import { createHash, randomBytes } from 'crypto';
import {
  closeSync, constants, fchmodSync, fstatSync, realpathSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync,
  rmSync, statSync, unlinkSync, writeSync,
} from 'fs';
import * as path from 'path';
import { BoundedReadError, readRegularFileSync } from '../bounded-read';

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

/** Whether a name can be a directory of the store (a cluster, a shared CA): no separators, no leading dot. */
export function isDirectoryName(name: string): boolean {
  return typeof name === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/.test(name);
}

/**
 * Whether a name can be one path segment inside the store (a service
 * identity such as 'metrics-server.kube-system.svc.cluster.local'): not empty,
 * no separator ('/', '\\'), no NUL or other control character, not '.' or '..'
 * and not hidden (the store's temporaries start with '.'), at most 255 bytes.
 */
export function isPathSegment(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= 255 && !name.startsWith('.')
    // eslint-disable-next-line no-control-regex -- a path segment with a control character is refused
    && !/[/\\\u0000-\u001f\u007f]/.test(name);
}

/**
 * Throws unless every name is one segment inside the store: the last guard
 * before a name becomes a path, whatever the prop it came from checked.
 */
export function assertInsideStore(storeDir: string, parts: { what: string; value: string }[]): void {
  for (const { what, value } of parts) {
    if (!isPathSegment(value)) {
      throw new Error(`${what}: ${JSON.stringify(value)} cannot name a directory inside the store '${storeDir}' (no '/', '\\', '..', NUL or control characters, not starting with '.'); use letters, digits, '-', '_' and '.', e.g. 'cluster-a'`);
    }
  }
}

/**
 * The real path of `p` (symbolic links resolved) even when its end does not
 * exist yet: the real path of its deepest existing ancestor, plus the rest.
 */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let dir = abs;
  for (;;) {
    try {
      return path.join(realpathSync.native(dir), ...rest.reverse());
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) {
        return abs;
      }
      rest.push(path.basename(dir));
      dir = parent;
    }
  }
}

/** Whether `inner` is `outer` or inside it, comparing real paths (symbolic links resolved). */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(realPathOf(outer), realPathOf(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The cluster directory name derived from a Chart's construct path: the
 * path itself when it is a usable name ('cluster-a'), otherwise a readable
 * form plus a short hash ('team/cluster-a' gives 'team.cluster-a-1a2b3c4d').
 */
export function clusterNameOf(chartPath: string): string {
  if (isDirectoryName(chartPath)) {
    return chartPath;
  }
  const readable = chartPath.replace(/\//g, '.').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '').slice(0, 80);
  const hash = createHash('sha256').update(chartPath).digest('hex').slice(0, 8);
  return `${readable || 'chart'}-${hash}`;
}

/** The umask before the first synth of this turn of the event loop narrowed it, while narrowed. */
let savedUmask: number | undefined;

/** How a manifest file that carries a private key is made 0600 (for tests and messages). */
export interface ManifestProtection {
  /** the App's output directory */
  readonly outdir: string;
  /** the files that existed and were narrowed to 0600 before cdk8s rewrote them */
  readonly narrowed: string[];
  /** the links (symbolic, or hard with another name) removed so that cdk8s writes a file of its own */
  readonly replaced: string[];
}

/**
 * Makes the manifest files of an App that carries a private key (a Secret's
 * `tls.key`) 0600. cdk8s writes them itself (`fs.writeFileSync` in
 * `App.synth()`, after validation, with no hook after the write), so this
 * runs as a construct validation, just before: it sets the process umask to
 * 077 until the synth has returned (restored on the next turn of the event
 * loop), so the files cdk8s creates are 0600, and narrows to 0600 the
 * chart's file of an earlier synth (`<chart id><ext>`, `app<ext>`), which
 * `writeFileSync` rewrites keeping its mode. Returns a warning when it
 * cannot (Windows, a worker thread).
 * @internal
 */
export function protectManifestFiles(app: { outdir: string; outputFileExtension?: string }, chartId: string): { warning?: string; done?: ManifestProtection } {
  const outdir = path.resolve(app.outdir);
  if (process.platform === 'win32') {
    return { warning: `the manifests in '${outdir}' carry a private key, and on Windows their mode cannot be set: restrict who may read that directory` };
  }
  if (savedUmask === undefined) {
    try {
      savedUmask = process.umask(0o077);
    } catch (e: any) {
      return { warning: `the manifests in '${outdir}' carry a private key, but they cannot be made 0600 here (${e.code ?? e.message}, e.g. in a worker thread): run: chmod 600 '${outdir}'/*` };
    }
    // every synth of this turn of the event loop (several apps, synthYaml then synth) keeps 077; the first one's umask comes back after
    setImmediate(() => {
      process.umask(savedUmask!);
      savedUmask = undefined;
    });
  }
  const ext = app.outputFileExtension ?? '.k8s.yaml';
  const narrowed: string[] = [];
  const replaced: string[] = [];
  for (const name of [`${chartId}${ext}`, `app${ext}`]) {
    const file = path.join(outdir, name);
    let fd: number | undefined;
    try {
      // cdk8s's writeFileSync follows a symbolic link and writes into every name of a hard link: the key
      // would land in the link's target, with the target's mode. The link goes; cdk8s creates a file of its own.
      const st = lstatSync(file);
      if (st.isSymbolicLink() || (st.isFile() && st.nlink > 1)) {
        unlinkSync(file);
        replaced.push(file);
        continue;
      }
    } catch (e: any) {
      if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') {
        return { warning: `the manifest '${file}' will carry a private key, but it cannot be checked (${e.code ?? e.message}); make sure it is not a link and is 0600 after synth` };
      }
    }
    try {
      // never through a symbolic link; a file that does not exist is created by cdk8s under the umask
      fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
      if ((fstatSync(fd).mode & 0o077) !== 0) {
        fchmodSync(fd, 0o600);
        narrowed.push(file);
      }
    } catch {
      // missing, or not ours to change
    } finally {
      if (fd !== undefined) {
        closeSync(fd);
      }
    }
  }
  return {
    done: { outdir, narrowed, replaced },
    ...(replaced.length > 0 ? { warning: `${replaced.map(f => `'${f}'`).join(' and ')} ${replaced.length > 1 ? 'were links' : 'was a link'} (symbolic, or a hard link with another name): cdk8s would have written the private key through it, into a file whose mode the library does not control; it was removed, and the manifest is written as a new 0600 file` } : {}),
  };
}
