import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CertificateStore, ServingTls } from '../lib';
import { acquireLock, lockTimeoutMs, processStartTime } from '../lib/tls/store-lock';
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

  test('a lock that cannot be taken (here: its path is a directory) says that this synth must write the store', () => {
    const store = CertificateStore.fromDirectory(path.join(tmp(), 'pki'));
    require('fs').mkdirSync(store._lockFile(), { recursive: true });
    expect(() => synthYaml({ servingTls: ServingTls.fromDedicatedCa({ store }) }))
      .toThrow(`store: cannot take the lock in '${store.directory}' (EISDIR); this synth must write the store (material is missing, expiring, changed or left half-written by a killed synth): make the directory writable, or synthesize once where it is`);
  });
});
