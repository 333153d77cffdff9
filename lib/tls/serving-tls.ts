import * as path from 'path';
import { Chart, Duration } from 'cdk8s';

import { Construct } from 'constructs';
import { assertDnsSubdomain } from '../k8s/util';
import { serviceServerName } from '../k8s/names';
import { CertManagerServing, CertManagerServingTlsOptions } from './cert-manager';
import { ServingTlsConfig, ServingTlsContext, servingDnsNames } from './serving-context';
import { CertificateStore } from '../store/certificate-store';
import { issueFromStore, userCa } from '../store/issuance';
import { CaSource, DedicatedCaRequest, StoreIssueRequest } from '../store/issuance-types';
import { KeyAlgorithm } from '../x509/key-algorithm';

export { KeyAlgorithm } from '../x509/key-algorithm';
import { checkPropTypes, Schema, T } from '../k8s/prop-types';
import { Pem } from '../store/pem';
import { clusterNameOf, isDirectoryName } from '../store/store-paths';
import { assertCurrentlyValid, assertGoAcceptsCertificate, assertGoAcceptsKey, assertKeyMatches, formatDate, parseCertificates, readPrivateKey } from '../x509/x509';
import { assertServingCertificate } from '../x509/serving-checks';
import { nameConstraintProblem } from '../x509/name-constraints';
import { CertInfo } from '../x509/cert-info';
import { verifyChain } from '../x509/chain';
import { appendToBundle, earliest, loadCaBundle, pathCaNotAfter } from './ca-bundle';
import { assertDurationDays, assertStoreOutsideOutdir, requirePem, secretNameOf } from './strategy-parts';
import { SecretOutput, sha256Hex } from './secret-output';
import { outputCache, serveServingSecret } from './serve-secret';
import { SharedCertificateStore } from '../store/shared-store';

/**
 * Options shared by the strategies that issue the serving certificate at synth time.
 */
export interface IssuedServingTlsOptions {
  /**
   * Where issued keys and certificates are kept between synths.
   * Within it, each cluster (by default: each Chart) keeps its own CA and keys.
   * @default CertificateStore.fromDefaultDirectory() - `.secure-metrics-server/pki` in the working directory (or `$SECURE_METRICS_SERVER_STORE`)
   */
  readonly store?: CertificateStore;

  /**
   * Validity of the serving certificate (never past the CA's own expiry).
   * @default Duration.days(365)
   */
  readonly validity?: Duration;

  /**
   * A stored serving certificate is reissued on synth when less than this remains.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;

  /**
   * Key algorithm of the serving certificate (and of the dedicated CA, with
   * `fromDedicatedCa()`). Supersedes `keySize`; give one or the other.
   * @default - the CA's kind: RSA_2048 for an RSA CA, the CA's curve for an ECDSA CA, ED25519 for an Ed25519 CA; RSA_2048 for the dedicated CA
   */
  readonly keyAlgorithm?: KeyAlgorithm;

  /**
   * RSA key size of the serving certificate: 2048, 3072 or 4096.
   * @default 2048
   * @deprecated use `keyAlgorithm` (`KeyAlgorithm.RSA_3072`...)
   */
  readonly keySize?: number;

  /**
   * Name of the `kubernetes.io/tls` Secret.
   * @default '<name>-tls', e.g. 'metrics-server-tls'
   */
  readonly secretName?: string;

  /**
   * A store committed to git and shared by the team, CI and the GitOps
   * controller, with every private key encrypted by SOPS (docs/gitops.md).
   * Takes the place of `store`.
   * @default - the local store (`store`)
   */
  readonly sharedStore?: SharedCertificateStore;

  /**
   * How the serving Secret appears in the manifests: `SecretOutput.sealedSecret()`
   * and `SecretOutput.sopsSecret()` carry no plaintext key (docs/gitops.md).
   * @default SecretOutput.plainSecret()
   */
  readonly secretOutput?: SecretOutput;
}

