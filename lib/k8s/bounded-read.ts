/**
 * Bounded reads of user-named files: one place for the rule that a read of a
 * path the user gives never waits without end and never takes more than a
 * limit of memory, whatever the path names (a FIFO with no writer, /dev/zero,
 * a 2 GB file, a file that grows while it is read).
 * @internal
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'fs';
import { createReadStream, promises as fsp } from 'fs';

/** Why a bounded read refused a file; `code` is for callers, the message for people. */
export class BoundedReadError extends Error {
  constructor(message: string, public readonly code: 'ENOTREG' | 'EFBIG', public readonly size?: number) {
    super(message);
  }
}

/** What a path is, for a message: 'a FIFO', 'a character device', ... */
function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Reads a regular file, at most `limit` bytes. It is opened non-blocking, so
 * that a FIFO without a writer is refused at once instead of waiting for one;
 * anything but a regular file is refused (`ENOTREG`); more than `limit` bytes
 * is refused (`EFBIG`) after reading at most `limit + 1` bytes, whatever the
 * file's size says (it may grow while it is read). Errors of `open` (ENOENT,
 * EACCES, ELOOP with `noFollow`, ...) are thrown as they are.
 * @internal
 */
export function readRegularFileSync(file: string, limit: number, options: { readonly noFollow?: boolean; readonly onStat?: (st: import('fs').Stats) => void } = {}): Buffer {
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (options.noFollow ? constants.O_NOFOLLOW : 0);
  const fd = openSync(file, flags);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      // as readFileSync says it, so that callers keep their message for a directory
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    }
    if (!st.isFile()) {
      throw new BoundedReadError(`it is ${kindOf(st)}, not a regular file`, 'ENOTREG');
    }
    options.onStat?.(st);
    if (st.size > limit) {
      throw new BoundedReadError(`it is ${st.size} bytes, more than the limit of ${limit}`, 'EFBIG', st.size);
    }
    // room for the stated size and one byte more, to see a file that grew; grown as needed up to limit + 1
    let buf = Buffer.alloc(Math.min(limit + 1, st.size + 1));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > limit) {
          throw new BoundedReadError(`it is more than the limit of ${limit} bytes (it grew while it was read; reading stopped there)`, 'EFBIG');
        }
        const bigger = Buffer.alloc(Math.min(limit + 1, Math.max(buf.length * 2, 64 * 1024)));
        buf.copy(bigger);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) {
        return buf.subarray(0, n);
      }
      n += got;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a file of manifests, at most `limit + 1` bytes whatever it is: a
 * regular file as `readRegularFileSync` (its size is not trusted), and a
 * FIFO or character device (`<(kustomize build)`, /dev/stdin, /dev/zero) as a
 * stream that stops at `limit + 1` bytes. The caller compares the length
 * with `limit`. A directory, socket or block device is refused (`ENOTREG`).
 * @internal
 */
export async function readManifestFile(file: string, limit: number): Promise<Buffer> {
  const st = await fsp.stat(file);
  if (st.isFile()) {
    return readRegularFileSync(file, limit);
  }
  if (!st.isFIFO() && !st.isCharacterDevice()) {
    throw new BoundedReadError(`it is ${kindOf(st)}, not a file of manifests`, 'ENOTREG');
  }
  const stream = createReadStream(file);
  return readLimited(stream, limit);
}

/**
 * Reads a stream to its end, or until it has given more than `limit` bytes:
 * then it stops reading (the stream is paused and destroyed) and resolves with
 * the first `limit + 1` bytes, so that the caller can say it is too large.
 * @internal
 */
export function readLimited(stream: NodeJS.ReadableStream & { destroy?(): void }, limit = Infinity): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > limit) {
        stream.removeListener('data', onData);
        stream.pause();
        stream.destroy?.();
        resolve(Buffer.concat(chunks).subarray(0, limit + 1));
      }
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
