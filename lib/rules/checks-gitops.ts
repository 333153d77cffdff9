import { InstallContext, isObj, meta, str } from './model';
import { resolveFile } from './mounts';
import { Rules } from './registry';
import { SourcedObject } from './types';
import { servingFiles } from './serving-files';

/**
 * SMS050, SMS051: the encrypted forms of the serving Secret that a GitOps
 * repository carries instead of the plain Secret (docs/gitops.md): a Bitnami
 * SealedSecret, and a Secret encrypted with SOPS for Flux.
 * @internal
 */

const SEALED_KINDS = new Set(['SealedSecret']);

function isSealedSecret(o: SourcedObject): boolean {
  return SEALED_KINDS.has(str(o.object.kind) ?? '') && /^bitnami\.com\//.test(str(o.object.apiVersion) ?? '');
}

/** Where a SealedSecret was sealed for (its template), and its scope. */
function sealedTarget(o: SourcedObject): { name?: string; namespace?: string; scope: string } {
  const m = meta(o.object);
  const spec = isObj(o.object.spec) ? o.object.spec : {};
  const t = isObj(spec.template) && isObj(spec.template.metadata) ? spec.template.metadata : {};
  const annotations = { ...(isObj(m.annotations) ? m.annotations : {}), ...(isObj(t.annotations) ? t.annotations : {}) } as { [k: string]: unknown };
  const scope = annotations['sealedsecrets.bitnami.com/cluster-wide'] === 'true' ? 'cluster-wide'
    : annotations['sealedsecrets.bitnami.com/namespace-wide'] === 'true' ? 'namespace-wide' : 'strict';
  return { name: str(t.name) ?? m.name, namespace: str(t.namespace) ?? m.namespace, scope };
}

/** A SOPS-encrypted object: it carries SOPS's metadata; its values are ciphertext until Flux decrypts them. */
export function isSopsEncrypted(object: { [k: string]: any }): boolean {
  return isObj(object.sops) && (typeof object.sops.mac === 'string' || Array.isArray(object.sops.age));
}

/** A SealedSecret in the input makes the Secret `namespace/name` in the cluster (the controller names it after itself). */
export function sealedSecretFor(ctx: InstallContext, namespace: string | undefined, name: string): SourcedObject | undefined {
  return ctx.index.all.find(o => isSealedSecret(o) && meta(o.object).name === name && (meta(o.object).namespace ?? namespace) === namespace);
}

/** @internal */
export function checkGitopsSecrets(ctx: InstallContext): void {
  if (!ctx.deployment || !ctx.container) {
    return;
  }
  const files = servingFiles(ctx);
  const file = files?.key ?? files?.cert;
  if (!file) {
    return;
  }
  const src = resolveFile(ctx.podSpec, ctx.container, file.path);
  if (!src || src.kind !== 'Secret' || !src.objectName) {
    return;
  }
  const ns = meta(ctx.deployment.object).namespace;
  const mounted = src.objectName;
  // SMS050: a SealedSecret sealed for the mounted Secret that the controller would create elsewhere, or refuse to open
  for (const o of ctx.index.all.filter(isSealedSecret)) {
    const m = meta(o.object);
    const target = sealedTarget(o);
    const landsOn = { name: m.name, namespace: m.namespace ?? ns };
    const sealedFor = target.name === mounted && (target.namespace ?? ns) === ns;
    const named = landsOn.name === mounted && landsOn.namespace === ns;
    if (!sealedFor && !named) {
      continue;
    }
    if (!named) {
      ctx.report(Rules.SEALED_SECRET_SCOPE, o, `SealedSecret ${landsOn.namespace}/${landsOn.name} was sealed for Secret ${target.namespace ?? ns}/${target.name}, which the Deployment mounts, but the controller creates the Secret under the SealedSecret's own namespace and name${target.scope === 'strict' ? ' (and refuses to open a strict-scoped one there)' : ''}`,
        { evidence: `metadata: ${landsOn.namespace}/${landsOn.name}; template: ${target.namespace ?? ns}/${target.name}; scope ${target.scope}` });
    } else if (target.scope !== 'cluster-wide' && ((target.namespace ?? ns) !== ns || (target.scope === 'strict' && target.name !== mounted))) {
      ctx.report(Rules.SEALED_SECRET_SCOPE, o, `SealedSecret ${ns}/${mounted} names ${target.namespace ?? ns}/${target.name} in its template under ${target.scope} scope: the controller opens it only there, so Secret ${ns}/${mounted} is never created`,
        { evidence: `template: ${target.namespace ?? ns}/${target.name}; scope ${target.scope}` });
    }
  }
  // SMS051: a SOPS-encrypted Secret whose private key stayed in clear
  const secret = ctx.index.get('Secret', ns, mounted);
  if (secret && isSopsEncrypted(secret.object)) {
    const keyName = files?.key ? resolveFile(ctx.podSpec, ctx.container, files.key.path)?.key ?? 'tls.key' : 'tls.key';
    for (const field of ['data', 'stringData']) {
      const values = isObj(secret.object[field]) ? secret.object[field] : {};
      const value = values[keyName];
      if (typeof value === 'string' && value !== '' && !value.startsWith('ENC[')) {
        const regex = str(secret.object.sops.encrypted_regex);
        ctx.report(Rules.SOPS_KEY_IN_CLEAR, secret, `Secret ${ns}/${mounted} is SOPS-encrypted, but ${field}.${keyName} is in clear${regex ? ` (encrypted_regex '${regex}' does not match it)` : ''}`,
          { evidence: `sops.encrypted_regex: ${regex ?? '(none)'}` });
      }
    }
  }
}
