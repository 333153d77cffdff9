import * as path from 'path';
import { BoundedReadError, readRegularFileSync } from '../k8s/bounded-read';
import { readKeyFile } from './store-files';

/**
 * PEM-encoded material (certificates or a private key), read from a file or
 * given inline.
 *
 * Files are read when the construct that uses them is created, never later,
 * and their contents are never printed.
 */
export class Pem {
  /**
   * PEM read from a file, e.g. `/etc/kubernetes/pki/ca.crt`.
   *
   * @param filePath absolute path, or relative to the working directory
   */
  public static fromFile(filePath: string): Pem {
    if (typeof filePath !== 'string' || filePath.trim() === '') {
      throw new Error(`Pem.fromFile: the path is empty; pass the path of a PEM file (e.g. '/etc/kubernetes/pki/ca.crt')`);
    }
    return new Pem(`file '${filePath}'`, undefined, path.resolve(filePath));
  }

  /**
   * PEM given as a string.
   * @param pem the PEM text, e.g. read from an environment variable
   */
  public static fromString(pem: string): Pem {
    if (typeof pem !== 'string') {
      throw new Error(`Pem.fromString: expected a PEM string, got ${typeof pem}`);
    }
    return new Pem('inline PEM', pem, undefined);
  }

  /**
   * Where the PEM comes from, for messages: `file '/path'` or `inline PEM`.
   * Never the contents.
   */
  public readonly source: string;

  /**
   * Largest PEM file read (1 MiB): more than a caBundle can be, since the
   * APIService that carries it must fit in etcd's 1.5 MiB object limit.
   * @internal
   */
  public static readonly _MAX_FILE_BYTES = 1 << 20;

  private readonly text?: string;
  private readonly filePath?: string;

  private constructor(source: string, text: string | undefined, filePath: string | undefined) {
    this.source = source;
    this.text = text;
    this.filePath = filePath;
  }

  /**
   * The PEM text.
   *
   * @param prop the prop this PEM was given as, named in errors
   * @param privateKey the file holds a private key: it gets the store's
   *   treatment of key files (a symbolic link or a mode wider than 0600 is
   *   refused with the fix; see readKeyFile in store-files.ts)
   * @internal
   */
  public _read(prop: string, privateKey = false): string {
    if (this.text !== undefined) {
      return this.text;
    }
    try {
      if (privateKey) {
        const text = readKeyFile(this.filePath!, prop);
        if (text === undefined) {
          throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        }
        return text;
      }
      return readRegularFileSync(this.filePath!, Pem._MAX_FILE_BYTES).toString('utf8');
    } catch (e: any) {
      if (e instanceof BoundedReadError) {
        throw new Error(`${prop}: cannot read ${this.source}: ${e.message}; ${e.code === 'ENOTREG'
          ? 'pass the PEM file itself (a FIFO or device is not read: it could wait or run without end)'
          : `a PEM file of certificates is at most ${Pem._MAX_FILE_BYTES} bytes (an APIService, caBundle included, must fit in etcd's 1.5 MiB object limit); pass only the CAs needed`}`, { cause: e });
      }
      if (e.code === undefined) {
        // a refusal of readKeyFile, which names the prop and the fix
        throw e;
      }
      const fix: { [code: string]: string } = {
        ENOENT: 'it does not exist; check the path (relative paths start at the working directory)',
        EISDIR: 'it is a directory; pass the PEM file inside it, e.g. /etc/kubernetes/pki/ca.crt',
        EACCES: 'permission denied; run synth as a user that may read it, or copy it somewhere readable',
      };
      throw new Error(`${prop}: cannot read ${this.source} (${e.code ?? e.message}); ${fix[e.code] ?? 'check the path and its permissions'}`, { cause: e });
    }
  }
}
