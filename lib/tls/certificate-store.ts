import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';

/**
 * A directory that keeps the keys and certificates issued at synth time, so
 * that the next synth reuses them and the YAML stays byte-identical.
 *
 * Keep it out of git unless encrypted: it holds private keys. A store inside
 * the app's output directory (`dist/` by default), which `cdk8s synth`
 * empties, is refused. Files are written atomically with mode
 * 0600 in a directory of mode 0700. A file that cannot be read or parsed is an
 * error; nothing in the store is ever overwritten because it looked corrupt.
 */
export class CertificateStore {
  /**
   * The default certificate store directory, relative to the working directory.
   */
  public static readonly DEFAULT_DIRECTORY = '.secure-metrics-server/pki';

  /**
   * A store in the given directory (created on first use).
   *
   * @param directory absolute, or relative to the working directory
   */
  public static fromDirectory(directory: string): CertificateStore {
    if (typeof directory !== 'string' || directory.trim() === '') {
      throw new Error(`CertificateStore.fromDirectory: the directory is empty; pass a path such as '${CertificateStore.DEFAULT_DIRECTORY}'`);
    }
    return new CertificateStore(directory);
  }

  /**
   * The store in `.secure-metrics-server/pki` (`DEFAULT_DIRECTORY`) under the working directory.
   */
  public static fromDefaultDirectory(): CertificateStore {
    return new CertificateStore(CertificateStore.DEFAULT_DIRECTORY);
  }

  /**
   * The store directory, resolved against the working directory.
   */
  public readonly directory: string;

  private constructor(directory: string) {
    this.directory = path.resolve(directory);
  }

  /**
   * The path of a file in the store.
   * @internal
   */
  public _path(name: string): string {
    return path.join(this.directory, name);
  }

  /**
   * Reads a file, or returns undefined when it does not exist.
   * @internal
   */
  public _read(name: string): string | undefined {
    const file = this._path(name);
    try {
      return readFileSync(file, 'utf8');
    } catch (e: any) {
      if (e.code === 'ENOENT') {
        return undefined;
      }
      throw new Error(`store: cannot read '${file}' (${e.code ?? e.message}); fix its permissions, or restore it from your backup`);
    }
  }

  /**
   * Writes files atomically (temporary file, fsync, rename) with mode 0600.
   * @internal
   */
  public _write(files: { [name: string]: string }): void {
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    } catch (e: any) {
      throw new Error(`store: cannot create '${this.directory}' (${e.code ?? e.message}); choose a writable directory`);
    }
    if (!statSync(this.directory).isDirectory()) {
      throw new Error(`store: '${this.directory}' is not a directory; choose a directory for the certificate store`);
    }
    for (const [name, content] of Object.entries(files)) {
      const target = this._path(name);
      const tmp = path.join(this.directory, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      let fd: number | undefined;
      try {
        fd = openSync(tmp, 'wx', 0o600);
        writeSync(fd, content);
        fsyncSync(fd);
        closeSync(fd);
        fd = undefined;
        renameSync(tmp, target);
      } catch (e: any) {
        if (fd !== undefined) {
          closeSync(fd);
        }
        try {
          unlinkSync(tmp);
        } catch {
          // nothing to clean up
        }
        throw new Error(`store: cannot write '${target}' (${e.code ?? e.message}); choose a writable directory`);
      }
    }
  }
}
