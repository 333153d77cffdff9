import { CertificateStore } from './store/certificate-store';
import { generatedKeyCount } from './x509/pki';

// A class of static methods, as cdk8s' `Testing`, rather than a jsii
// submodule: a Go package named `testing` would shadow Go's standard
// `testing` package in every Go test file. And not named `Testing`: it would
// shadow cdk8s' own in Python (`from cdk8s import Testing`) and clash with
// `org.cdk8s.Testing` in Java imports, where tests use both.

/**
 * Helpers for unit tests of charts that use `SecureMetricsServer`, beside
 * cdk8s' own `Testing` (`Testing.chart()`, `Testing.synth()`): a store that
 * keeps keys out of the working directory, a redaction for snapshots, and a
 * count of generated keys.
 */
export class SecureMetricsServerTesting {
  /**
   * A certificate store in a new temporary directory: for unit tests that
   * must not write keys into the working directory. Every call makes a new,
   * empty store, so the CA and keys differ on every run: snapshot with
   * `SecureMetricsServerTesting.redactForSnapshot()`. The directories (with
   * their keys) are deleted when the process exits.
   */
  public static temporaryStore(): CertificateStore {
    return CertificateStore.temporary();
  }

  /**
   * Returns a copy of synthesized manifests (e.g. `Testing.synth(chart)`)
   * that is safe to snapshot: it holds no private key, in any form, and
   * passes on a fresh checkout (new CA).
   *
   * What it replaces by placeholders:
   *
   * - `<private key redacted>`: every string value anywhere in the given
   *   objects (any kind, any field: Secret `data` and `stringData`,
   *   annotations, ConfigMaps, the `items` of a `List`, nested objects) that
   *   holds a private key: PEM armor of any kind (`PRIVATE KEY`,
   *   `RSA`/`EC`/`ENCRYPTED`/`OPENSSH PRIVATE KEY`, PGP private key blocks)
   *   anywhere in the string, the base64 of such PEM, or a DER private key
   *   (PKCS#8, PKCS#1, SEC1) raw or in base64;
   * - `<certificate redacted>`: certificate PEM (or its base64) in a
   *   Secret's `data` and `stringData`;
   * - `<caBundle redacted>`: the APIService's `spec.caBundle`;
   * - `<date redacted>`: the expiry annotations
   *   (`ServingTls.CA_NOT_AFTER_ANNOTATION`, `SERVING_NOT_AFTER_ANNOTATION`).
   *
   * It does not look inside object keys, YAML or JSON text nested in a
   * string other than as above, or compressed or encrypted blobs.
   *
   * The manifests are typed as cdk8s' `Testing.synth()` and `Chart.toJson()`
   * return them (`List[Any]` in Python, `List<Object>` in Java,
   * `*[]interface{}` in Go), so their result passes in without a cast.
   *
   * @param manifests plain Kubernetes objects, e.g. `Testing.synth(chart)`
   * @returns a redacted deep copy; the input is left unchanged
   */
  public static redactForSnapshot(manifests: any[]): any[] {
    return CertificateStore.redactForSnapshot(manifests);
  }

  /**
   * Number of keys this process has generated for serving certificates and
   * CAs: a synth from a warm certificate store generates none, which a test
   * can assert.
   */
  public static generatedKeyCount(): number {
    return generatedKeyCount();
  }

  private constructor() {}
}
