import { closeSync, constants, fchmodSync, fstatSync, openSync } from 'fs';
import * as path from 'path';

/** The umask before the first synth of this turn of the event loop narrowed it, while narrowed. */
let savedUmask: number | undefined;

/** How a manifest file that carries a private key is made 0600 (for tests and messages). */
export interface ManifestProtection {
  /** the App's output directory */
  readonly outdir: string;
  /** the files that existed and were narrowed to 0600 before cdk8s rewrote them */
  readonly narrowed: string[];
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
  for (const name of [`${chartId}${ext}`, `app${ext}`]) {
    const file = path.join(outdir, name);
    let fd: number | undefined;
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
  return { done: { outdir, narrowed } };
}