/**
 * Options for `ServingTls.fromCa()`.
 */
export interface CaServingTlsOptions extends IssuedServingTlsOptions {
  /**
   * The signing CA's certificate, e.g. `Pem.fromFile('/etc/kubernetes/pki/ca.crt')`.
   */
  readonly caCertificate: Pem;

  /**
   * The signing CA's private key (RSA, ECDSA or Ed25519, unencrypted), e.g. `Pem.fromFile('/etc/kubernetes/pki/ca.key')`.
   */
  readonly caKey: Pem;

  /**
   * More CA certificates for the APIService's caBundle, trusted beside
   * `caCertificate`: during a rotation of the cluster CA, the CA being
   * replaced (or the one coming), so that the serving certificate of either
   * verifies (docs/rotation.md). Each is checked as a root of the caBundle.
   * @default - the caBundle holds `caCertificate` only
   */
  readonly additionalTrustedCas?: Pem;
}

/**
 * Options for `ServingTls.fromDedicatedCa()`.
 */
export interface DedicatedCaServingTlsOptions extends IssuedServingTlsOptions {
  /**
   * Validity of the dedicated CA created on first synth.
   * @default Duration.days(3650)
   */
  readonly caValidity?: Duration;

  /**
   * Common Name of the dedicated CA created on first synth.
   * @default 'secure-metrics-server-ca'
   */
  readonly caCommonName?: string;

  /**
   * Share one dedicated CA, kept in the store under `shared-ca/<name>`,
   * between every instance that names it (e.g. all clusters of a fleet, with
   * the same store). Each cluster still gets its own serving key; but the
   * CA's key can then sign for every cluster of the fleet.
   * @default - each cluster gets its own dedicated CA
   */
  readonly sharedCaName?: string;
}

/**
 * Options for `ServingTls.fromPem()`.
 */
export interface PemServingTlsOptions {
  /** The serving certificate (leaf first, intermediates may follow). */
  readonly certificate: Pem;
  /** The serving certificate's private key (unencrypted). */
  readonly privateKey: Pem;
  /** The CA bundle kube-apiserver trusts for this certificate (becomes the APIService's caBundle). */
  readonly caBundle: Pem;
  /**
   * Warn when the certificate expires within this window.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;
  /**
   * Name of the `kubernetes.io/tls` Secret.
   * @default '<name>-tls', e.g. 'metrics-server-tls'
   */
  readonly secretName?: string;
  /**
   * How the serving Secret appears in the manifests: `SecretOutput.sealedSecret()`
   * and `SecretOutput.sopsSecret()` carry no plaintext key (docs/gitops.md).
   * Their ciphertext is cached in `store`, so that repeated synths are byte-identical.
   * @default SecretOutput.plainSecret()
   */
  readonly secretOutput?: SecretOutput;
  /**
   * Where the ciphertext of a sealed or SOPS `secretOutput` is cached
   * (`clusters/<cluster>/<identity>.pem.outputs.json`, ciphertext only: the
   * PEM files are never copied into it). Only with such a `secretOutput`.
   * @default - the default store (`CertificateStore.fromDefaultDirectory()`)
   */
  readonly store?: CertificateStore;
}

/**
 * Options for `ServingTls.fromExistingSecret()`.
 */
export interface ExistingSecretServingTlsOptions {
  /** Name of an existing `kubernetes.io/tls` Secret in the metrics-server namespace. */
  readonly secretName: string;
  /** The CA bundle that verifies the certificate in that Secret (becomes the APIService's caBundle). */
  readonly caBundle: Pem;
}

