import { createHash } from 'crypto';
import { realpathSync } from 'fs';
import * as path from 'path';

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
