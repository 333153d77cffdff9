import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { isDnsSubdomain, serviceServerName } from '../k8s/names';
import { goDurationNs } from '../k8s/metrics-server-flags';
import type * as CertManagerIo from '../../imports/cert-manager.io';
import type { CertificateSpecPrivateKey, CertificateSpecPrivateKeyRotationPolicy } from '../../imports/cert-manager.io';
import { KeyAlgorithm } from '../x509/key-algorithm';
import { ServingTlsConfig, ServingTlsContext, servingDnsNames } from './serving-context';


const HOUR_MS = 3600000;
const MINUTE_MS = 60000;

/**
 * The cert-manager issuer that signs the serving certificate: an `Issuer` in
 * the metrics-server namespace or a `ClusterIssuer`.
 *
 * The issuer must put the CA that signed the certificate into the Secret's
 * `ca.crt` (CA, Vault and self-signed issuers do), because cainjector copies
 * that key into the APIService's caBundle.
 */
export class CertManagerIssuer {
  /**
   * The annotation cert-manager's cainjector reads to fill in the APIService's
   * caBundle (`cert-manager.io/inject-ca-from: <namespace>/<certificate>`).
   */
  public static readonly INJECT_CA_FROM_ANNOTATION = 'cert-manager.io/inject-ca-from';

  /**
   * An `Issuer` in the metrics-server namespace, e.g. a CA issuer.
   * @param name the Issuer's `metadata.name`
   */
  public static issuer(name: string): CertManagerIssuer {
    return new CertManagerIssuer('Issuer', name);
  }

  /**
   * A `ClusterIssuer`, e.g. one holding the cluster CA.
   * @param name the ClusterIssuer's `metadata.name`
   */
  public static clusterIssuer(name: string): CertManagerIssuer {
    return new CertManagerIssuer('ClusterIssuer', name);
  }

  /** API group of the issuer. */
  public readonly group = 'cert-manager.io';

  private constructor(
    /** `Issuer` or `ClusterIssuer`. */
    public readonly kind: string,
    /** Name of the issuer. */
    public readonly name: string,
  ) {}
}

/**
 * The key kinds of 0.2.0's cert-manager mode, whose size came from `keySize`.
 *
 * @deprecated use `KeyAlgorithm`, as in every other mode: `KeyAlgorithm.RSA_3072`
 * for `CertManagerKeyAlgorithm.RSA` with `keySize: 3072`, `KeyAlgorithm.ECDSA_P384`
 * for `ECDSA` with 384, `KeyAlgorithm.ED25519` for `ED25519`
 */
export class CertManagerKeyAlgorithm {
  /**
   * RSA: key size 2048 (or `keySize` 3072, 4096).
   * @deprecated use `KeyAlgorithm.RSA_2048`, `RSA_3072` or `RSA_4096`
   */
  public static readonly RSA: KeyAlgorithm = KeyAlgorithm._sizeless('RSA', 'rsa', 2048);
  /**
   * ECDSA: key size 256 (or `keySize` 384).
   * @deprecated use `KeyAlgorithm.ECDSA_P256` or `ECDSA_P384`
   */
  public static readonly ECDSA: KeyAlgorithm = KeyAlgorithm._sizeless('ECDSA', 'ec', 256);
  /**
   * Ed25519: no key size.
   * @deprecated use `KeyAlgorithm.ED25519`
   */
  public static readonly ED25519: KeyAlgorithm = KeyAlgorithm._sizeless('ED25519', 'ed25519', 256);

  private constructor() {}
}

/** cert-manager's `privateKey.algorithm` per key kind, and the sizes the deprecated `keySize` may give. */
const CERT_MANAGER_KEYS: { [kind: string]: { algorithm: string; sizes: number[] } } = {
  rsa: { algorithm: 'RSA', sizes: [2048, 3072, 4096] },
  ec: { algorithm: 'ECDSA', sizes: [256, 384] },
  ed25519: { algorithm: 'Ed25519', sizes: [] },
};