const pemCheck = (example: string) => T.instance(Pem, example);
/** The runtime type checks of `IssuedServingTlsOptions`, part of the CA strategies' options (lib/k8s/prop-types.ts). */
const ISSUED_OPTIONS_SCHEMA: Schema = {
  store: T.instance(CertificateStore, "CertificateStore.fromDirectory('.secure-metrics-server/pki')"),
  validity: T.duration('Duration.days(365)'),
  renewBefore: T.duration('Duration.days(30)'),
  keyAlgorithm: T.instance(KeyAlgorithm, 'KeyAlgorithm.ECDSA_P256'),
  keySize: T.number('2048'),
  secretName: T.string("'metrics-server-tls'"),
  sharedStore: T.instance(SharedCertificateStore, "SharedCertificateStore.fromDirectory('.secure-metrics-server/shared')"),
  secretOutput: T.instance(SecretOutput, 'SecretOutput.sealedSecret({ controllerCertificate })'),
};
/** The runtime type checks of each strategy's options, by the name of its interface. */
const OPTIONS_SCHEMAS: { readonly [optionsType: string]: Schema } = {
  CaServingTlsOptions: {
    ...ISSUED_OPTIONS_SCHEMA,
    caCertificate: pemCheck("Pem.fromFile('/etc/kubernetes/pki/ca.crt')"),
    caKey: pemCheck("Pem.fromFile('/etc/kubernetes/pki/ca.key')"),
    additionalTrustedCas: pemCheck("Pem.fromFile('ca-old.crt')"),
  },
  DedicatedCaServingTlsOptions: {
    ...ISSUED_OPTIONS_SCHEMA,
    caValidity: T.duration('Duration.days(3650)'),
    caCommonName: T.string("'secure-metrics-server-ca'"),
    sharedCaName: T.string("'fleet'"),
  },
  PemServingTlsOptions: {
    certificate: pemCheck("Pem.fromFile('tls.crt')"),
    privateKey: pemCheck("Pem.fromFile('tls.key')"),
    caBundle: pemCheck("Pem.fromFile('ca.crt')"),
    renewBefore: T.duration('Duration.days(30)'),
    secretName: T.string("'metrics-server-tls'"),
    secretOutput: ISSUED_OPTIONS_SCHEMA.secretOutput,
    store: ISSUED_OPTIONS_SCHEMA.store,
  },
  ExistingSecretServingTlsOptions: {
    secretName: T.string("'metrics-server-tls'"),
    caBundle: pemCheck("Pem.fromFile('ca.crt')"),
  },
};

/**
 * How kube-apiserver verifies metrics-server (the APIService hop), and where
 * metrics-server's serving certificate comes from.
 */
export abstract class ServingTls {
  /**
   * Annotation on the Secret and the APIService: when the CA that signs the
   * serving certificate expires (RFC 3339, UTC), where the library knows it
   * (`fromCa`, `fromDedicatedCa`, `fromPem`, and `fromExistingSecret` on the
   * APIService only).
   *
   * With `fromPem` it is the earliest end among the certificate's
   * intermediates and the caBundle's CAs that verify it; with
   * `fromExistingSecret`, the earliest end among the caBundle's CAs that are
   * valid and permit the Service's name (the Secret's certificate is not known).
   */
  public static readonly CA_NOT_AFTER_ANNOTATION = 'secure-metrics-server.io/ca-not-after';

  /**
   * Annotation on the Secret and the APIService: when the serving
   * certificate expires (RFC 3339, UTC), where the library knows it
   * (`fromCa`, `fromDedicatedCa`, `fromPem`).
   */
  public static readonly SERVING_NOT_AFTER_ANNOTATION = 'secure-metrics-server.io/serving-not-after';

  /**
   * Test clusters only: metrics-server makes a self-signed certificate for
   * `localhost` at start-up and the APIService sets `insecureSkipTLSVerify: true`.
   * Synth prints a warning and the objects carry an annotation saying so.
   */
  public static insecure(): ServingTls {
    return new InsecureServingTls();
  }

