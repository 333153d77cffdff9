import { X509Certificate } from 'crypto';
import { NameConstraints } from './forge-adapter';

/**
 * What the library needs to know of one X.509 certificate.
 * @internal
 */
export interface CertInfo {
  /** canonical PEM of this certificate alone (LF, 64 columns, no headers) */
  readonly pem: string;
  readonly x509: X509Certificate;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly version: number;
  /** basicConstraints is present */
  readonly hasBasicConstraints: boolean;
  /** basicConstraints cA (false when the extension is absent) */
  readonly isCa: boolean;
  /** basicConstraints pathLenConstraint, when present */
  readonly maxPathLen?: number;
  /** keyUsage bits, or undefined when the extension is absent (any usage) */
  readonly keyUsage?: { readonly keyCertSign: boolean; readonly digitalSignature: boolean; readonly keyEncipherment: boolean };
  /** extKeyUsage purposes by name, or undefined when the extension is absent (any purpose) */
  readonly extKeyUsage?: string[];
  readonly dnsNames: string[];
  /** IP address SANs, raw bytes (4 or 16) */
  readonly ipAddresses: Buffer[];
  /** rfc822Name (email) SANs */
  readonly emailAddresses: string[];
  /** uniformResourceIdentifier SANs */
  readonly uris: string[];
  /** the subjectAltName extension value (binary string), when present: Go checks name constraints only on certificates that have one */
  readonly sanValue?: string;
  readonly signatureOid: string;
  readonly serialNegative: boolean;
  readonly selfSigned: boolean;
  /** the DER bytes of the subject and issuer names (binary strings), which Go compares byte for byte */
  readonly rawSubject: string;
  readonly rawIssuer: string;
  /** subjectKeyIdentifier (binary string), when present */
  readonly subjectKeyId?: string;
  /** authorityKeyIdentifier keyIdentifier (binary string), when present */
  readonly authorityKeyId?: string;
  /** OIDs of critical extensions Go does not handle */
  readonly unhandledCritical: string[];
  /** the nameConstraints extension, when present */
  readonly nameConstraints?: NameConstraints;
  /** 'rsa', 'ec', 'ed25519', ... (Node's asymmetricKeyType) */
  readonly keyType: string;
  /** RSA modulus length */
  readonly rsaBits?: number;
  /** EC curve, Node's name */
  readonly curve?: string;
}