/**
 * cert-manager's `privateKey.algorithm` and `size` for a `KeyAlgorithm` (or a
 * deprecated `CertManagerKeyAlgorithm` with the deprecated `keySize`).
 */
function certManagerKey(prop: string, keyAlgorithm: KeyAlgorithm | undefined, keySize: number | undefined): { algorithm: string; size?: number } {
  const valid = [...KeyAlgorithm._all(), CertManagerKeyAlgorithm.RSA, CertManagerKeyAlgorithm.ECDSA, CertManagerKeyAlgorithm.ED25519];
  if (keyAlgorithm !== undefined && !valid.includes(keyAlgorithm)) {
    throw new Error(`${prop}.keyAlgorithm: '${keyAlgorithm}' is not a KeyAlgorithm; use one of ${KeyAlgorithm._all().map(a => `KeyAlgorithm.${a.name}`).join(', ')}`);
  }
  const algorithm = keyAlgorithm ?? CertManagerKeyAlgorithm.RSA;
  const key = CERT_MANAGER_KEYS[algorithm._kind];
  if (!algorithm._isSizeless) {
    if (keySize !== undefined) {
      throw new Error(`${prop}.keyAlgorithm: keyAlgorithm (${algorithm}) and keySize (${keySize}) are both set; keySize is deprecated: remove it and keep keyAlgorithm`);
    }
    return { algorithm: key.algorithm, size: key.sizes.length === 0 ? undefined : algorithm._bits };
  }
  const name = key.algorithm.toUpperCase();
  if (key.sizes.length === 0 && keySize !== undefined) {
    throw new Error(`${prop}.keySize: ${keySize} is set, but ${key.algorithm} keys have no size; remove keySize (deprecated), and use keyAlgorithm: KeyAlgorithm.${name}`);
  }
  const size = key.sizes.length === 0 ? undefined : keySize ?? algorithm._bits;
  if (size !== undefined && !key.sizes.includes(size)) {
    throw new Error(`${prop}.keySize: ${size} is not supported for ${key.algorithm}; use ${key.sizes.join(', ').replace(/, (\d+)$/, ' or $1')} (keySize is deprecated: use keyAlgorithm, e.g. KeyAlgorithm.${algorithm._kind === 'rsa' ? 'RSA_3072' : 'ECDSA_P384'})`);
  }
  return { algorithm: key.algorithm, size };
}

/**
 * The generated cert-manager.io classes, loaded when first used: the module is
 * about 900 KB of TypeScript, which the app runner in cdk8s.yaml
 * would otherwise transpile on every synth, cert-manager or not.
 */
function certManagerIo(): typeof CertManagerIo {
  return require('../../imports/cert-manager.io');
}

function importedAlgorithm(algorithm: string): CertManagerIo.CertificateSpecPrivateKeyAlgorithm {
  const { CertificateSpecPrivateKeyAlgorithm } = certManagerIo();
  const imported: { [algorithm: string]: CertManagerIo.CertificateSpecPrivateKeyAlgorithm } = {
    RSA: CertificateSpecPrivateKeyAlgorithm.RSA,
    ECDSA: CertificateSpecPrivateKeyAlgorithm.ECDSA,
    Ed25519: CertificateSpecPrivateKeyAlgorithm.ED25519,
  };
  return imported[algorithm];
}

/**
 * Options for `ServingTls.fromCertManager()`.
 */
export interface CertManagerServingTlsOptions {
  /**
   * The issuer that signs the serving certificate.
   * @default - a self-signed CA chain in the metrics-server namespace: a
   * selfSigned `Issuer`, a CA `Certificate` and a CA `Issuer` on its Secret
   */
  readonly issuer?: CertManagerIssuer;

  /**
   * Requested lifetime of the serving certificate (`spec.duration`), at least one hour.
   * @default Duration.hours(2160) - 90 days
   */
  readonly duration?: Duration;