  /**
   * Issue the serving certificate at synth time with a CA you hold, such as
   * the cluster CA (`/etc/kubernetes/pki/ca.crt` and `ca.key` on kubeadm).
   * @param options the CA certificate and key, and the serving certificate's settings
   */
  public static fromCa(options: CaServingTlsOptions): ServingTls {
    checkPropTypes('ServingTls.fromCa', options, {}, 'CaServingTlsOptions', false);
    return new CaIssuedServingTls(options);
  }

  /**
   * Issue the serving certificate at synth time with a CA of its own, which
   * the library creates in the certificate store on first synth.
   * @param options the store, the CA's and the serving certificate's settings
   */
  public static fromDedicatedCa(options: DedicatedCaServingTlsOptions = {}): ServingTls {
    checkPropTypes('ServingTls.fromDedicatedCa', options, {}, 'DedicatedCaServingTlsOptions');
    return new DedicatedCaServingTls(options);
  }

  /**
   * A certificate, key and CA bundle you already have, as PEM.
   * @param options the certificate, its private key and the CA bundle
   */
  public static fromPem(options: PemServingTlsOptions): ServingTls {
    checkPropTypes('ServingTls.fromPem', options, {}, 'PemServingTlsOptions', false);
    return new PemServingTls(options);
  }

  /**
   * A `kubernetes.io/tls` Secret that already exists in the cluster, plus the
   * CA bundle that verifies it. No private key appears in the synthesized YAML.
   * @param options the Secret's name and the CA bundle
   */
  public static fromExistingSecret(options: ExistingSecretServingTlsOptions): ServingTls {
    checkPropTypes('ServingTls.fromExistingSecret', options, {}, 'ExistingSecretServingTlsOptions', false);
    return new ExistingSecretServingTls(options);
  }

  /**
   * cert-manager issues and renews the serving certificate in the cluster,
   * and its cainjector writes the APIService's caBundle
   * (`cert-manager.io/inject-ca-from`). Without an issuer, a self-signed CA
   * chain is created in the metrics-server namespace.
   * @param options the issuer, lifetimes and key of the Certificate
   */
  public static fromCertManager(options: CertManagerServingTlsOptions = {}): ServingTls {
    checkPropTypes('ServingTls.fromCertManager', options, {}, 'CertManagerServingTlsOptions');
    return new CertManagerServingTls(options);
  }

  /**
   * Whether this choice leaves the APIService hop unverified.
   */
  public abstract readonly isInsecure: boolean;

  /**
   * Validates the choice and creates what it needs under `scope`.
   * @internal
   */
  public abstract _bind(scope: Construct, context: ServingTlsContext): ServingTlsConfig;
}

class InsecureServingTls extends ServingTls {
  public readonly isInsecure = true;

  public _bind(): ServingTlsConfig {
    return { insecure: true, warnings: [] };
  }
}

/** The expiry annotations of the dates known (dates of stored material: stable across synths). */
function expiryAnnotations(caNotAfter: Date | undefined, servingNotAfter: Date): { [key: string]: string } {
  return {
    ...(caNotAfter ? { [ServingTls.CA_NOT_AFTER_ANNOTATION]: formatDate(caNotAfter) } : {}),
    [ServingTls.SERVING_NOT_AFTER_ANNOTATION]: formatDate(servingNotAfter),
  };
}

abstract class IssuedServingTls extends ServingTls {
  public readonly isInsecure = false;
  protected readonly store: CertificateStore;
  protected readonly validity: Duration;
  protected readonly renewBefore: Duration;

  constructor(private readonly options: IssuedServingTlsOptions) {
    super();
    this.store = options.store ?? CertificateStore.fromDefaultDirectory();
    this.validity = options.validity ?? Duration.days(365);
    this.renewBefore = options.renewBefore ?? Duration.days(30);
  }

