import { createHash, X509Certificate } from 'crypto';
import { ApiObject, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Pem } from '../store/pem';
import { protectKeyManifest } from './key-manifest';
import { checkPropTypes, Schema, T } from '../k8s/prop-types';
import { controllerPublicKey, hybridEncrypt, sealingLabel } from './sealed-secrets-crypto';
import { parseAgeRecipient } from '../store/age';
import { sopsEncryptDocument } from '../store/sops';

/**
 * The scope a SealedSecret is sealed to: where the sealed-secrets
 * controller agrees to open it (the RSA-OAEP label of the ciphertext).
 */
export class SealedSecretScope {
  /** Only under this namespace and this name (kubeseal's default). */
  public static readonly STRICT = new SealedSecretScope('strict');
  /** Under any name in this namespace (`sealedsecrets.bitnami.com/namespace-wide`). */
  public static readonly NAMESPACE_WIDE = new SealedSecretScope('namespace-wide');
  /** Under any name in any namespace (`sealedsecrets.bitnami.com/cluster-wide`). */
  public static readonly CLUSTER_WIDE = new SealedSecretScope('cluster-wide');

  /** kubeseal's name of the scope: 'strict', 'namespace-wide' or 'cluster-wide'. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }
}

/**
 * Options for `SecretOutput.sealedSecret()`.
 */
export interface SealedSecretOutputOptions {
  /**
   * The sealed-secrets controller's public certificate, e.g.
   * `Pem.fromFile('sealed-secrets.pem')` after `kubeseal --fetch-cert > sealed-secrets.pem`.
   */
  readonly controllerCertificate: Pem;

  /**
   * Where the controller may open it.
   * @default SealedSecretScope.STRICT
   */
  readonly scope?: SealedSecretScope;
}

/**
 * Options for `SecretOutput.sopsSecret()`.
 */
export interface SopsSecretOutputOptions {
  /**
   * The age recipients that may decrypt the Secret: the public key of the
   * cluster's Flux decryption Secret (`age1...`), and any others.
   */
  readonly ageRecipients: string[];
}

/**
 * What the serving Secret looks like in the synthesized manifests.
 * @internal
 */
export interface SecretRenderInput {
  readonly prop: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  readonly now: Date;
  readonly certPem: string;
  /** SHA-256 (hex) of the key's PEM: identifies the plaintext without it */
  readonly keySha256: string;
  /** the key's PEM; may throw (no identity to decrypt it, frozen synth) */
  readonly key: () => string;
  /** the ciphertext cache: get by entry key, put a new entry */
  readonly cache: SecretOutputCache;
}

/**
 * The store's cache of encrypted output, so that repeated synths are
 * byte-identical although encryption is randomized.
 * @internal
 */
export interface SecretOutputCache {
  get(entry: string): any | undefined;
  /** stores a new entry; may throw when the store cannot be written (frozen synth) */
  put(entry: string, value: any): void;
}

function sha256(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(`${Buffer.byteLength(p)}:`).update(p);
  }
  return h.digest('hex');
}

/**
 * SHA-256 (hex) of a text: how the cache's entries name their certificate
 * (lib/tls/output-cache.ts prunes by it, and its views are keyed by it) and a
 * key's plaintext. One function, so the two sides always agree. @internal
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/**
 * How the serving certificate's `kubernetes.io/tls` Secret appears in the
 * synthesized manifests: in plaintext (as before), sealed for the Bitnami
 * sealed-secrets controller, or encrypted with SOPS for Flux. The sealed
 * and SOPS forms carry no plaintext key, and their ciphertext is cached in
 * the certificate store, so repeated synths are byte-identical.
 */
export abstract class SecretOutput {
  /**
   * The plain `kubernetes.io/tls` Secret, with the private key base64-encoded
   * (for pipelines that apply from CI; audit reports SMS015 on it).
   */
  public static plainSecret(): SecretOutput {
    return new PlainSecretOutput();
  }