  /**
   * cert-manager renews the serving certificate when this much of its
   * lifetime remains (`spec.renewBefore`): at least 5 minutes and shorter than `duration`.
   * @default Duration.hours(360) - 15 days
   */
  readonly renewBefore?: Duration;

  /**
   * Private key algorithm and size of the serving certificate (and of the CA
   * in the self-signed chain), as in the other modes: cert-manager's
   * `privateKey.algorithm` and `size` (`KeyAlgorithm.ECDSA_P384` gives
   * `ECDSA` and 384). A new key is made on every renewal (`rotationPolicy: Always`).
   * @default KeyAlgorithm.RSA_2048
   */
  readonly keyAlgorithm?: KeyAlgorithm;

  /**
   * Key size with a deprecated `CertManagerKeyAlgorithm`: 2048, 3072 or 4096
   * for RSA; 256 or 384 for ECDSA; not set for Ed25519.
   * @default - 2048 for RSA, 256 for ECDSA, none for Ed25519
   * @deprecated use `keyAlgorithm` (`KeyAlgorithm.RSA_3072`...)
   */
  readonly keySize?: number;

  /**
   * Name of the `kubernetes.io/tls` Secret cert-manager writes and the Deployment mounts.
   * @default '<name>-cert-manager-tls', e.g. 'metrics-server-cert-manager-tls'
   */
  readonly secretName?: string;

  /**
   * Requested lifetime of the CA in the self-signed chain, longer than
   * `duration`. Only without `issuer`. The CA keeps its key when it is renewed
   * (`rotationPolicy: Never`), so certificates it issued stay trusted.
   * @default Duration.hours(43800) - 5 years
   */
  readonly caDuration?: Duration;
}

/** The options `CertManagerServingTlsOptions` has. */
// the option names, checked by the compiler against CertManagerServingTlsOptions itself (a
// missing or extra name does not compile): the interface is the one list
const OPTION_NAMES: { readonly [K in keyof Required<CertManagerServingTlsOptions>]: true } = {
  issuer: true, duration: true, renewBefore: true, keyAlgorithm: true, keySize: true, secretName: true, caDuration: true,
};
const KNOWN_OPTIONS = Object.keys(OPTION_NAMES);
/** Options of the other sources that carry a CA bundle or PEM material. */
const PEM_OPTIONS = ['caBundle', 'caCertificate', 'caKey', 'certificate', 'privateKey', 'store'];

/**
 * Renders a Duration the way cert-manager (Go's time.ParseDuration) reads it.
 */
function goDuration(prop: string, value: Duration, example: string): string {
  const ms = value.toMilliseconds();
  if (goDurationNs(`${ms / 1000}s`) === undefined && ms % 1000 === 0) {
    throw new Error(`${prop}: ${value.toHumanString()} is longer than a Go duration can be (about 292 years), so cert-manager refuses the Certificate; use e.g. ${example}`);
  }
  if (ms % HOUR_MS === 0) {
    return `${ms / HOUR_MS}h`;
  }
  if (ms % MINUTE_MS === 0) {
    return `${ms / MINUTE_MS}m`;
  }
  if (ms % 1000 === 0) {
    return `${ms / 1000}s`;
  }
  throw new Error(`${prop}: ${value.toHumanString()} is not a whole number of seconds; use e.g. ${example}`);
}

function assertDuration(prop: string, value: unknown, example: string): asserts value is Duration {
  if (!(value instanceof Duration)) {
    throw new Error(`${prop}: '${value}' is not a Duration; use e.g. ${example}`);
  }
}

/**
 * The serving certificate comes from cert-manager; cainjector writes the
 * APIService's caBundle. The strategy `ServingTls.fromCertManager()` binds with
 * this (lib/tls/serving-tls.ts); it knows nothing of the ServingTls class, so
 * that no import circle joins the two files.
 * @internal
 */
export class CertManagerServing {
  constructor(private readonly options: CertManagerServingTlsOptions) {
  }

