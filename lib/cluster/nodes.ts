/**
 * What metrics-server does with a Node object: which address and port it
 * dials, and what the node's kubelet-serving CSRs say.
 * @internal
 */
import { Flags } from '../rules/model';

/** metrics-server's default --kubelet-preferred-address-types. */
export const DEFAULT_ADDRESS_TYPES = ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'];
export const DEFAULT_KUBELET_PORT = 10250;
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** @internal */
export interface KubeletTarget {
  readonly node: string;
  /** the address metrics-server dials, undefined when the node has none of the preferred types */
  readonly address?: string;
  readonly addressType?: string;
  readonly port: number;
  /** every address of the node, `Type=value` */
  readonly addresses: string[];
}

/** How metrics-server reaches kubelets, from its flags. */
export interface KubeletFlags {
  readonly preferredAddressTypes: string[];
  readonly port: number;
  readonly useNodeStatusPort: boolean;
  readonly insecure: boolean;
  /** --kubelet-certificate-authority, when given */
  readonly caFile?: string;
}

/**
 * Reads metrics-server's kubelet flags from container args (`--flag=value` or
 * `--flag value`), with the rules' flag reader: the last occurrence wins, and
 * a boolean flag is on as pflag reads it (lib/k8s/metrics-server-flags.ts).
 */
export function kubeletFlags(args: string[]): KubeletFlags {
  const flags = new Flags({ args });
  const types = flags.get('kubelet-preferred-address-types');
  const port = Number(flags.get('kubelet-port') ?? DEFAULT_KUBELET_PORT);
  return {
    preferredAddressTypes: types ? types.split(',').map(t => t.trim()).filter(t => t) : DEFAULT_ADDRESS_TYPES,
    port: Number.isInteger(port) && port > 0 ? port : DEFAULT_KUBELET_PORT,
    useNodeStatusPort: flags.isTrue('kubelet-use-node-status-port'),
    insecure: flags.isTrue('kubelet-insecure-tls'),
    caFile: flags.get('kubelet-certificate-authority'),
  };
}

/** The address and port metrics-server dials for a node (its first preferred address type present). */
export function kubeletTarget(node: any, flags: KubeletFlags): KubeletTarget {
  const addresses: { type: string; address: string }[] = Array.isArray(node?.status?.addresses) ? node.status.addresses : [];
  let chosen: { type: string; address: string } | undefined;
  for (const t of flags.preferredAddressTypes) {
    chosen = addresses.find(a => a.type === t && a.address);
    if (chosen) {
      break;
    }
  }
  const statusPort = Number(node?.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0);
  return {
    node: node?.metadata?.name ?? '',
    address: chosen?.address,
    addressType: chosen?.type,
    port: flags.useNodeStatusPort && statusPort > 0 ? statusPort : flags.port,
    addresses: addresses.map(a => `${a.type}=${a.address}`),
  };
}

/** The state of one CSR. */
export enum CsrState {
  PENDING = 'pending',
  APPROVED = 'approved',
  DENIED = 'denied',
  FAILED = 'failed',
  ISSUED = 'issued',
}

/** @internal */
export interface NodeCsr {
  readonly name: string;
  readonly state: CsrState;
  readonly created: string;
  /** PEM of the issued certificate */
  readonly certificate?: string;
}

/** The CSR's state as `kubectl get csr` shows it. */
export function csrState(csr: any): CsrState {
  const conditions: any[] = Array.isArray(csr?.status?.conditions) ? csr.status.conditions : [];
  const has = (t: string) => conditions.some(c => c.type === t && c.status !== 'False');
  if (has('Denied')) return CsrState.DENIED;
  if (has('Failed')) return CsrState.FAILED;
  if (has('Approved')) return csr?.status?.certificate ? CsrState.ISSUED : CsrState.APPROVED;
  return CsrState.PENDING;
}

/** The kubelet-serving CSRs by node name (newest first). */
export function kubeletServingCsrs(csrs: any[]): Map<string, NodeCsr[]> {
  const byNode = new Map<string, NodeCsr[]>();
  for (const csr of csrs) {
    if (csr?.spec?.signerName !== KUBELET_SERVING_SIGNER) {
      continue;
    }
    const user: string = csr?.spec?.username ?? '';
    if (!user.startsWith('system:node:')) {
      continue;
    }
    const node = user.slice('system:node:'.length);
    const state = csrState(csr);
    const entry: NodeCsr = {
      name: csr.metadata?.name ?? '',
      state,
      created: csr.metadata?.creationTimestamp ?? '',
      certificate: state === CsrState.ISSUED ? Buffer.from(csr.status.certificate, 'base64').toString('utf8') : undefined,
    };
    const list = byNode.get(node) ?? [];
    list.push(entry);
    byNode.set(node, list);
  }
  for (const list of byNode.values()) {
    list.sort((a, b) => (b.created > a.created ? 1 : b.created < a.created ? -1 : 0));
  }
  return byNode;
}