  private resolveKeyAlgorithm(prop: string): KeyAlgorithm | undefined {
    const { keyAlgorithm, keySize } = this.options;
    if (keyAlgorithm !== undefined && keySize !== undefined) {
      throw new Error(`${prop}.keyAlgorithm: keyAlgorithm (${keyAlgorithm}) and keySize (${keySize}) are both set; keySize is deprecated: remove it and keep keyAlgorithm`);
    }
    if (keyAlgorithm !== undefined && !KeyAlgorithm._all().includes(keyAlgorithm)) {
      throw new Error(`${prop}.keyAlgorithm: ${String(keyAlgorithm)} is not a KeyAlgorithm; use one of ${KeyAlgorithm._all().map(a => `KeyAlgorithm.${a.name}`).join(', ')}`);
    }
    if (keySize !== undefined) {
      const rsa = KeyAlgorithm._ofRsaBits(keySize);
      if (!rsa) {
        throw new Error(`${prop}.keySize: ${keySize} is not supported; use 2048, 3072 or 4096`);
      }
      return rsa;
    }
    return keyAlgorithm;
  }

  /** the name of the options interface, for the type checks */
  protected abstract readonly optionsType: string;

  /** More CAs for the caBundle, after the signing CA's (none by default). */
  protected extraTrustedCas(_context: ServingTlsContext, _warnings: string[]): CertInfo[] {
    return [];
  }

  /** Validates the strategy's own inputs and returns the CA to sign with. */
  protected abstract signingCa(context: ServingTlsContext, keyAlgorithm: KeyAlgorithm | undefined): { userCa?: CaSource; dedicatedCa?: DedicatedCaRequest };

  public _bind(scope: Construct, context: ServingTlsContext): ServingTlsConfig {
    const prop = context.prop;
    checkPropTypes(prop, this.options, OPTIONS_SCHEMAS[this.optionsType], this.optionsType);
    const secretName = secretNameOf(prop, this.options.secretName, context);
    const keyAlgorithm = this.resolveKeyAlgorithm(prop);
    assertDurationDays(`${prop}.validity`, this.validity, 1);
    if (this.renewBefore.toMilliseconds() <= 0 || this.renewBefore.toMilliseconds() >= this.validity.toMilliseconds()) {
      throw new Error(`${prop}.renewBefore: ${this.renewBefore.toHumanString()} must be positive and shorter than validity (${this.validity.toHumanString()}); use e.g. Duration.days(30)`);
    }
    assertStoreOutsideOutdir(prop, this.store, scope);
    const ca = this.signingCa(context, keyAlgorithm);
    const extraWarnings: string[] = [];
    const extra = this.extraTrustedCas(context, extraWarnings);
    const serverName = serviceServerName(context.serviceName, context.namespace);
    const dnsNames = servingDnsNames(context.serviceName, context.namespace, context.clusterDomain);
    const chart = Chart.of(scope);
    const app = scope.node.root;
    const issue: StoreIssueRequest = {
      prop,
      store: this.store,
      cluster: {
        name: (this.options.sharedStore?.cluster ?? this.store.cluster) ?? clusterNameOf(chart.node.path),
        derived: (this.options.sharedStore?.cluster ?? this.store.cluster) === undefined,
        chartPath: chart.node.path,
        appClusters: () => new Set(app.node.findAll().filter(c => Chart.isChart(c)).map(c => clusterNameOf(c.node.path))),
        addValidation: check => scope.node.addValidation({ validate: check }),
        scope,
      },
      ...ca,
      identity: dnsNames[dnsNames.length - 1],
      serving: {
        commonName: serverName,
        dnsNames,
        validity: this.validity,
        renewBefore: this.renewBefore,
        keyAlgorithm,
        now: context.now,
      },
    };
    // the Secret in the chosen output form, from the local or the shared store (lib/tls/serve-secret.ts)
    if (this.options.store !== undefined && this.options.sharedStore !== undefined) {
      throw new Error(`${prop}.sharedStore: both store ('${this.options.store.directory}') and sharedStore ('${this.options.sharedStore.directory}') are set; give one: sharedStore for a store committed to git, store for a local one`);
    }
    const result = serveServingSecret({
      scope, prop, secretName, namespace: context.namespace, labels: context.labels, now: context.now,
      output: this.options.secretOutput ?? SecretOutput.plainSecret(), sharedStore: this.options.sharedStore,
      issue, issueFromStore, annotationsOf: expiryAnnotations,
    });
    const expiry = expiryAnnotations(result.caNotAfter, result.notAfter);
    return {
      insecure: false,
      secretName,
      secret: result.secret,
      caBundlePem: appendToBundle(result.caCertPem, extra),
      apiServiceAnnotations: expiry,
      warnings: [...result.warnings, ...extraWarnings],
    };
  }
}

