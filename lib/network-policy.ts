import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { assertPort } from './k8s/util';
import { SELECTOR_LABEL } from './metadata';

/** The kubelet's port, which metrics-server scrapes. */
export const DEFAULT_KUBELET_PORT = 10250;
/** The API server's ports: 443 is the `kubernetes` Service, 6443 the endpoints behind it on most clusters. */
export const DEFAULT_API_SERVER_PORTS = [443, 6443];
/** DNS, over UDP and TCP. */
export const DNS_PORT = 53;

/**
 * What the NetworkPolicy is built from, already validated.
 * @internal
 */
export interface NetworkPolicyOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: { [key: string]: string };
  readonly securePort: number;
  readonly kubeletPort: number;
  readonly apiServerPorts: number[];
}

/**
 * Validates the NetworkPolicy ports.
 * @internal
 */
export function assertNetworkPolicyPorts(kubeletPort: number, apiServerPorts: number[]): void {
  assertPort('networkPolicyKubeletPort', kubeletPort);
  if (!Array.isArray(apiServerPorts) || apiServerPorts.length === 0) {
    throw new Error(`networkPolicyApiServerPorts: [${apiServerPorts}] must list at least one port; use e.g. [443, 6443]`);
  }
  apiServerPorts.forEach((p, i) => assertPort(`networkPolicyApiServerPorts[${i}]`, p));
  if (new Set(apiServerPorts).size !== apiServerPorts.length) {
    throw new Error(`networkPolicyApiServerPorts: [${apiServerPorts.join(', ')}] lists a port twice; list each once (e.g. [443, 6443])`);
  }
}

/**
 * A NetworkPolicy for the metrics-server pods: ingress only to the secure
 * port, from any source (kube-apiserver often connects from the host network,
 * which pod and namespace selectors cannot name); egress only to the kubelets,
 * the API server and DNS, to any destination (nodes and the API server are
 * not pods either).
 * @internal
 */
export function createNetworkPolicy(scope: Construct, options: NetworkPolicyOptions): k8s.KubeNetworkPolicy {
  const tcp = (port: number): k8s.NetworkPolicyPort => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' });
  return new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
    spec: {
      podSelector: { matchLabels: { [SELECTOR_LABEL]: options.labels[SELECTOR_LABEL] } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [tcp(options.securePort)] }],
      egress: [
        { ports: [tcp(options.kubeletPort)] },
        { ports: options.apiServerPorts.map(tcp) },
        { ports: [{ port: k8s.IntOrString.fromNumber(DNS_PORT), protocol: 'UDP' }, tcp(DNS_PORT)] },
      ],
    },
  });
}
