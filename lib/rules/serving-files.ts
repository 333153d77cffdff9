import { InstallContext } from './model';
import { resolveFile } from './mounts';

// The serving certificate and key files of metrics-server, shared by the serving,
// APIService and gitops checks (its own file: checks-serving.ts and checks-gitops.ts use each other's parts).

/** A file metrics-server reads, and how the manifest names it (for messages). */
export interface ServingFile {
  readonly path: string;
  /** `--tls-cert-file=/x/tls.crt`, or `--cert-dir=/x (apiserver.crt)` */
  readonly label: string;
  readonly evidence: string;
  readonly flagName: string;
}

/**
 * The serving certificate and key files metrics-server uses: `--tls-cert-file`
 * and `--tls-private-key-file`, or, without them, `apiserver.crt` and
 * `apiserver.key` in `--cert-dir` when that directory is mounted from a Secret
 * (the API server library serves existing files there instead of generating a
 * self-signed pair). Undefined when metrics-server makes its own certificate.
 * @internal
 */
export function servingFiles(ctx: InstallContext): { cert?: ServingFile; key?: ServingFile } | undefined {
  const flag = (name: string): ServingFile | undefined => {
    const v = ctx.flags.get(name);
    return v === undefined ? undefined : { path: v, label: `--${name}=${v}`, evidence: ctx.flags.evidence(name), flagName: `--${name}` };
  };
  const cert = flag('tls-cert-file');
  const key = flag('tls-private-key-file');
  if (cert || key) {
    return { cert, key };
  }
  const dir = ctx.flags.get('cert-dir');
  if (dir === undefined) {
    return undefined;
  }
  const inDir = (file: string): ServingFile => ({ path: `${dir.replace(/\/+$/, '')}/${file}`, label: `--cert-dir=${dir} (${file})`, evidence: ctx.flags.evidence('cert-dir'), flagName: '--cert-dir' });
  const src = resolveFile(ctx.podSpec, ctx.container, inDir('apiserver.crt').path);
  return src && src.kind === 'Secret' ? { cert: inDir('apiserver.crt'), key: inDir('apiserver.key') } : undefined;
}