class CaIssuedServingTls extends IssuedServingTls {
  protected readonly optionsType = 'CaServingTlsOptions';
  constructor(private readonly caOptions: CaServingTlsOptions) {
    super(caOptions);
    requirePem('ServingTls.fromCa', caOptions, { caCertificate: "Pem.fromFile('/etc/kubernetes/pki/ca.crt')", caKey: "Pem.fromFile('/etc/kubernetes/pki/ca.key')" });
  }

  protected extraTrustedCas(context: ServingTlsContext, warnings: string[]): CertInfo[] {
    const extra = this.caOptions.additionalTrustedCas;
    return extra === undefined ? [] : loadCaBundle(`${context.prop}.additionalTrustedCas`, extra, context.now, warnings);
  }

  protected signingCa(context: ServingTlsContext): { userCa: CaSource } {
    const { caCertificate, caKey } = this.caOptions;
    return {
      userCa: userCa(context.prop, caCertificate._read(`${context.prop}.caCertificate`), caCertificate.source,
        caKey._read(`${context.prop}.caKey`, true), caKey.source, context.now,
        servingDnsNames(context.serviceName, context.namespace, context.clusterDomain)),
    };
  }
}

class DedicatedCaServingTls extends IssuedServingTls {
  protected readonly optionsType = 'DedicatedCaServingTlsOptions';
  private readonly caValidity: Duration;
  private readonly caCommonName: string;
  private readonly sharedCaName?: string;

  constructor(options: DedicatedCaServingTlsOptions) {
    super(options);
    this.sharedCaName = options.sharedCaName;
    this.caValidity = options.caValidity ?? Duration.days(3650);
    this.caCommonName = options.caCommonName ?? 'secure-metrics-server-ca';
  }

  protected signingCa(context: ServingTlsContext, keyAlgorithm: KeyAlgorithm | undefined): { dedicatedCa: DedicatedCaRequest } {
    assertDurationDays(`${context.prop}.caValidity`, this.caValidity, 1);
    if (this.caValidity.toMilliseconds() <= this.renewBefore.toMilliseconds()) {
      throw new Error(`${context.prop}.caValidity: ${this.caValidity.toHumanString()} must be longer than renewBefore (${this.renewBefore.toHumanString()}); use e.g. Duration.days(3650)`);
    }
    if (typeof this.caCommonName !== 'string' || this.caCommonName.trim() === '' || this.caCommonName.length > 64) {
      throw new Error(`${context.prop}.caCommonName: '${this.caCommonName}' must be 1 to 64 characters; use e.g. 'secure-metrics-server-ca'`);
    }
    // eslint-disable-next-line no-control-regex -- a CA name with a control character is refused
    if (/[\u0000-\u001f\u007f-\u009f]/.test(this.caCommonName) || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(this.caCommonName)) {
      throw new Error(`${context.prop}.caCommonName: ${JSON.stringify(this.caCommonName)} holds a control character or a lone surrogate, which a certificate name cannot carry; use printable text, e.g. 'secure-metrics-server-ca'`);
    }
    const shared = this.sharedCaName;
    if (shared !== undefined && !isDirectoryName(shared)) {
      throw new Error(`${context.prop}.sharedCaName: '${shared}' is not a usable directory name; use 1 to 100 letters, digits, '-', '_' and '.', e.g. 'fleet'`);
    }
    return { dedicatedCa: { commonName: this.caCommonName, validity: this.caValidity, keyAlgorithm: keyAlgorithm ?? KeyAlgorithm.RSA_2048,
      sharedName: shared } };
  }
}

