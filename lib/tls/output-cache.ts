import { chmodSync, readFileSync } from 'fs';
import * as path from 'path';
import { SecretOutputCache } from './secret-output';
import { makeDirectory, writeAtomic } from '../store/store-files';
import { acquireLock } from '../store/store-lock';

/**
 * The cache of encrypted Secrets, one JSON file per service identity beside
 * its certificate (`<identity>.outputs.json`): entries keyed on the
 * plaintext (by digest) and the recipient or controller certificate, each
 * holding only ciphertext. Entries of an older certificate are dropped when
 * a new one is written, so the file stays small and the git diff shows the
 * change of certificate. Reading needs no lock and no key; writing takes the
 * store's lock.
 * @internal
 */
export class OutputCacheFile {
  constructor(
    private readonly file: string,
    private readonly lockFile: string,
    private readonly storeDir: string,
    /** throws when the store may not be written (a frozen synth) */
    private readonly assertMayWrite: () => void,
  ) {}

  private read(): { version: number; entries: { [entry: string]: any } } {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8'));
      if (parsed?.version === 1 && parsed.entries && typeof parsed.entries === 'object') {
        return parsed;
      }
    } catch {
      // missing or unreadable: a cache miss
    }
    return { version: 1, entries: {} };
  }

  /** The cache for the certificate whose PEM has this SHA-256. */
  public view(certSha256: string): SecretOutputCache {
    return {
      get: entry => this.read().entries[entry],
      put: (entry, value) => {
        this.assertMayWrite();
        makeDirectory(path.dirname(this.file));
        const release = acquireLock(this.lockFile, this.storeDir);
        try {
          const current = this.read();
          const entries: { [entry: string]: any } = {};
          for (const [k, v] of Object.entries(current.entries)) {
            if (v?.certSha256 === certSha256) {
              entries[k] = v;
            }
          }
          entries[entry] = value;
          const sorted: { [entry: string]: any } = {};
          for (const k of Object.keys(entries).sort()) {
            sorted[k] = entries[k];
          }
          writeAtomic(this.file, JSON.stringify({ version: 1, entries: sorted }, undefined, 2) + '\n');
          chmodSync(this.file, 0o644);
        } finally {
          release();
        }
      },
    };
  }
}
