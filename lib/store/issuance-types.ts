import { KeyObject } from 'crypto';
import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { CertificateStore } from './certificate-store';
import { KeyAlgorithm } from '../x509/key-algorithm';
import { KeyPairPem } from '../x509/pki';
import { CertInfo } from '../x509/cert-info';

/**
 * A CA that is ready to sign: what was parsed and checked of it.
 * @internal
 */
export interface SigningCa {
  readonly info: CertInfo;
  /** the parsed key */
  readonly key: KeyObject;
  /** warnings about a weak but valid CA (RSA under 2048 bits, SHA-1) */
  readonly warnings?: string[];
}

/**
 * A signing CA as read, before it is parsed and checked.
 * @internal
 */
export interface CaSource {
  /** the CA certificate, canonical PEM (this is also the caBundle) */
  readonly certPem: string;
  readonly keyPem: string;
  /** the caBundle when it is more than `certPem` (a CA rotation in progress) */
  readonly bundlePem?: string;
  /** a CA rotation in progress, said on every synth until it is finished */
  readonly rotationWarning?: string;
  /** parses and checks the CA, throwing the strategy's errors */
  validate(): SigningCa;
  /**
   * a CA made in this synth: commits it to the store. Called only once the
   * serving certificate it signs is issued and checked, so that no error
   * follows a commit of one without the other
   */
  commit?(): void;
}

/**
 * What a serving certificate must look like; a stored one that differs is reissued.
 * @internal
 */
export interface ServingRequest {
  readonly commonName: string;
  readonly dnsNames: string[];
  readonly validity: Duration;
  readonly renewBefore: Duration;
  /** undefined follows the CA's key type */
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly now: Date;
}

/**
 * The dedicated CA the store creates on first use.
 * @internal
 */
export interface DedicatedCaRequest {
  readonly commonName: string;
  readonly validity: Duration;
  readonly keyAlgorithm: KeyAlgorithm;
  /** a CA kept under `shared-ca/<name>` that several clusters share; per cluster when absent */
  readonly sharedName?: string;
}

/**
 * Which cluster of the store an instance uses.
 * @internal
 */
export interface ClusterChoice {
  /** the directory name under `clusters/` */
  readonly name: string;
  /** derived from the chart (so a rename is checked), not given by the user */
  readonly derived: boolean;
  /** the construct path of the chart, for messages */
  readonly chartPath: string;
  /** the cluster names every chart of the app derives (evaluated when needed) */
  readonly appClusters: () => Set<string>;
  /** runs a check once the whole app is built (construct validation) */
  readonly addValidation: (check: () => string[]) => void;
  /** the construct that keeps the warnings */
  readonly scope: IConstruct;
}

/**
 * Everything one instance asks of the store.
 * @internal
 */
export interface StoreIssueRequest {
  readonly prop: string;
  readonly store: CertificateStore;
  readonly cluster: ClusterChoice;
  /** the CA you hold (`fromCa`); or */
  readonly userCa?: CaSource;
  /** the dedicated CA kept in the store (`fromDedicatedCa`) */
  readonly dedicatedCa?: DedicatedCaRequest;
  /** the service identity, e.g. 'metrics-server.kube-system.svc.cluster.local' */
  readonly identity: string;
  readonly serving: ServingRequest;
}

/**
 * Outcome of making sure the store holds a usable serving certificate.
 * @internal
 */
export interface ServingResult extends KeyPairPem {
  /** the signing CA's certificate (the caBundle) */
  readonly caCertPem: string;
  /** true when a new certificate was issued in this synth */
  readonly issued: boolean;
  /** the serving certificate's expiry */
  readonly notAfter: Date;
  /** the signing CA's expiry */
  readonly caNotAfter: Date;
  readonly warnings: string[];
}

/** Validity windows and the CA's name, as kept in the check record. */
export interface Dates {
  readonly caSubject: string;
  readonly caNotBefore: number;
  readonly caNotAfter: number;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Where one request's material lives in the store. */
export interface Paths {
  readonly clusterDir: string;
  /** the dedicated CA's unit (absent with a CA of your own) */
  readonly caUnit?: string;
  readonly servingUnit: string;
  readonly record: string;
}

/** Thrown inside an unlocked attempt that needs the lock to go on. */
export const NEEDS_LOCK = Symbol('needs the lock');