class PemServingTls extends ServingTls {
  public readonly isInsecure = false;

  constructor(private readonly options: PemServingTlsOptions) {
    super();
    requirePem('ServingTls.fromPem', options, { certificate: "Pem.fromFile('tls.crt')", privateKey: "Pem.fromFile('tls.key')", caBundle: "Pem.fromFile('ca.crt')" });
  }

  /** The Secret in the output form chosen; a sealed or SOPS one cached in the store. */
  private output(scope: Construct, context: ServingTlsContext) {
    const prop = context.prop;
    const output = this.options.secretOutput ?? SecretOutput.plainSecret();
    const store = this.options.store ?? CertificateStore.fromDefaultDirectory();
    if (output.containsPlaintextKey && this.options.store !== undefined) {
      throw new Error(`${prop}.store: '${this.options.store.directory}' is set, but secretOutput is the plain Secret, which caches nothing in a store; remove store, or set secretOutput to SecretOutput.sealedSecret() or SecretOutput.sopsSecret()`);
    }
    if (!output.containsPlaintextKey) {
      assertStoreOutsideOutdir(prop, store, scope);
    }
    const cluster = store.cluster ?? clusterNameOf(Chart.of(scope).node.path);
    const dnsNames = servingDnsNames(context.serviceName, context.namespace, context.clusterDomain);
    const cache = outputCache(prop, path.join(store._clusterDirectory(cluster), `${dnsNames[dnsNames.length - 1]}.pem.outputs.json`),
      store._lockFile(), store.directory, 'store');
    return {
      render: (name: string, certPem: string, keyPem: string, annotations: { [key: string]: string }) => output._render(scope, {
        prop, name, namespace: context.namespace, labels: context.labels, annotations, now: context.now,
        certPem, keySha256: sha256Hex(keyPem), key: () => keyPem, cache: cache.view(sha256Hex(certPem)),
      }),
    };
  }

  public _bind(scope: Construct, context: ServingTlsContext): ServingTlsConfig {
    const prop = context.prop;
    checkPropTypes(prop, this.options, OPTIONS_SCHEMAS.PemServingTlsOptions, 'PemServingTlsOptions');
    const { certificate, privateKey, caBundle } = this.options;
    const secretName = secretNameOf(prop, this.options.secretName, context);
    const renewBefore = this.options.renewBefore ?? Duration.days(30);
    const warnings: string[] = [];
    const serverName = serviceServerName(context.serviceName, context.namespace);

    const chain = parseCertificates(`${prop}.certificate`, certificate._read(`${prop}.certificate`), certificate.source);
    const leaf = chain[0];
    if (leaf.isCa && chain.length > 1 && chain.slice(1).some(c => !c.isCa)) {
      throw new Error(`${prop}.certificate: ${certificate.source} holds the chain in the wrong order (the first certificate, ${leaf.subject}, is a CA); put the leaf first, then its intermediates`);
    }
    assertServingCertificate(`${prop}.certificate`, leaf, serverName);
    assertCurrentlyValid(`${prop}.certificate`, leaf, context.now, 'the serving certificate');
    chain.forEach((c, i) => warnings.push(...assertGoAcceptsCertificate(`${prop}.certificate`, c, i === 0 ? 'the serving certificate' : 'the intermediate certificate')));
    const read = readPrivateKey(`${prop}.privateKey`, privateKey._read(`${prop}.privateKey`, true), privateKey.source);
    // only this key, re-encoded, is written: never anything else of the file
    const keyPem = read.pem;
    assertKeyMatches(`${prop}.privateKey`, leaf, read.key, 'the serving certificate');
    assertGoAcceptsKey(`${prop}.privateKey`, read.key, 'the serving key', leaf.subject, true);
    const roots = loadCaBundle(`${prop}.caBundle`, caBundle, context.now, warnings);
    const problem = verifyChain(leaf, chain.slice(1), roots, context.now);
    if (problem) {
      throw new Error(`${prop}.caBundle: the CA bundle in ${caBundle.source} does not verify the serving certificate (${problem}); pass the CA that issued ${certificate.source}`);
    }
    if (leaf.notAfter.getTime() - context.now.getTime() < renewBefore.toMilliseconds()) {
      warnings.push(`${prop}.certificate: the serving certificate expires on ${formatDate(leaf.notAfter)}, within ${renewBefore.toHumanString()}; renew it`);
    }
    const expiry = expiryAnnotations(pathCaNotAfter(leaf, chain.slice(1), roots, context.now), leaf.notAfter);
    const certPem = chain.map(c => c.pem.trim()).join('\n') + '\n';
    return {
      insecure: false,
      secretName,
      secret: this.output(scope, context).render(secretName, certPem, keyPem, expiry),
      caBundlePem: roots.map(c => c.pem.trim()).join('\n') + '\n',
      apiServiceAnnotations: expiry,
      warnings,
    };
  }
}