  /**
   * A Bitnami `SealedSecret` (bitnami.com/v1alpha1), sealed offline to the
   * controller's public certificate as `kubeseal --cert` does. The
   * controller creates the Secret in the cluster.
   */
  public static sealedSecret(options: SealedSecretOutputOptions): SecretOutput {
    checkPropTypes('SecretOutput.sealedSecret', options, SEALED_OPTIONS_SCHEMA, 'SealedSecretOutputOptions', false);
    if (!(options.controllerCertificate instanceof Pem)) {
      throw new Error("SecretOutput.sealedSecret.controllerCertificate: it is missing; pass Pem.fromFile('sealed-secrets.pem') after 'kubeseal --fetch-cert > sealed-secrets.pem'");
    }
    return new SealedSecretOutput(options.controllerCertificate, options.scope ?? SealedSecretScope.STRICT);
  }

  /**
   * A `Secret` encrypted with SOPS to age recipients (`encrypted_regex:
   * ^(data|stringData)$`), for Flux's kustomize-controller with
   * `decryption.provider: sops`.
   */
  public static sopsSecret(options: SopsSecretOutputOptions): SecretOutput {
    checkPropTypes('SecretOutput.sopsSecret', options, SOPS_OPTIONS_SCHEMA, 'SopsSecretOutputOptions', false);
    const recipients = options.ageRecipients;
    if (!Array.isArray(recipients) || recipients.length === 0) {
      throw new Error("SecretOutput.sopsSecret.ageRecipients: it is empty; pass the public key of the cluster's Flux decryption key, e.g. ['age1...'] from 'age-keygen -y age.agekey'");
    }
    recipients.forEach((r, i) => parseAgeRecipient(r, `SecretOutput.sopsSecret: ageRecipients[${i}]`));
    return new SopsSecretOutput([...new Set(recipients)].sort());
  }

  /** Whether the synthesized manifests carry the private key in plaintext (base64). */
  public abstract readonly containsPlaintextKey: boolean;

  /** @internal */
  public abstract _render(scope: Construct, input: SecretRenderInput): ApiObject;
}

class PlainSecretOutput extends SecretOutput {
  public readonly containsPlaintextKey = true;

  public _render(scope: Construct, input: SecretRenderInput): ApiObject {
    protectKeyManifest(scope, input.prop);
    return new k8s.KubeSecret(scope, 'TlsSecret', {
      metadata: { name: input.name, namespace: input.namespace, labels: input.labels, annotations: input.annotations },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(input.certPem), 'tls.key': b64(input.key()) },
    });
  }
}

/** The annotation of a scope, as kubeseal writes it on the SealedSecret and its template. */
function scopeAnnotations(scope: SealedSecretScope): { [key: string]: string } {
  if (scope === SealedSecretScope.CLUSTER_WIDE) {
    return { 'sealedsecrets.bitnami.com/cluster-wide': 'true' };
  }
  if (scope === SealedSecretScope.NAMESPACE_WIDE) {
    return { 'sealedsecrets.bitnami.com/namespace-wide': 'true' };
  }
  return {};
}

/** The controller certificates parsed in this process, by their PEM text. */
const CONTROLLERS = new Map<string, ReturnType<typeof controllerPublicKey>>();

class SealedSecretOutput extends SecretOutput {
  public readonly containsPlaintextKey = false;

  constructor(private readonly certificate: Pem, private readonly scope: SealedSecretScope) {
    super();
  }

