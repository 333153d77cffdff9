/**
 * Known error texts of the two TLS hops, as metrics-server logs them and as
 * kube-apiserver writes them into the APIService condition, each with its
 * cause and fix. One table for logs and conditions.
 * @internal
 */
export enum Hop {
  APISERVICE = 'apiservice',
  KUBELET = 'kubelet',
}

/** @internal */
export interface KnownError {
  /** short id, stable, used in JSON output */
  readonly id: string;
  readonly hop: Hop;
  readonly pattern: RegExp;
  readonly cause: string;
  readonly fix: string;
}

const BOOTSTRAP_FIX = "set serverTLSBootstrap: true in every kubelet's configuration (kubeadm: the kubelet-config ConfigMap and /var/lib/kubelet/config.yaml, then restart the kubelet) and approve the kubernetes.io/kubelet-serving CSRs (kubectl certificate approve, or the construct's kubeletServingCertApprover)";

/** Order matters: the first match wins. */
export const KNOWN_ERRORS: KnownError[] = [
  {
    id: 'kubelet-no-ip-sans',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*x509: cannot validate certificate for (\S+) because it doesn't contain any IP SANs/,
    cause: 'metrics-server dials the kubelet by IP address, and the kubelet serving certificate has no IP SAN: the kubelet still serves its self-signed certificate, or a certificate made for its host name only',
    fix: `${BOOTSTRAP_FIX}; or, if kubelet certificates carry DNS names that resolve from pods, put Hostname first in kubeletPreferredAddressTypes`,
  },
  {
    id: 'kubelet-unknown-authority',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*x509: certificate signed by unknown authority/,
    cause: 'the kubelet serving certificate is not signed by the CA metrics-server trusts (--kubelet-certificate-authority): kubelets self-sign until serverTLSBootstrap is on and their CSRs are approved, or the kubelet-serving signer is not the cluster root CA',
    fix: `${BOOTSTRAP_FIX}; where kubelet certificates come from another CA, publish it and use KubeletTls.fromConfigMap(name, key)`,
  },
  {
    id: 'kubelet-name-mismatch',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*x509: certificate is (?:valid for [^\n]*, not|not valid for any names, but wanted to match) /,
    cause: 'the kubelet serving certificate does not name the address metrics-server dials (the first of --kubelet-preferred-address-types the node has)',
    fix: 'set kubeletPreferredAddressTypes to an address type the kubelet certificates carry (InternalIP for kubelet-serving CSR certificates), or reissue the kubelet certificates with that address',
  },
  {
    id: 'kubelet-name-constraints',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*x509: a root or intermediate certificate is not authorized to sign for this name/,
    cause: 'the CA metrics-server trusts for kubelets (or an intermediate) has name constraints that exclude, or do not permit, a name of the kubelet serving certificate (the node address metrics-server dials)',
    fix: 'issue kubelet serving certificates from a CA whose nameConstraints permit the node addresses (or without nameConstraints), or change the constraints to cover the node IP ranges and names',
  },
  {
    id: 'kubelet-expired',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*x509: certificate has expired or is not yet valid/,
    cause: 'the kubelet serving certificate has expired (or the clocks differ)',
    fix: 'turn on serverTLSBootstrap and certificate rotation (rotateCertificates: true) on the kubelets and approve their renewal CSRs; check the node clocks',
  },
  {
    id: 'kubelet-unreachable',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*(?:i\/o timeout|connection refused|no route to host|context deadline exceeded|Client\.Timeout)/,
    cause: 'metrics-server cannot open a TCP connection to the kubelet port (firewall, security group, NetworkPolicy egress, or the kubelet is down)',
    fix: 'allow traffic from the metrics-server pods to every node on the kubelet port (10250), or use hostNetwork where the pod network cannot reach nodes',
  },
  {
    id: 'kubelet-no-such-host',
    hop: Hop.KUBELET,
    pattern: /https:\/\/[^/"]*:\d+\/metrics\/resource[^\n]*no such host/,
    cause: 'metrics-server dials kubelets by a host name the pod cannot resolve',
    fix: 'put InternalIP first in kubeletPreferredAddressTypes (and give kubelet certificates IP SANs with serverTLSBootstrap), or make node names resolvable in cluster DNS',
  },
  {
    id: 'kubelet-ca-file',
    hop: Hop.KUBELET,
    pattern: /(?:kubelet-certificate-authority|failed to read client CA|unable to load (?:root|client) CA)[^\n]*(?:no such file|no certificate|failed to find any PEM)/i,
    cause: 'metrics-server cannot read the CA file named by --kubelet-certificate-authority',
    fix: 'mount the CA ConfigMap (kube-root-ca.crt, key ca.crt) at the path the flag names; the construct does this with KubeletTls.fromKubeRootCa()',
  },
  {
    id: 'apiservice-no-endpoints',
    hop: Hop.APISERVICE,
    pattern: /endpoints for service\/[\w.-]+ in "[\w.-]+" have no addresses|service\/[\w.-]+ in "[\w.-]+" is not present|no endpoints available for service/,
    cause: 'no metrics-server pod is ready, so kube-apiserver has nothing to dial; metrics-server turns ready only after it has scraped the kubelets, so a failing kubelet hop shows up here first',
    fix: 'fix the pod and kubelet hop findings; kubectl -n <namespace> describe pod -l k8s-app=metrics-server shows why a pod does not start',
  },
  {
    id: 'serving-key-mismatch',
    hop: Hop.APISERVICE,
    pattern: /tls: private key does not match public key|failed to find any PEM data in (?:certificate|key) input/,
    cause: 'metrics-server cannot load its serving certificate and key: the key in the Secret does not belong to the certificate, or a file is not PEM (doctor never reads tls.key, so the log is where this shows)',
    fix: 'put the matching tls.crt/tls.key pair in the Secret (servingTls keeps them together)',
  },
  {
    id: 'apiservice-bad-certificate',
    hop: Hop.APISERVICE,
    pattern: /TLS handshake error from [^\n]*(?:bad certificate|unknown certificate authority)/,
    cause: 'kube-apiserver rejects the metrics-server serving certificate: the APIService caBundle does not verify it (or the certificate lacks <service>.<namespace>.svc)',
    fix: 'make caBundle the CA that signed the mounted tls.crt (servingTls), or let cert-manager inject it (cert-manager.io/inject-ca-from)',
  },
  {
    id: 'apiservice-localhost-certificate',
    hop: Hop.APISERVICE,
    pattern: /x509: certificate is valid for (?:localhost|127\.0\.0\.1)[^\n]*, not [\w.-]+\.svc/,
    cause: 'metrics-server serves the self-signed certificate for localhost it makes at start-up (no --tls-cert-file), while the APIService asks kube-apiserver to verify it',
    fix: 'mount a serving certificate for <service>.<namespace>.svc with --tls-cert-file/--tls-private-key-file and its CA as caBundle (servingTls), or keep insecureSkipTLSVerify: true knowingly',
  },
  {
    id: 'apiservice-name-mismatch',
    hop: Hop.APISERVICE,
    pattern: /x509: certificate is (?:valid for [^\n]*, not|not valid for any names, but wanted to match) [\w.-]+\.svc/,
    cause: 'the metrics-server serving certificate does not carry the DNS name kube-apiserver dials (<service>.<namespace>.svc)',
    fix: 'reissue the serving certificate with subjectAltName DNS:<service>.<namespace>.svc (servingTls issues it so)',
  },
  {
    id: 'apiservice-unknown-authority',
    hop: Hop.APISERVICE,
    pattern: /apis\/metrics\.k8s\.io[^\n]*x509: certificate signed by unknown authority/,
    cause: 'the APIService caBundle does not verify the metrics-server serving certificate',
    fix: 'set caBundle to the CA that signed the mounted tls.crt (servingTls keeps them together), or use cert-manager CA injection',
  },
  {
    id: 'apiservice-expired',
    hop: Hop.APISERVICE,
    pattern: /apis\/metrics\.k8s\.io[^\n]*x509: certificate has expired or is not yet valid/,
    cause: 'the metrics-server serving certificate has expired',
    fix: 'renew it (re-run synth: the store renews before expiry) or let cert-manager rotate it',
  },
  {
    id: 'apiservice-unreachable',
    hop: Hop.APISERVICE,
    pattern: /apis\/metrics\.k8s\.io[^\n]*(?:i\/o timeout|connection refused|no route to host|context deadline exceeded|Client\.Timeout)/,
    cause: 'kube-apiserver cannot reach the metrics-server pods (network policy, control plane outside the pod network, or the pod is not ready)',
    fix: 'allow ingress to metrics-server on its secure port from the control plane; on managed clusters with the control plane outside the pod network use hostNetwork',
  },
];

/**
 * The known error with this id (for a structured verdict that names it), or undefined.
 * @internal
 */
export function knownError(id: string | undefined): KnownError | undefined {
  return KNOWN_ERRORS.find(e => e.id === id);
}

/** The first known error whose pattern a line or message matches (logs and conditions: text from outside). */
export function matchKnownError(text: string): { error: KnownError; match: RegExpExecArray } | undefined {
  for (const error of KNOWN_ERRORS) {
    const match = error.pattern.exec(text);
    if (match) {
      return { error, match };
    }
  }
  return undefined;
}