class ExistingSecretServingTls extends ServingTls {
  public readonly isInsecure = false;

  constructor(private readonly options: ExistingSecretServingTlsOptions) {
    super();
    requirePem('ServingTls.fromExistingSecret', options, { caBundle: "Pem.fromFile('ca.crt') (the CA that issued the Secret's certificate)" });
  }

  public _bind(_scope: Construct, context: ServingTlsContext): ServingTlsConfig {
    const prop = context.prop;
    checkPropTypes(prop, this.options, OPTIONS_SCHEMAS.ExistingSecretServingTlsOptions, 'ExistingSecretServingTlsOptions');
    assertDnsSubdomain(`${prop}.secretName`, this.options.secretName);
    const warnings: string[] = [];
    const roots = loadCaBundle(`${prop}.caBundle`, this.options.caBundle, context.now, warnings);
    // the Secret's certificate must carry <svc>.<ns>.svc, so a bundle whose every root's name
    // constraints forbid that name verifies no certificate the Secret could hold
    const serverName = serviceServerName(context.serviceName, context.namespace);
    const forbidden = roots.map(root => nameConstraintProblem(root, { dnsNames: [serverName], ipAddresses: [] }));
    if (forbidden.every(p => p !== undefined)) {
      throw new Error(`${prop}.caBundle: ${forbidden[0]}, so kube-apiserver cannot verify any serving certificate for '${serverName}' under it; pass the CA that issued the Secret's certificate, with name constraints that permit the Service's names`);
    }
    // the Secret's certificate is not known here: the earliest end among the CAs that could verify it
    const usable = roots.filter((root, i) => forbidden[i] === undefined && root.notAfter.getTime() > context.now.getTime());
    const caNotAfter = earliest(usable.map(r => r.notAfter));
    return {
      insecure: false,
      secretName: this.options.secretName,
      caBundlePem: roots.map(c => c.pem.trim()).join('\n') + '\n',
      ...(caNotAfter ? { apiServiceAnnotations: { [ServingTls.CA_NOT_AFTER_ANNOTATION]: formatDate(caNotAfter) } } : {}),
      warnings,
    };
  }
}

/**
 * The serving certificate comes from cert-manager; cainjector writes the
 * APIService's caBundle (lib/tls/cert-manager.ts).
 * @internal
 */
export class CertManagerServingTls extends ServingTls {
  public readonly isInsecure = false;
  private readonly serving: CertManagerServing;

  constructor(options: CertManagerServingTlsOptions) {
    super();
    this.serving = new CertManagerServing(options);
  }

  public _bind(scope: Construct, context: ServingTlsContext): ServingTlsConfig {
    return this.serving.bind(scope, context);
  }
}
