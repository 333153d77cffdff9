import { Rule, Severity } from './types';

function rule(id: string, severity: Severity, title: string, reason: string, fix: string, prop?: string): Rule {
  return { id, severity, title, reason, fix, prop };
}

/**
 * Rules only a live cluster can answer (`secure-metrics-server doctor`): the
 * APIService's conditions, endpoints, CSRs, kubelet handshakes, logs and the
 * preflight of an apply. Checks on the objects themselves stay in `Rules`.
 * Ids `SMD` + three digits, never reused.
 */
export class DoctorRules {
  public static readonly APISERVICE_MISSING = rule('SMD001', Severity.HIGH, 'metrics API not registered',
    'without the APIService v1beta1.metrics.k8s.io, kubectl top and HPAs have no metrics API', 'apply the synthesized manifests');
  public static readonly APISERVICE_UNAVAILABLE = rule('SMD002', Severity.HIGH, 'APIService not available',
    'kube-apiserver cannot reach or verify metrics-server, so kubectl top says "Metrics API not available"', 'see the condition message and the finding that explains it');
  public static readonly NO_ENDPOINTS = rule('SMD003', Severity.HIGH, 'Service has no ready endpoints',
    'kube-apiserver has no metrics-server pod to dial', 'make the metrics-server pods ready (see the pod findings)');
  public static readonly PODS_NOT_READY = rule('SMD004', Severity.HIGH, 'metrics-server pods not ready',
    'a pod that does not start or does not pass its readiness probe serves nothing', 'see the pod state; a missing ConfigMap or Secret keeps it in ContainerCreating');
  public static readonly CERTIFICATE_NOT_READY = rule('SMD005', Severity.HIGH, 'cert-manager Certificate not ready',
    'the serving Secret is missing or stale until cert-manager issues the Certificate', 'kubectl describe certificate; check the issuer', 'servingTls');
  public static readonly CA_NOT_INJECTED = rule('SMD006', Severity.HIGH, 'caBundle not injected',
    'the APIService names cert-manager.io/inject-ca-from but has no caBundle: cainjector is not running or cannot read the Certificate', 'install cert-manager with cainjector, or check its logs', 'servingTls');
  public static readonly NO_PREFERRED_ADDRESS = rule('SMD010', Severity.HIGH, 'node has no address of the preferred types',
    'metrics-server skips nodes without an address of --kubelet-preferred-address-types', 'add the node address types to kubeletPreferredAddressTypes', 'kubeletPreferredAddressTypes');
  public static readonly NO_SERVING_CSRS = rule('SMD011', Severity.HIGH, 'kubelets self-sign (no kubelet-serving CSRs)',
    'without serverTLSBootstrap a kubelet serves a self-signed certificate that no CA verifies', "set serverTLSBootstrap: true in the kubelet configuration, restart the kubelets, approve their CSRs");
  public static readonly CSR_PENDING = rule('SMD012', Severity.HIGH, 'kubelet-serving CSRs pending',
    'kube-controller-manager never approves kubelet-serving CSRs by itself; the kubelet keeps its self-signed certificate', 'kubectl certificate approve <csr> after checking its SANs, or enable the construct\'s kubeletServingCertApprover', 'kubeletServingCertApprover');
  public static readonly CSR_NOT_ISSUED = rule('SMD013', Severity.HIGH, 'kubelet-serving CSRs approved but not issued',
    'an approved CSR without a certificate means the kubernetes.io/kubelet-serving signer is not running', 'give kube-controller-manager --cluster-signing-cert-file/--cluster-signing-key-file (kubeadm does)');
  public static readonly CSR_DENIED = rule('SMD014', Severity.HIGH, 'kubelet-serving CSRs denied or failed',
    'the kubelet gets no serving certificate', 'check why it was denied (its SANs), then let the kubelet request again (restart it)');
  public static readonly KUBELET_CERT_REJECTED = rule('SMD015', Severity.HIGH, 'kubelet certificate does not verify',
    'metrics-server verifies the kubelet certificate for the address it dials against its kubelet CA, as Go does', 'see the Go error: issue kubelet certificates from the CA metrics-server trusts, for the address it dials', 'kubeletTls');
  public static readonly KUBELET_UNREACHABLE = rule('SMD016', Severity.INFO, 'kubelet unreachable from here',
    'doctor could not open a connection to the kubelet from where it runs; metrics-server may still reach it from the pod network', 'run doctor from a machine or pod that reaches the node network to probe the certificate');
  public static readonly KUBELET_CA_UNREADABLE = rule('SMD017', Severity.HIGH, 'kubelet CA not found',
    'the CA metrics-server verifies kubelets with does not exist or holds no certificate', 'create the ConfigMap or Secret the Deployment mounts, or point kubeletTls at one that exists', 'kubeletTls');
  public static readonly KUBELET_HANDSHAKE_FAILED = rule('SMD018', Severity.MEDIUM, 'kubelet TLS handshake failed',
    'the kubelet accepted the connection but no TLS handshake completed', 'check that the port is the kubelet\'s secure port');
  public static readonly LOG_ERROR = rule('SMD020', Severity.HIGH, 'metrics-server logs a known error',
    'the log line names the hop that fails and why', 'see the fix of the finding');
  public static readonly NAMESPACE_MISSING = rule('SMD030', Severity.HIGH, 'namespace does not exist',
    'namespaced objects fail to apply into a namespace that does not exist', 'create the namespace first, or include it in the manifests', 'namespace');
  public static readonly CERT_MANAGER_MISSING = rule('SMD031', Severity.HIGH, 'cert-manager CRDs not installed',
    'the Certificate and Issuer objects of the manifests cannot be applied', 'install cert-manager before applying', 'servingTls');
  public static readonly ISSUER_MISSING = rule('SMD032', Severity.HIGH, 'issuer does not exist',
    'the Certificate names an Issuer or ClusterIssuer that the cluster does not have', 'create the issuer or name an existing one', 'servingTls');
  public static readonly APISERVICE_OWNED = rule('SMD033', Severity.HIGH, 'APIService owned by another install',
    'applying would take v1beta1.metrics.k8s.io over from another tool, which will fight back or be broken', 'uninstall the other metrics-server first (helm uninstall, k3s --disable=metrics-server, addon manager config)');
  public static readonly NOT_VISIBLE = rule('SMD040', Severity.INFO, 'could not read',
    'the credentials may not read this, so doctor could not check what depends on it', 'grant the read-only ClusterRole of docs/doctor.md');

  public static readonly ALL: Rule[] = [
    DoctorRules.APISERVICE_MISSING, DoctorRules.APISERVICE_UNAVAILABLE, DoctorRules.NO_ENDPOINTS, DoctorRules.PODS_NOT_READY,
    DoctorRules.CERTIFICATE_NOT_READY, DoctorRules.CA_NOT_INJECTED, DoctorRules.NO_PREFERRED_ADDRESS, DoctorRules.NO_SERVING_CSRS,
    DoctorRules.CSR_PENDING, DoctorRules.CSR_NOT_ISSUED, DoctorRules.CSR_DENIED, DoctorRules.KUBELET_CERT_REJECTED,
    DoctorRules.KUBELET_UNREACHABLE, DoctorRules.KUBELET_CA_UNREADABLE, DoctorRules.KUBELET_HANDSHAKE_FAILED, DoctorRules.LOG_ERROR,
    DoctorRules.NAMESPACE_MISSING, DoctorRules.CERT_MANAGER_MISSING, DoctorRules.ISSUER_MISSING, DoctorRules.APISERVICE_OWNED,
    DoctorRules.NOT_VISIBLE,
  ];
}
