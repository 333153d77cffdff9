import { Finding } from '../rules/types';

/** The hops and parts doctor reports on, in output order. */
export enum Section {
  ACCESS = 'access',
  APISERVICE = 'apiservice',
  KUBELET = 'kubelet',
  LOGS = 'logs',
  PREFLIGHT = 'preflight',
}

/** A finding with the hop it belongs to. */
export interface DoctorFinding extends Finding {
  readonly section: Section;
}

export enum HopStatus {
  OK = 'ok',
  PROBLEMS = 'problems',
  UNKNOWN = 'unknown',
  SKIPPED = 'skipped',
}

export interface HopSummary {
  readonly section: Section;
  readonly status: HopStatus;
  readonly summary: string;
}

/** Per node: what metrics-server would dial, and what doctor saw of the kubelet certificate. */
export interface NodeReport {
  readonly node: string;
  readonly address?: string;
  readonly addressType?: string;
  readonly port: number;
  /** newest kubernetes.io/kubelet-serving CSR state, or `none` */
  readonly csr: string;
  /** Go's verification of the newest issued CSR certificate for the address: `ok` or Go's error */
  readonly issuedCertificate?: string;
  /** Go's verification of the certificate the kubelet presents (--probe-kubelets): `ok`, Go's error, or `unreachable from here: ...` */
  readonly probe?: string;
  /** the kubelet presents a certificate signed by itself (kubelet's default without serverTLSBootstrap) */
  readonly selfSigned?: boolean;
}

export interface DoctorReport {
  readonly cluster: { readonly server: string; readonly context: string; readonly source: string; readonly proxy?: string };
  readonly hops: HopSummary[];
  readonly findings: DoctorFinding[];
  /** reads the credentials were refused (`get secrets kube-system/metrics-server-tls`) */
  readonly couldNotSee: string[];
  readonly nodes: NodeReport[];
  /** 0 healthy, 1 problems found */
  readonly exitCode: number;
}

/** What doctor was asked to do. @internal */
export interface DoctorOptions {
  /** where to look when there is no APIService @default kube-system */
  readonly namespace?: string;
  readonly probeKubelets?: boolean;
  /** @default 64 */
  readonly probeConcurrency?: number;
  /** @default 3000 */
  readonly probeTimeoutMs?: number;
  /** log lines read per pod @default 300 */
  readonly logLines?: number;
  readonly now?: Date;
}
