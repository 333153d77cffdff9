import { KeyObject } from 'crypto';
import { mentionsPrivateKey } from '../x509/pem-decode';
import { assertCurrentlyValid, assertKeyMatches, formatDate, parseCertificates, parsePrivateKey, X509Refusal } from '../x509/x509';
import { assertServingCertificate, coversServerName } from '../x509/serving-checks';
import { CertInfo } from '../x509/cert-info';
import { verifyChain } from '../x509/chain';
import { decodeCaBundle } from './ca-bundle';
import { serviceServerName } from '../k8s/names';
import { sniCoveredNames } from '../k8s/metrics-server-flags';
import { InstallContext, isObj, meta, str } from './model';
import { dataValue, resolveFile } from './mounts';
import { Rules } from './registry';
import { ServingFile, servingFiles } from './serving-files';
import { isSopsEncrypted, sealedSecretFor } from './checks-gitops';
import { SourcedObject } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why x509.ts refused (its structured reason, without the prop and the fix). */
function reasonOf(e: unknown): string {
  return e instanceof X509Refusal ? e.reason : e instanceof Error ? e.message : String(e);
}

/** The name kube-apiserver dials: `<service>.<namespace>.svc`. */
function serverName(ctx: InstallContext): string | undefined {
  const spec = ctx.apiService && isObj(ctx.apiService.object.spec) ? ctx.apiService.object.spec : undefined;
  const svc = spec && isObj(spec.service) ? spec.service : undefined;
  const name = str(svc?.name) ?? (ctx.service ? meta(ctx.service.object).name : undefined);
  const ns = str(svc?.namespace) ?? (ctx.service ? meta(ctx.service.object).namespace : undefined)
    ?? (ctx.deployment ? meta(ctx.deployment.object).namespace : undefined);
  return name && ns ? serviceServerName(name, ns) : undefined;
}

interface Loaded {
  readonly object?: SourcedObject;
  readonly text?: string;
}

/** Follows a file to its Secret/ConfigMap key; reports SMS017 or SMS090 on the way. */
function load(ctx: InstallContext, file: ServingFile): Loaded {
  const path = file.path;
  const src = resolveFile(ctx.podSpec, ctx.container, path);
  const deployment = ctx.deployment!;
  if (!src) {
    ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `${file.label} is not under any volumeMount of the metrics-server container`, { evidence: file.evidence });
    return {};
  }
  if (!src.volume) {
    if (!src.serviceAccount) {
      ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `${file.label} is mounted from volume '${src.volumeName}', which the pod does not define`, { evidence: file.evidence });
    }
    return {};
  }
  if (!src.kind || !src.objectName) {
    return {};
  }
  if (src.key === undefined) {
    ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `${file.label}: volume '${src.volumeName}' (${src.kind} ${src.objectName}) projects no file at that path (check items)`, { evidence: file.evidence });
    return {};
  }
  const ns = meta(deployment.object).namespace;
  const object = ctx.index.get(src.kind, ns, src.objectName);
  if (!object) {
    // gitops (checks-gitops.ts): a SealedSecret in the input makes this Secret; its checks are SMS050's
    if (src.kind !== 'Secret' || !sealedSecretFor(ctx, ns, src.objectName)) {
      ctx.absent(src.kind, ns, src.objectName, deployment, file.flagName);
    }
    return {};
  }
  if (isSopsEncrypted(object.object)) {
    // gitops: the values are SOPS ciphertext until Flux decrypts them (SMS051 checks the key is not in clear)
    return {};
  }
  const text = dataValue(object.object, src.key);
  if (text === undefined) {
    ctx.report(Rules.SERVING_SECRET_WIRING, object, `${src.kind} ${src.objectName} has no key '${src.key}' that ${file.label} reads`, { evidence: `key ${src.key}` });
    return { object };
  }
  return { object, text };
}

