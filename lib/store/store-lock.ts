import { randomBytes } from 'crypto';
import { closeSync, fsyncSync, linkSync, lstatSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, writeSync } from 'fs';
import * as os from 'os';
import { terminalText } from '../k8s/terminal-text';

/**
 * The cross-process lock of a certificate store: one writer at a time.
 *
 * - The lock is a file created atomically (written whole under a unique
 *   name, then hard-linked to its final name, which fails if it exists). It
 *   holds the holder's pid, host, process start time and the time it was taken.
 * - A lock held by a live process is never taken over, however long it is held.
 * - A lock whose holder is dead (same host: the pid no longer exists, or it
 *   now belongs to a process started at another time) is removed at once,
 *   through a second short-lived "breaker" lock so that two waiters never
 *   remove each other's fresh lock.
 * - A lock held from another host (a network directory) is never judged
 *   dead: the waiter gives up after the timeout and says how to remove it.
 * - Waiting sleeps synchronously (Atomics.wait), so it works inside the
 *   synchronous construct, without busy-waiting.
 *
 * @internal
 */

/** Seconds a synth waits for the store lock (SECURE_METRICS_SERVER_LOCK_TIMEOUT overrides). */
export const LOCK_TIMEOUT_SECONDS = 120;
/** Environment variable that overrides the lock timeout, in seconds. */
export const LOCK_TIMEOUT_ENV = 'SECURE_METRICS_SERVER_LOCK_TIMEOUT';

/** What a lock file says about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** ISO time the lock was taken */
  readonly since: string;
  /** the holder's process start time (clock ticks since boot, /proc/<pid>/stat field 22), when known */
  readonly start?: string;
  /** the holder's pid namespace (Linux, /proc/self/ns/pid): pids are compared only within one */
  readonly pidns?: string;
  readonly token: string;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

let acquisitions = 0;

/** Number of store locks this process has taken (for the benchmark: a warm synth takes none). */
export function lockCount(): number {
  return acquisitions;
}

/** Sleeps synchronously, without spinning. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** A process's start time from /proc (Linux), or undefined where unknown. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** This process's pid namespace, where known. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder of a lock on this host is gone. Holders on other hosts,
 * or in another pid namespace (a container sharing the host name), are never
 * judged dead: their pids mean nothing here.
 */
export function holderIsDead(holder: LockHolder): boolean {
  if (holder.host !== os.hostname() || (holder.pidns !== undefined && holder.pidns !== pidNamespace())) {
    return false;
  }
  if (holder.pid === process.pid) {
    // this very process: dead only if it is an earlier process with the same pid
    return holder.start !== undefined && holder.start !== processStartTime(process.pid);
  }
  try {
    process.kill(holder.pid, 0);
  } catch (e: any) {
    if (e.code === 'ESRCH') {
      return true;
    }
    // EPERM: the process exists (another user's)
  }
  if (holder.start !== undefined) {
    const now = processStartTime(holder.pid);
    // the pid was reused by a process started at another time
    return now !== undefined && now !== holder.start;
  }
  return false;
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) {
    return undefined;
  }
  try {
    const h = JSON.parse(text);
    // a pid that is not a positive integer (0, -1: a process group; 1.5) names no process: judged by age, like garbage
    if (Number.isSafeInteger(h.pid) && h.pid > 0 && typeof h.host === 'string' && typeof h.since === 'string' && typeof h.token === 'string') {
      return h;
    }
  } catch {
    // a lock file that does not parse is judged by its age below
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') {
      return undefined;
    }
    throw e;
  }
}

/** Creates `file` holding `content`, atomically; false if it exists. */
function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
    return true;
  } catch (e: any) {
    if (e.code === 'EEXIST') {
      return false;
    }
    if (e.code === 'EPERM' || e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP') {
      // a file system without hard links: an exclusive create, then the content
      return createExclusiveNoLink(file, content);
    }
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function createExclusiveNoLink(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e: any) {
    if (e.code === 'EEXIST') {
      return false;
    }
    throw e;
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function newHolder(): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    since: new Date().toISOString(),
    start: processStartTime(process.pid),
    pidns: pidNamespace(),
    token: randomBytes(12).toString('hex'),
  };
}

/** A lock file with no parsable content older than this is removed (a holder writes it whole at once). */
const UNPARSABLE_GRACE_MS = 10_000;

