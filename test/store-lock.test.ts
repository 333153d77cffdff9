import * as fs from 'fs';
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CertificateStore, ServingTls } from '../lib';
import { acquireLock, lockTimeoutMs, processStartTime } from '../lib/store/store-lock';
import { synthYaml, tmp } from './helpers';

/** A pid no process can have (above the kernel's pid_max). */
function deadPid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
  } catch {
    return 2 ** 22 + 1;
  }
}

function placeLock(file: string, holder: { pid: number; host?: string; start?: string; pidns?: string }): string {
  const content = JSON.stringify({ pid: holder.pid, host: holder.host ?? os.hostname(), since: '2026-01-02T03:04:05.000Z', start: holder.start, pidns: holder.pidns, token: 'placed' });
  writeFileSync(file, content);
  return content;
}

function withTimeout<T>(seconds: string, fn: () => T): T {
  process.env.SECURE_METRICS_SERVER_LOCK_TIMEOUT = seconds;
  try {
    return fn();
  } finally {
    delete process.env.SECURE_METRICS_SERVER_LOCK_TIMEOUT;
  }
}

describe('the store lock', () => {
  test('a live holder is never taken over: the waiter names it and gives up after the timeout', () => {
    const file = path.join(tmp(), '.lock');
    // the parent process (jest's worker parent) is alive for the whole test
    const content = placeLock(file, { pid: process.ppid, start: processStartTime(process.ppid) });
    expect(() => withTimeout('0.3', () => acquireLock(file, '/some/store')))
      .toThrow(`store: '/some/store' is locked by pid ${process.ppid} on host '${os.hostname()}' since 2026-01-02T03:04:05.000Z (lock file '${file}'); gave up after waiting 0.3 s. Wait for that synth to finish, or raise SECURE_METRICS_SERVER_LOCK_TIMEOUT (seconds, default 120); if that process is gone (e.g. on another host), delete '${file}'`);
    expect(readFileSync(file, 'utf8')).toBe(content);
  });

  test('a dead holder\'s lock is recovered at once', () => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid: deadPid() });
    const release = withTimeout('0', () => acquireLock(file, 'store'));
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    release();
    expect(existsSync(file)).toBe(false);
  });

  // without /proc, pid reuse cannot be told apart: skipped there, not passed silently
  (processStartTime(process.ppid) === undefined ? test.skip : test)('a pid reused by a process started at another time counts as dead', () => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid: process.ppid, start: '1' });
    const release = withTimeout('0', () => acquireLock(file, 'store'));
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    release();
  });

  test('a holder on another host is never judged dead', () => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid: deadPid(), host: 'build-agent-7' });
    expect(() => withTimeout('0.1', () => acquireLock(file, 'store'))).toThrow(/is locked by pid \d+ on host 'build-agent-7' since .*; if that process is gone \(e\.g\. on another host\), delete/);
  });

  test('a holder in another pid namespace (a container with the same host name) is never judged dead', () => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid: deadPid(), pidns: 'pid:[1]' });
    expect(() => withTimeout('0.1', () => acquireLock(file, 'store'))).toThrow(/is locked by pid \d+ on host/);
  });

  test('the timeout comes from SECURE_METRICS_SERVER_LOCK_TIMEOUT (seconds), 120 by default', () => {
    expect(lockTimeoutMs({})).toBe(120_000);
    expect(lockTimeoutMs({ SECURE_METRICS_SERVER_LOCK_TIMEOUT: '2.5' })).toBe(2500);
    expect(() => lockTimeoutMs({ SECURE_METRICS_SERVER_LOCK_TIMEOUT: 'soon' }))
      .toThrow("SECURE_METRICS_SERVER_LOCK_TIMEOUT: 'soon' is not a number of seconds; use e.g. SECURE_METRICS_SERVER_LOCK_TIMEOUT=120");
  });

  test('while a live process holds the lock, a warm synth still runs and a synth that must write waits', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    const first = synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) });
    placeLock(store._lockFile(), { pid: process.ppid, start: processStartTime(process.ppid) });
    expect(withTimeout('0.2', () => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) })).yaml).toBe(first.yaml);
    expect(() => withTimeout('0.2', () => synthYaml({ namespace: 'other', servingTls: ServingTls.fromDedicatedCa({ store }) })))
      .toThrow(`store: '${store.directory}' is locked by pid ${process.ppid}`);
  });

  test('a lock path that is a directory or a symbolic link (dangling or not) is refused at once, naming it and the fix', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    mkdirSync(store._lockFile(), { recursive: true });
    expect(() => withTimeout('30', () => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) })))
      .toThrow(`store: the lock path '${store._lockFile()}' of '${store.directory}' is a directory, not a lock file; the store's lock is a regular file it creates itself. Remove it (rm -r '${store._lockFile()}') once no synth or 'ca rotate' runs on this store, then synthesize again`);
    const dir = tmp();
    const dangling = path.join(dir, '.lock');
    symlinkSync(path.join(dir, 'nowhere'), dangling);
    // on the old code this spun for ever without sleeping and without looking at the timeout
    expect(() => withTimeout('30', () => acquireLock(dangling, 'store'))).toThrow(`the lock path '${dangling}' of 'store' is a symbolic link, not a lock file`);
    const target = path.join(dir, 'target');
    placeLock(target, { pid: deadPid() });
    const linked = path.join(dir, 'linked.lock');
    symlinkSync(target, linked);
    expect(() => withTimeout('30', () => acquireLock(linked, 'store'))).toThrow('is a symbolic link, not a lock file');
    expect(existsSync(target)).toBe(true);
  });

  /** Runs acquireLock and counts its tries (hard links) and sleeps (Atomics.wait). */
  function countTries(file: string, seconds: string): { error: unknown; tries: number; sleeps: number } {
    const link = jest.spyOn(fs, 'linkSync');
    const wait = jest.spyOn(Atomics, 'wait');
    try {
      let error: unknown;
      try {
        withTimeout(seconds, () => acquireLock(file, 'store'))();
      } catch (e) {
        error = e;
      }
      return { error, tries: link.mock.calls.filter(c => c[1] === file).length, sleeps: wait.mock.calls.length };
    } finally {
      link.mockRestore();
      wait.mockRestore();
    }
  }

  test('garbage in a fresh lock file is waited on with sleeps between tries, up to the timeout', () => {
    const file = path.join(tmp(), '.lock');
    writeFileSync(file, 'garbage, not a holder');
    const r = countTries(file, '0.3');
    expect(String(r.error)).toContain('is locked by a holder that wrote no readable details');
    // every try but a few immediate retries is followed by a sleep (no count of sleeps: that depends on the machine's speed)
    expect(r.tries).toBeLessThanOrEqual(r.sleeps + 6);
    expect(readFileSync(file, 'utf8')).toBe('garbage, not a holder');
  });

  test.each([[0], [-1], [1.5], [-4194305]])('a holder pid of %p names no process: judged by the lock\'s age like garbage, never as a live holder', pid => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid });
    // fresh: waited on (a holder writes its lock whole at once)
    expect(String(countTries(file, '0.2').error)).toContain('a holder that wrote no readable details');
    // old: removed, the lock is taken (kill(0) and kill(-1) succeed, so the old code waited on "pid 0" for ever)
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const r = countTries(file, '0.2');
    expect(r.error).toBeUndefined();
  });

  test('a dead holder whose lock cannot be removed now (another waiter holds the breaker) is waited on with sleeps, up to the timeout', () => {
    const file = path.join(tmp(), '.lock');
    placeLock(file, { pid: deadPid() });
    placeLock(`${file}.break`, { pid: process.ppid, start: processStartTime(process.ppid) });
    // the old code retried at once without a pause and never looked at the timeout here
    const r = countTries(file, '0.3');
    expect(String(r.error)).toContain('gave up after waiting 0.3 s');
    expect(r.tries).toBeLessThanOrEqual(r.sleeps + 6);
  });
});