/** SMS008, SMS010-SMS017, SMS035: the serving certificate, when its Secret is in the input. @internal */
export function checkServingTls(ctx: InstallContext): void {
  if (!ctx.container || !ctx.deployment) {
    return;
  }
  const dialed = serverName(ctx);
  for (const sni of dialed ? ctx.flags.getAll('tls-sni-cert-key') : []) {
    if (sniCoveredNames(sni, [dialed!]).length > 0) {
      ctx.report(Rules.SNI_CERT_FOR_SERVICE, ctx.deployment, `--tls-sni-cert-key=${sni} names ${dialed}: metrics-server presents that certificate to kube-apiserver instead of its serving certificate`,
        { evidence: `--tls-sni-cert-key=${sni}` });
    }
  }
  const files = servingFiles(ctx);
  if (!files) {
    return;
  }
  if (!files.cert !== !files.key) {
    const [has, lacks] = files.cert ? ['--tls-cert-file', '--tls-private-key-file'] : ['--tls-private-key-file', '--tls-cert-file'];
    ctx.report(Rules.TLS_FLAG_WITHOUT_PEER, ctx.deployment, `${has} is set without ${lacks}`, { evidence: (files.cert ?? files.key)!.evidence });
  }
  if (!files.cert) {
    return;
  }
  const cert = load(ctx, files.cert);
  const key = files.key ? load(ctx, files.key) : {};

  if (key.object && key.text !== undefined && key.object.object.kind === 'Secret' && mentionsPrivateKey(key.text)) {
    ctx.report(Rules.KEY_IN_MANIFEST, key.object, `Secret ${meta(key.object.object).name} carries the serving private key in the manifests`, { evidence: 'a PRIVATE KEY block (not shown)' });
  }
  if (!cert.object || cert.text === undefined) {
    return;
  }
  let certs: CertInfo[];
  try {
    certs = parseCertificates('tls-cert-file', cert.text, 'the serving certificate');
  } catch (e) {
    ctx.report(Rules.CERT_REJECTED, cert.object, `the serving certificate does not parse: ${reasonOf(e)}`);
    return;
  }
  const leaf = certs[0];
  const name = serverName(ctx);
  if (name) {
    if (!coversServerName(leaf, name)) {
      ctx.report(Rules.CERT_WRONG_NAME, cert.object, `the serving certificate is not valid for ${name} (DNS SANs: ${leaf.dnsNames.join(', ') || 'none'})`, { evidence: `subject ${leaf.subject}` });
    } else {
      try {
        assertServingCertificate('tls.crt', leaf, name);
      } catch (e) {
        ctx.report(Rules.CERT_REJECTED, cert.object, `kube-apiserver rejects the serving certificate: ${reasonOf(e)}`, { evidence: `subject ${leaf.subject}` });
      }
    }
  }
  const now = ctx.now.getTime();
  let current = true;
  try {
    assertCurrentlyValid('tls.crt', leaf, ctx.now, 'the serving certificate');
  } catch (e) {
    current = false;
    ctx.report(Rules.CERT_EXPIRED, cert.object, reasonOf(e), { evidence: `valid ${formatDate(leaf.notBefore)} to ${formatDate(leaf.notAfter)}` });
  }
  // a Secret cert-manager issued is renewed by cert-manager before its end (by default when a
  // third of its lifetime is left): it is due only past that point, not for a short lifetime
  const managed = cert.object.object.kind === 'Secret' && isObj(meta(cert.object.object).annotations)
    && str((meta(cert.object.object).annotations as Record<string, unknown>)['cert-manager.io/certificate-name']) !== undefined;
  const lifetime = leaf.notAfter.getTime() - leaf.notBefore.getTime();
  const window = managed ? Math.min(ctx.expiryWarningDays * DAY_MS, lifetime / 3) : ctx.expiryWarningDays * DAY_MS;
  if (current && leaf.notAfter.getTime() - now < window) {
    const days = Math.floor((leaf.notAfter.getTime() - now) / DAY_MS);
    const why = managed ? ' (a Secret cert-manager issued, past the point where it renews it by default: is cert-manager running?)' : '';
    ctx.report(Rules.CERT_EXPIRING, cert.object, `the serving certificate expires in ${days} day(s), on ${formatDate(leaf.notAfter)}${why}`, { evidence: `notAfter ${formatDate(leaf.notAfter)}` });
  }
  if (key.text !== undefined && key.object) {
    let k: KeyObject | undefined;
    try {
      k = parsePrivateKey('tls.key', key.text, 'the serving key');
    } catch (e) {
      ctx.report(Rules.KEY_MISMATCH, key.object, `the serving private key does not parse: ${reasonOf(e)}`);
    }
    if (k) {
      try {
        assertKeyMatches('tls.key', leaf, k, 'the serving certificate');
      } catch (e) {
        ctx.report(Rules.KEY_MISMATCH, key.object, reasonOf(e));
      }
    }
  }
  const api = ctx.apiService;
  const spec = api && isObj(api.object.spec) ? api.object.spec : undefined;
  if (api && spec && typeof spec.caBundle === 'string' && spec.caBundle !== '') {
    const bundle = ctx.memo(`caBundle\u0000${spec.caBundle}`, () => decodeCaBundle(spec.caBundle));
    if (bundle.pem) {
      const roots = ctx.memo(`roots\u0000${spec.caBundle}`, () => parseCertificates('spec.caBundle', bundle.pem!, 'the caBundle'));
      const problem = verifyChain(leaf, certs.slice(1), roots, ctx.now);
      if (problem) {
        ctx.report(Rules.CERT_NOT_VERIFIED, api, `the serving certificate in Secret ${meta(cert.object.object).name} does not verify against spec.caBundle: ${problem}`, { evidence: `leaf ${leaf.subject}` });
      }
    }
  }
}