  public _render(scope: Construct, input: SecretRenderInput): ApiObject {
    const prop = `${input.prop}.secretOutput.controllerCertificate`;
    const pem = this.certificate._read(prop);
    // parsed once per certificate text in a process (a fleet app seals for one controller many times)
    const controller = CONTROLLERS.get(pem) ?? controllerPublicKey(prop, pem, this.certificate.source, input.now);
    CONTROLLERS.set(pem, controller);
    const label = sealingLabel(this.scope.name as any, input.namespace, input.name);
    const certSha = sha256(input.certPem);
    const entry = sha256('sealed-secret/v1', certSha, input.keySha256, controller.fingerprint, label.toString('latin1'));
    let encryptedData = input.cache.get(entry)?.encryptedData;
    if (!encryptedData || typeof encryptedData['tls.crt'] !== 'string' || typeof encryptedData['tls.key'] !== 'string') {
      const key = input.key();
      encryptedData = {
        'tls.crt': hybridEncrypt(controller.key, Buffer.from(input.certPem), label).toString('base64'),
        'tls.key': hybridEncrypt(controller.key, Buffer.from(key), label).toString('base64'),
      };
      input.cache.put(entry, { certSha256: sha256Hex(input.certPem), encryptedData });
    }
    const annotations = { ...input.annotations, ...scopeAnnotations(this.scope) };
    const meta = { name: input.name, namespace: input.namespace, labels: input.labels, annotations };
    return new ApiObject(scope, 'TlsSecret', {
      apiVersion: 'bitnami.com/v1alpha1',
      kind: 'SealedSecret',
      metadata: meta,
      spec: {
        encryptedData,
        template: { metadata: meta, type: 'kubernetes.io/tls' },
      },
    } as any);
  }
}

/** Key order as cdk8s writes objects (sorted, unless CDK8S_DISABLE_SORT): the MAC follows the file's order. */
function ordered(value: any): any {
  if (Array.isArray(value)) {
    return value.map(ordered);
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (!process.env.CDK8S_DISABLE_SORT) {
      keys.sort();
    }
    const out: any = {};
    for (const k of keys) {
      out[k] = ordered(value[k]);
    }
    return out;
  }
  return value;
}

class SopsSecretOutput extends SecretOutput {
  public readonly containsPlaintextKey = false;

  constructor(private readonly recipients: string[]) {
    super();
  }

  public _render(scope: Construct, input: SecretRenderInput): ApiObject {
    const metadata = { name: input.name, namespace: input.namespace, labels: input.labels, annotations: input.annotations };
    let encrypted: any;
    // computed when the manifest is written, from the metadata as cdk8s writes it (chart labels
    // included): SOPS's MAC covers every value in the file's order
    const produce = () => {
      if (encrypted === undefined) {
        const finalMetadata = ordered(JSON.parse(JSON.stringify(object.metadata.toJson())));
        const shape = (key: string) => ({
          apiVersion: 'v1', kind: 'Secret', metadata: finalMetadata,
          ...ordered({ data: { 'tls.crt': b64(input.certPem), 'tls.key': key }, type: 'kubernetes.io/tls' }),
        });
        // keyed on the plaintext (the key by its digest) and the recipients
        const entry = sha256('sops-secret/v1', JSON.stringify(shape(`sha256:${input.keySha256}`)), this.recipients.join(','));
        let doc = input.cache.get(entry)?.document;
        if (!doc || typeof doc !== 'object' || !doc.sops || !doc.data) {
          doc = sopsEncryptDocument(shape(b64(input.key())), this.recipients, { encryptedRegex: '^(data|stringData)$' }, input.now);
          input.cache.put(entry, { certSha256: sha256Hex(input.certPem), document: doc });
        }
        encrypted = doc;
      }
      return encrypted;
    };
    const object = new ApiObject(scope, 'TlsSecret', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata,
      type: 'kubernetes.io/tls',
      data: Lazy.any({ produce: () => produce().data }),
      sops: Lazy.any({ produce: () => produce().sops }),
    } as any);
    return object;
  }
}

/** SHA-256 (hex) of a certificate's DER, for messages. */
export function certificateDigest(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

// The runtime checks of the options interfaces above (test/prop-types.test.ts), after SealedSecretScope, which they name.
const SEALED_OPTIONS_SCHEMA: Schema = {
  controllerCertificate: T.instance(Pem, "Pem.fromFile('sealed-secrets.pem')"),
  scope: T.instance(SealedSecretScope, 'SealedSecretScope.STRICT'),
};
const SOPS_OPTIONS_SCHEMA: Schema = { ageRecipients: T.array(T.string("'age1...'")) };
