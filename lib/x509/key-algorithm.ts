import { createPublicKey, generateKeyPairSync, KeyObject } from 'crypto';

/**
 * Kind and size of a key the library generates for a serving certificate
 * (or the dedicated CA).
 *
 * Every algorithm here is one that Go's crypto/tls serves with and
 * kube-apiserver accepts: RSA of 2048 bits or more, ECDSA on the NIST curves
 * P-256, P-384 and P-521, and Ed25519.
 */
export class KeyAlgorithm {
  /** RSA, 2048-bit modulus (the default for RSA CAs) */
  public static readonly RSA_2048 = new KeyAlgorithm('RSA_2048', 'rsa', 2048);
  /** RSA, 3072-bit modulus */
  public static readonly RSA_3072 = new KeyAlgorithm('RSA_3072', 'rsa', 3072);
  /** RSA, 4096-bit modulus */
  public static readonly RSA_4096 = new KeyAlgorithm('RSA_4096', 'rsa', 4096);
  /** ECDSA on NIST P-256 (secp256r1, the curve of k3s and RKE2 cluster CAs) */
  public static readonly ECDSA_P256 = new KeyAlgorithm('ECDSA_P256', 'ec', 256);
  /** ECDSA on NIST P-384 (secp384r1) */
  public static readonly ECDSA_P384 = new KeyAlgorithm('ECDSA_P384', 'ec', 384);
  /** ECDSA on NIST P-521 (secp521r1) */
  public static readonly ECDSA_P521 = new KeyAlgorithm('ECDSA_P521', 'ec', 521);
  /** Ed25519 */
  public static readonly ED25519 = new KeyAlgorithm('ED25519', 'ed25519', 256);

  /**
   * The algorithm for an RSA key size given with the deprecated `keySize`
   * prop, or undefined when the size is not one the library generates.
   * @internal
   */
  public static _ofRsaBits(bits: number): KeyAlgorithm | undefined {
    return KeyAlgorithm._all().find(a => a._kind === 'rsa' && a._bits === bits);
  }

  /**
   * The algorithm of an existing key (private or public), or undefined when
   * it is not one the library generates (e.g. RSA 1024, P-224).
   * @internal
   */
  public static _ofKey(key: KeyObject): KeyAlgorithm | undefined {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    switch (pub.asymmetricKeyType) {
      case 'rsa':
        return KeyAlgorithm._ofRsaBits(pub.asymmetricKeyDetails?.modulusLength ?? 0);
      case 'ec':
        return KeyAlgorithm._all().find(a => a._kind === 'ec' && CURVES[a._bits] === pub.asymmetricKeyDetails?.namedCurve);
      case 'ed25519':
        return KeyAlgorithm.ED25519;
      default:
        return undefined;
    }
  }

  /**
   * A key kind without a size, for the deprecated `CertManagerKeyAlgorithm`
   * constants: the size comes from the deprecated `keySize`, or `bits`.
   * Not in `_all()`, so the other modes refuse it.
   * @internal
   */
  public static _sizeless(name: string, kind: string, bits: number): KeyAlgorithm {
    return new KeyAlgorithm(name, kind, bits, true);
  }

  /** @internal */
  public static _all(): KeyAlgorithm[] {
    return [KeyAlgorithm.RSA_2048, KeyAlgorithm.RSA_3072, KeyAlgorithm.RSA_4096,
      KeyAlgorithm.ECDSA_P256, KeyAlgorithm.ECDSA_P384, KeyAlgorithm.ECDSA_P521, KeyAlgorithm.ED25519];
  }

  /**
   * The name of the constant, e.g. `ECDSA_P256`, as in messages and the
   * store's check record.
   */
  public readonly name: string;

  /** @internal 'rsa', 'ec' or 'ed25519' */
  public readonly _kind: string;
  /** @internal modulus length or curve size */
  public readonly _bits: number;
  /** @internal true for the deprecated `CertManagerKeyAlgorithm` constants */
  public readonly _isSizeless: boolean;

  private constructor(name: string, kind: string, bits: number, sizeless = false) {
    this.name = name;
    this._kind = kind;
    this._bits = bits;
    this._isSizeless = sizeless;
  }

  /**
   * Generates a private key of this algorithm.
   * @internal
   */
  public _generate(): KeyObject {
    switch (this._kind) {
      case 'rsa':
        return generateKeyPairSync('rsa', { modulusLength: this._bits, publicExponent: 0x10001 }).privateKey;
      case 'ec':
        return generateKeyPairSync('ec', { namedCurve: CURVES[this._bits] }).privateKey;
      default:
        return generateKeyPairSync('ed25519').privateKey;
    }
  }

  /** The name, e.g. `ECDSA_P256`. */
  public toString(): string {
    return this.name;
  }
}

/** Node's names of the NIST curves, by size. */
const CURVES: { [bits: number]: string } = { 256: 'prime256v1', 384: 'secp384r1', 521: 'secp521r1' };