  public bind(scope: Construct, context: ServingTlsContext): ServingTlsConfig {
    const prop = context.prop;
    const options = this.options ?? {};
    if (typeof options !== 'object') {
      throw new Error(`${prop}: ServingTls.fromCertManager() takes an options object, not '${options}'; use e.g. ServingTls.fromCertManager({ issuer: CertManagerIssuer.clusterIssuer('cluster-ca') })`);
    }
    for (const key of Object.keys(options)) {
      if (PEM_OPTIONS.includes(key)) {
        throw new Error(`${prop}.${key}: cert-manager issues the certificate in the cluster and cainjector writes the APIService's caBundle, so ServingTls.fromCertManager() takes no ${key}; remove it, or use ServingTls.fromPem(), fromCa() or fromExistingSecret() for your own PEM material`);
      }
      if (!KNOWN_OPTIONS.includes(key)) {
        throw new Error(`${prop}.${key}: not an option of ServingTls.fromCertManager(); use ${KNOWN_OPTIONS.join(', ')}`);
      }
    }

    // issuer
    const issuer = options.issuer;
    if (issuer !== undefined) {
      if (!(issuer instanceof CertManagerIssuer)) {
        throw new Error(`${prop}.issuer: '${issuer}' is not a CertManagerIssuer; use CertManagerIssuer.issuer('my-ca') or CertManagerIssuer.clusterIssuer('my-ca')`);
      }
      if (!isDnsSubdomain(issuer.name)) {
        throw new Error(`${prop}.issuer: '${issuer.name}' is not a valid ${issuer.kind} name; use the metadata.name of an existing ${issuer.kind}: at most 253 lower-case letters, digits, '-' and '.' (e.g. CertManagerIssuer.${issuer.kind === 'Issuer' ? 'issuer' : 'clusterIssuer'}('cluster-ca'))`);
      }
    }

    // lifetimes
    const duration = options.duration ?? Duration.hours(2160);
    const renewBefore = options.renewBefore ?? Duration.hours(360);
    assertDuration(`${prop}.duration`, duration, 'Duration.hours(2160)');
    assertDuration(`${prop}.renewBefore`, renewBefore, 'Duration.hours(360)');
    const durationText = goDuration(`${prop}.duration`, duration, 'Duration.hours(2160)');
    const renewBeforeText = goDuration(`${prop}.renewBefore`, renewBefore, 'Duration.hours(360)');
    if (duration.toMilliseconds() < HOUR_MS) {
      throw new Error(`${prop}.duration: ${duration.toHumanString()} is shorter than cert-manager's minimum of 1 hour; use e.g. Duration.hours(2160)`);
    }
    if (renewBefore.toMilliseconds() < 5 * MINUTE_MS) {
      throw new Error(`${prop}.renewBefore: ${renewBefore.toHumanString()} is shorter than cert-manager's minimum of 5 minutes; use e.g. Duration.hours(360)`);
    }
    if (renewBefore.toMilliseconds() >= duration.toMilliseconds()) {
      throw new Error(`${prop}.renewBefore: ${renewBefore.toHumanString()} must be shorter than duration (${duration.toHumanString()}); use e.g. a third of it or less, such as Duration.hours(360) with the default duration of Duration.hours(2160)`);
    }
    let caDurationText: string | undefined;
    if (options.caDuration !== undefined && issuer !== undefined) {
      throw new Error(`${prop}.caDuration: ${options.caDuration instanceof Duration ? options.caDuration.toHumanString() : `'${options.caDuration}'`} only applies to the self-signed CA chain, but issuer names ${issuer.kind} '${issuer.name}'; remove caDuration, or remove issuer to get the chain`);
    }
    if (issuer === undefined) {
      const caDuration = options.caDuration ?? Duration.hours(43800);
      assertDuration(`${prop}.caDuration`, caDuration, 'Duration.hours(43800)');
      caDurationText = goDuration(`${prop}.caDuration`, caDuration, 'Duration.hours(43800)');
      if (caDuration.toMilliseconds() <= duration.toMilliseconds()) {
        throw new Error(`${prop}.caDuration: ${caDuration.toHumanString()} must be longer than duration (${duration.toHumanString()}); use e.g. Duration.hours(43800)`);
      }
    }

    // private key
    const { algorithm, size: keySize } = certManagerKey(prop, options.keyAlgorithm, options.keySize);

    // names
    const ns = context.namespace;
    const svc = context.serviceName;
    const certificateName = svc;
    const caName = `${svc}-ca`;
    const secretName = options.secretName ?? `${svc}-cert-manager-tls`;
    if (!isDnsSubdomain(secretName)) {
      throw new Error(`${prop}.secretName: '${secretName}' is not a valid DNS subdomain name; use at most 253 lower-case letters, digits, '-' and '.' (e.g. 'metrics-server-cert-manager-tls')`);
    }
    if (issuer === undefined && secretName === caName) {
      throw new Error(`${prop}.secretName: '${secretName}' is the Secret of the self-signed chain's CA Certificate; use another name, e.g. '${svc}-cert-manager-tls'`);
    }

    const { Certificate, CertificateSpecPrivateKeyRotationPolicy, CertificateSpecUsages, Issuer } = certManagerIo();
    const privateKey = (rotationPolicy: CertificateSpecPrivateKeyRotationPolicy): CertificateSpecPrivateKey => ({
      algorithm: importedAlgorithm(algorithm),
      size: keySize,
      rotationPolicy,
    });
    const metadata = (name: string) => ({ name, namespace: ns, labels: { ...context.labels } });
    const group = new Construct(scope, 'CertManager');

    let issuerRef = issuer === undefined ? undefined : { group: issuer.group, kind: issuer.kind, name: issuer.name };
    if (issuerRef === undefined) {
      const selfSigned = new Issuer(group, 'SelfSignedIssuer', {
        metadata: metadata(`${svc}-selfsigned`),
        spec: { selfSigned: {} },
      });
      new Certificate(group, 'CaCertificate', {
        metadata: metadata(caName),
        spec: {
          isCa: true,
          commonName: 'secure-metrics-server-ca',
          secretName: caName,
          duration: caDurationText,
          privateKey: privateKey(CertificateSpecPrivateKeyRotationPolicy.NEVER),
          issuerRef: { group: 'cert-manager.io', kind: selfSigned.kind, name: selfSigned.name },
        },
      });
      const caIssuer = new Issuer(group, 'CaIssuer', {
        metadata: metadata(caName),
        spec: { ca: { secretName: caName } },
      });
      issuerRef = { group: 'cert-manager.io', kind: caIssuer.kind, name: caIssuer.name };
    }

    const certificate = new Certificate(group, 'Certificate', {
      metadata: metadata(certificateName),
      spec: {
        secretName,
        commonName: serviceServerName(svc, ns),
        dnsNames: servingDnsNames(svc, ns, context.clusterDomain),
        // keyEncipherment is for RSA key transport (RFC 5280 4.2.1.3); an
        // ECDSA or Ed25519 key cannot encipher, so it gets digitalSignature only
        usages: [CertificateSpecUsages.SERVER_AUTH, CertificateSpecUsages.DIGITAL_SIGNATURE,
          ...(algorithm === 'RSA' ? [CertificateSpecUsages.KEY_ENCIPHERMENT] : [])],
        duration: durationText,
        renewBefore: renewBeforeText,
        privateKey: privateKey(CertificateSpecPrivateKeyRotationPolicy.ALWAYS),
        issuerRef,
      },
    });

    return {
      insecure: false,
      secretName,
      apiServiceAnnotations: { [CertManagerIssuer.INJECT_CA_FROM_ANNOTATION]: `${ns}/${certificate.name}` },
      certificate,
      warnings: [],
    };
  }
}
