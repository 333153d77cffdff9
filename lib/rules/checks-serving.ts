import { KeyObject } from 'crypto';
import { assertCurrentlyValid, assertKeyMatches, assertServingCertificate, CertInfo, formatDate, matchesHostname, parseCertificates, parsePrivateKey, verifyChain } from '../tls/x509';
import { decodeCaBundle } from './checks-api-service';
import { InstallContext, isObj, meta, str } from './model';
import { dataValue, resolveFile } from './mounts';
import { Rules } from './registry';
import { SourcedObject } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** Strips the `prop: ` prefix and `; fix` suffix x509.ts puts on its messages. */
function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^[^:]*: /, '').replace(/;[^;]*$/, '');
}

/** The name kube-apiserver dials: `<service>.<namespace>.svc`. */
function serverName(ctx: InstallContext): string | undefined {
  const spec = ctx.apiService && isObj(ctx.apiService.object.spec) ? ctx.apiService.object.spec : undefined;
  const svc = spec && isObj(spec.service) ? spec.service : undefined;
  const name = str(svc?.name) ?? (ctx.service ? meta(ctx.service.object).name : undefined);
  const ns = str(svc?.namespace) ?? (ctx.service ? meta(ctx.service.object).namespace : undefined) ?? (ctx.deployment ? meta(ctx.deployment.object).namespace : undefined);
  return name && ns ? `${name}.${ns}.svc` : undefined;
}

interface Loaded {
  readonly object?: SourcedObject;
  readonly text?: string;
}

/** Follows a file flag to its Secret/ConfigMap key; reports SMS017 or SMS090 on the way. */
function load(ctx: InstallContext, flag: string): Loaded {
  const path = ctx.flags.get(flag)!;
  const src = resolveFile(ctx.podSpec, ctx.container, path);
  const deployment = ctx.deployment!;
  if (!src) {
    ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `--${flag}=${path} is not under any volumeMount of the metrics-server container`, { evidence: ctx.flags.evidence(flag) });
    return {};
  }
  if (!src.volume) {
    if (!src.serviceAccount) {
      ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `--${flag}=${path} is mounted from volume '${src.volumeName}', which the pod does not define`, { evidence: ctx.flags.evidence(flag) });
    }
    return {};
  }
  if (!src.kind || !src.objectName) {
    return {};
  }
  if (src.key === undefined) {
    ctx.report(Rules.SERVING_SECRET_WIRING, deployment, `--${flag}=${path}: volume '${src.volumeName}' (${src.kind} ${src.objectName}) projects no file at that path (check items)`, { evidence: ctx.flags.evidence(flag) });
    return {};
  }
  const ns = meta(deployment.object).namespace;
  const object = ctx.index.get(src.kind, ns, src.objectName);
  if (!object) {
    ctx.absent(src.kind, ns, src.objectName, deployment, `--${flag}`);
    return {};
  }
  const text = dataValue(object.object, src.key);
  if (text === undefined) {
    ctx.report(Rules.SERVING_SECRET_WIRING, object, `${src.kind} ${src.objectName} has no key '${src.key}' that --${flag}=${path} reads`, { evidence: `key ${src.key}` });
    return { object };
  }
  return { object, text };
}

/** SMS008, SMS010-SMS017: the serving certificate, when its Secret is in the input. @internal */
export function checkServingTls(ctx: InstallContext): void {
  if (!ctx.container || !ctx.deployment) {
    return;
  }
  const hasCert = ctx.flags.has('tls-cert-file');
  const hasKey = ctx.flags.has('tls-private-key-file');
  if (hasCert !== hasKey) {
    ctx.report(Rules.TLS_FLAG_WITHOUT_PEER, ctx.deployment, `${hasCert ? '--tls-cert-file' : '--tls-private-key-file'} is set without ${hasCert ? '--tls-private-key-file' : '--tls-cert-file'}`,
      { evidence: ctx.flags.evidence(hasCert ? 'tls-cert-file' : 'tls-private-key-file') });
  }
  if (!hasCert) {
    return;
  }
  const cert = load(ctx, 'tls-cert-file');
  const key = hasKey ? load(ctx, 'tls-private-key-file') : {};

  if (key.object && key.text !== undefined && key.object.object.kind === 'Secret' && PRIVATE_KEY.test(key.text)) {
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
    if (!leaf.dnsNames.some(n => matchesHostname(n, name))) {
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
  if (current && leaf.notAfter.getTime() - now < ctx.expiryWarningDays * DAY_MS) {
    const days = Math.floor((leaf.notAfter.getTime() - now) / DAY_MS);
    ctx.report(Rules.CERT_EXPIRING, cert.object, `the serving certificate expires in ${days} day(s), on ${formatDate(leaf.notAfter)}`, { evidence: `notAfter ${formatDate(leaf.notAfter)}` });
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