/**
 * Removes the lock file if it still holds the dead holder it held when read
 * (`seen`). The breaker lock makes the check and the removal one step.
 */
function removeIfStill(file: string, seen: string): void {
  const breaker = `${file}.break`;
  const me = JSON.stringify(newHolder());
  if (!createExclusive(breaker, me)) {
    const other = parseHolder(readText(breaker));
    if (other && holderIsDead(other)) {
      // a waiter died while breaking: the breaker is held for microseconds otherwise
      if (readText(breaker) === JSON.stringify(other)) {
        unlinkQuiet(breaker);
      }
    }
    return;
  }
  try {
    if (readText(file) === seen) {
      unlinkQuiet(file);
    }
  } finally {
    unlinkQuiet(breaker);
  }
}

function describe(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on host '${holder.host}' since ${holder.since}` : 'a holder that wrote no readable details';
}

/** The lock timeout in milliseconds, from the environment or the default. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === '') {
    return LOCK_TIMEOUT_SECONDS * 1000;
  }
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`${LOCK_TIMEOUT_ENV}: '${raw}' is not a number of seconds; use e.g. ${LOCK_TIMEOUT_ENV}=${LOCK_TIMEOUT_SECONDS}`);
  }
  return seconds * 1000;
}

/** What is at the lock path when it is not a regular file (lstat: a symbolic link is not followed). */
function notALockFile(file: string): string | undefined {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return undefined;
  }
  if (st.isFile()) {
    return undefined;
  }
  return st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file';
}

/** Retries without a pause (the lock was just removed, or vanished between two reads) before the waits count. */
const FREE_RETRIES = 5;

/**
 * Takes the lock in `file`, waiting for a live holder up to the timeout;
 * returns the function that releases it. Every try that does not take the
 * lock either removes a dead holder's lock (a few times at most) or sleeps,
 * and the timeout is checked on every sleep, whatever is at the lock path.
 */
export function acquireLock(file: string, what: string): () => void {
  const timeout = lockTimeoutMs();
  const started = Date.now();
  let told = false;
  let pause = 10;
  let free = FREE_RETRIES;
  for (;;) {
    const holder = newHolder();
    const content = JSON.stringify(holder);
    if (createExclusive(file, content)) {
      acquisitions++;
      return () => {
        if (readText(file) === content) {
          unlinkSync(file);
        }
      };
    }
    const kind = notALockFile(file);
    if (kind !== undefined) {
      // never written by this library, and no waiting makes it one: refused at once
      throw new Error(`store: the lock path '${file}' of '${what}' is ${kind}, not a lock file; the store's lock is a regular file it creates itself. Remove it (rm -r '${file}') once no synth or 'ca rotate' runs on this store, then synthesize again`);
    }
    const seenText = readText(file);
    let seen: LockHolder | undefined;
    if (seenText !== undefined) {
      seen = parseHolder(seenText);
      if (seen ? holderIsDead(seen) : lockAgeMs(file) > UNPARSABLE_GRACE_MS) {
        removeIfStill(file, seenText);
        if (free-- > 0) {
          continue;
        }
      }
    } else if (free-- > 0) {
      // released between the create and the read
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeout) {
      throw new Error(`store: '${what}' is locked by ${describe(seen)} (lock file '${file}'); gave up after waiting ${timeout / 1000} s. Wait for that synth to finish, or raise ${LOCK_TIMEOUT_ENV} (seconds, default ${LOCK_TIMEOUT_SECONDS}); if that process is gone (e.g. on another host), delete '${file}'`);
    }
    if (!told && waited > 1000) {
      told = true;
      process.stderr.write(`secure-metrics-server: waiting for the certificate store lock held by ${terminalText(`${describe(seen)} ('${file}')`)}\n`);
    }
    sleepSync(Math.max(1, Math.min(pause, timeout - waited)));
    pause = Math.min(pause * 2, 200);
  }
}

/** Whether the lock file exists and its holder is dead (a killed synth's): the next synth takes the lock to repair. */
export function lockLeftBehind(file: string): boolean {
  let text: string | undefined;
  try {
    text = readText(file);
  } catch {
    return false;
  }
  if (text === undefined) {
    return false;
  }
  const holder = parseHolder(text);
  return holder ? holderIsDead(holder) : lockAgeMs(file) > UNPARSABLE_GRACE_MS;
}

function lockAgeMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
