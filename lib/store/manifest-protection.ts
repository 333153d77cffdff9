import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, unlinkSync } from 'fs';
import * as path from 'path';

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
