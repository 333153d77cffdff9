import { Rule, Severity } from './types';

function rule(id: string, severity: Severity, title: string, reason: string, fix: string, prop?: string): Rule {
  return { id, severity, title, reason, fix, prop };
}

/**
 * Every rule, once, with its stable id. Ids are never renumbered or reused;
 * docs/rules.md documents each one (a test checks that it does).
 */
export class Rules {
  /** Annotation on any object: comma-separated rule ids (or `all`) not to report on that object. */
  public static readonly IGNORE_ANNOTATION = 'secure-metrics-server.io/audit-ignore';

  // --- the two hops switched off
  public static readonly KUBELET_INSECURE_TLS = rule('SMS001', Severity.HIGH, 'kubelet TLS verification disabled',
    '--kubelet-insecure-tls makes metrics-server accept any kubelet certificate, so anyone on the node network can feed it metrics',
    'drop --kubelet-insecure-tls and mount the kubelet CA with --kubelet-certificate-authority (kubelets need serverTLSBootstrap: true and approved serving CSRs)',
    'kubeletTls: KubeletTls.fromKubeRootCa() (or fromConfigMap/fromSecret)');
  public static readonly APISERVICE_INSECURE = rule('SMS002', Severity.HIGH, 'APIService TLS verification disabled',
    'insecureSkipTLSVerify: true makes kube-apiserver accept any certificate from the metrics-server Service',
    'serve a certificate for <service>.<namespace>.svc (--tls-cert-file/--tls-private-key-file), put its CA in spec.caBundle and omit insecureSkipTLSVerify',
    'servingTls: ServingTls.fromCertManager() (or fromCa/fromDedicatedCa/fromPem/fromExistingSecret)');
  public static readonly KUBELET_COMPLETELY_INSECURE = rule('SMS003', Severity.CRITICAL, 'kubelet connection in plain HTTP',
    '--deprecated-kubelet-completely-insecure talks to kubelets over plain HTTP, without TLS, authentication or authorization',
    'drop --deprecated-kubelet-completely-insecure and verify kubelets with --kubelet-certificate-authority',
    'kubeletTls: KubeletTls.fromKubeRootCa()');
  public static readonly SKIP_WITH_CA_BUNDLE = rule('SMS004', Severity.HIGH, 'insecureSkipTLSVerify with caBundle',
    'kube-apiserver rejects an APIService that sets insecureSkipTLSVerify: true and a caBundle, so the apply fails',
    'remove insecureSkipTLSVerify (keep the caBundle and serve a matching certificate)',
    'servingTls');
  public static readonly SKIP_FALSE_WRITTEN = rule('SMS005', Severity.LOW, 'insecureSkipTLSVerify: false written out',
    'kube-apiserver drops insecureSkipTLSVerify: false (omitempty), so the field shows as drift in every GitOps diff',
    'delete the insecureSkipTLSVerify line',
    'servingTls (the construct omits the field in verified mode)');
  public static readonly CA_BUNDLE_WITHOUT_CERT = rule('SMS006', Severity.HIGH, 'caBundle without a serving certificate',
    'with a caBundle but no --tls-cert-file, metrics-server serves a self-signed certificate for localhost and the APIService stays unavailable',
    'mount the serving Secret and pass --tls-cert-file and --tls-private-key-file',
    'servingTls');
  public static readonly CA_BUNDLE_INVALID = rule('SMS007', Severity.HIGH, 'caBundle is not a PEM certificate',
    'spec.caBundle must be base64 of PEM certificates; anything else makes kube-apiserver refuse the object or fail every TLS handshake',
    'set caBundle to the base64 of the CA certificate PEM (base64 -w0 ca.crt), or let cert-manager inject it',
    'servingTls');
  public static readonly TLS_FLAG_WITHOUT_PEER = rule('SMS008', Severity.HIGH, 'serving certificate and key flags out of pair',
    'metrics-server refuses to start with only one of --tls-cert-file and --tls-private-key-file',
    'pass both --tls-cert-file and --tls-private-key-file, from the same Secret',
    'servingTls');
  public static readonly APISERVICE_NAME = rule('SMS009', Severity.HIGH, 'APIService name does not match its group and version',
    'kube-apiserver requires metadata.name to equal <version>.<group> (v1beta1.metrics.k8s.io)',
    'name the APIService v1beta1.metrics.k8s.io with spec.group metrics.k8s.io and spec.version v1beta1');

  // --- the serving certificate (when the Secret is in the input)
  public static readonly NO_CA_BUNDLE = rule('SMS018', Severity.HIGH, 'APIService verified without a caBundle',
    'with neither caBundle nor insecureSkipTLSVerify, kube-apiserver verifies metrics-server against its own system roots, which never hold a cluster-internal CA: "Metrics API not available"',
    'put the base64 PEM of the CA that issued the serving certificate in spec.caBundle, or let cert-manager inject it (cert-manager.io/inject-ca-from)',
    'servingTls');
  public static readonly CERT_NOT_VERIFIED = rule('SMS010', Severity.HIGH, 'serving certificate does not verify against caBundle',
    'kube-apiserver verifies the serving certificate against spec.caBundle; a certificate from another CA fails every request',
    'put the CA that issued the serving certificate in caBundle, or reissue the certificate from that CA',
    'servingTls');
  public static readonly CERT_WRONG_NAME = rule('SMS011', Severity.HIGH, 'serving certificate lacks the Service DNS name',
    'kube-apiserver dials <service>.<namespace>.svc and needs a DNS SAN with that name (the Common Name is ignored)',
    'reissue the certificate with subjectAltName DNS:<service>.<namespace>.svc',
    'servingTls');
  public static readonly CERT_EXPIRED = rule('SMS012', Severity.HIGH, 'serving certificate expired or not yet valid',
    'kube-apiserver refuses a certificate outside its validity period; metrics.k8s.io becomes unavailable',
    'renew the certificate (cert-manager renews it automatically)',
    'servingTls: ServingTls.fromCertManager()');
  public static readonly CERT_EXPIRING = rule('SMS013', Severity.MEDIUM, 'serving certificate expires soon',
    'the certificate will expire within the warning window; metrics.k8s.io breaks then unless it is renewed',
    'renew the certificate now, or let cert-manager renew it',
    'servingTls: ServingTls.fromCertManager()');
  public static readonly KEY_MISMATCH = rule('SMS014', Severity.HIGH, 'serving key does not match certificate',
    'metrics-server cannot start with a private key that does not belong to its certificate',
    'store the matching tls.key next to tls.crt',
    'servingTls');
  public static readonly KEY_IN_MANIFEST = rule('SMS015', Severity.MEDIUM, 'private key in the manifests',
    'a private key in rendered YAML ends up in Git and CI logs (GitOps leak); anyone with read access can impersonate metrics-server',
    'keep the key out of the manifests: cert-manager, an existing Secret, or a sealed/external secret',
    'servingTls: ServingTls.fromCertManager() or ServingTls.fromExistingSecret()');
  public static readonly CERT_REJECTED = rule('SMS016', Severity.HIGH, 'serving certificate rejected by kube-apiserver',
    'Go\'s crypto/x509 refuses it (SHA-1 signature, negative serial, a CA as leaf, extendedKeyUsage without serverAuth, or it does not parse)',
    'reissue the certificate as a SHA-256 leaf with extendedKeyUsage serverAuth and a positive serial',
    'servingTls');
  public static readonly SERVING_SECRET_WIRING = rule('SMS017', Severity.HIGH, 'serving certificate file not mounted',
    '--tls-cert-file or --tls-private-key-file points at a path no volume mounts, or at a key the Secret does not hold; metrics-server cannot start',
    'mount the serving Secret at the directory of --tls-cert-file and use its tls.crt/tls.key keys',
    'servingTls');

  // --- the kubelet CA wiring
  public static readonly KUBELET_CA_NOT_MOUNTED = rule('SMS020', Severity.HIGH, 'kubelet CA path not mounted',
    '--kubelet-certificate-authority points at a path that no volume mounts; metrics-server fails to start',
    'mount the ConfigMap or Secret holding the kubelet CA at the directory of --kubelet-certificate-authority',
    'kubeletTls');
  public static readonly KUBELET_CA_KEY_MISSING = rule('SMS021', Severity.HIGH, 'kubelet CA key missing',
    'the mounted ConfigMap or Secret has no key with the file name --kubelet-certificate-authority reads',
    'point --kubelet-certificate-authority at an existing key (kube-root-ca.crt holds ca.crt)',
    'kubeletTls: KubeletTls.fromConfigMap(name, key)');
  public static readonly KUBELET_CA_WRONG_NAME = rule('SMS022', Severity.HIGH, 'kubelet CA ConfigMap name mistake',
    'the ConfigMap every namespace gets is kube-root-ca.crt; names such as kube-root-ca or cluster-root-ca do not exist, and the pod never starts',
    'use the ConfigMap kube-root-ca.crt with key ca.crt',
    'kubeletTls: KubeletTls.fromKubeRootCa()');
  public static readonly VOLUME_NAME_INVALID = rule('SMS023', Severity.HIGH, 'invalid volume name',
    'volume names must be DNS labels (lowercase letters, digits, \'-\'; no dots); kube-apiserver rejects the Deployment',
    'rename the volume and its volumeMounts, e.g. kube-root-ca instead of kube-root-ca.crt');
  public static readonly KUBELET_CA_CONFLICT = rule('SMS024', Severity.HIGH, 'kubelet CA and insecure TLS together',
    'metrics-server refuses to start with both --kubelet-certificate-authority and --kubelet-insecure-tls',
    'drop --kubelet-insecure-tls',
    'kubeletTls');
  public static readonly KUBELET_DEFAULT_CA = rule('SMS025', Severity.INFO, 'kubelets verified against the service-account CA',
    'without --kubelet-certificate-authority metrics-server verifies kubelets against the service-account ca.crt; that works only where kubelet serving certificates come from the cluster CA (serverTLSBootstrap: true and approved CSRs)',
    'nothing to do if kubelet serving certificates are signed by the cluster CA; otherwise mount their CA with --kubelet-certificate-authority',
    'kubeletTls: KubeletTls.fromKubeRootCa(), and kubeletServingCertApprover');
  public static readonly KUBELET_CA_INVALID = rule('SMS026', Severity.HIGH, 'kubelet CA is not a CA certificate',
    'the file --kubelet-certificate-authority reads must hold PEM CA certificates; anything else stops metrics-server at start-up or fails every kubelet handshake',
    'put the PEM certificate of the CA that signs kubelet serving certificates in that key',
    'kubeletTls: KubeletTls.fromConfigMap(name, key)');

  // --- ports, names, TLS versions
  public static readonly SECURE_PORT_MISMATCH = rule('SMS030', Severity.HIGH, '--secure-port does not match the container port',
    'metrics-server listens on --secure-port (default 10250); a containerPort, probe or Service targetPort with another number reaches nothing',
    'write the port once: --secure-port, containerPort and the probes must agree',
    'securePort');
  public static readonly TARGET_PORT_MISMATCH = rule('SMS031', Severity.HIGH, 'Service targetPort matches no container port',
    'the Service forwards to a targetPort that the selected container does not expose; the APIService is unavailable',
    'set targetPort to the container port name (https) or number',
    'securePort');
  public static readonly APISERVICE_PORT_MISMATCH = rule('SMS032', Severity.HIGH, 'APIService port not on the Service',
    'spec.service.port (default 443) must be one of the Service\'s ports; otherwise kube-apiserver cannot reach metrics-server',
    'set spec.service.port to the Service port (443), or add that port to the Service');
  public static readonly SERVICE_SELECTS_NOTHING = rule('SMS033', Severity.HIGH, 'Service selects no metrics-server pod',
    'the Service selector matches no pod template in the input; the APIService has no endpoints',
    'make the Service selector equal to the Deployment\'s pod labels (k8s-app: metrics-server)');
  public static readonly TLS_MIN_VERSION = rule('SMS034', Severity.MEDIUM, 'TLS below 1.2 allowed',
    '--tls-min-version below VersionTLS12 allows protocol versions with known weaknesses',
    'set --tls-min-version=VersionTLS12 or VersionTLS13, or drop the flag (Go defaults to TLS 1.2 for servers)',
    'extraArgs');
  public static readonly SNI_CERT_FOR_SERVICE = rule('SMS035', Severity.HIGH, 'another certificate served for the Service name',
    '--tls-sni-cert-key names <service>.<namespace>.svc, the name kube-apiserver dials, so metrics-server presents that certificate instead of its serving certificate, which the caBundle may not verify',
    'remove the Service names from --tls-sni-cert-key (keep it for other names only)',
    'extraArgs');

  // --- pod security
  public static readonly POD_SECURITY_RESTRICTED = rule('SMS040', Severity.MEDIUM, 'violates the restricted Pod Security Standard',
    'a namespace labelled pod-security.kubernetes.io/enforce=restricted refuses this pod',
    'set runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop [ALL], seccompProfile RuntimeDefault; no host namespaces, hostPath or privileged',
    'the construct sets all of these');
  public static readonly SERVICE_ACCOUNT_TOKEN = rule('SMS041', Severity.HIGH, 'service account token not mounted',
    'metrics-server needs its service account token to talk to kube-apiserver and to read the service-account CA; automountServiceAccountToken: false breaks it',
    'remove automountServiceAccountToken: false (or mount a projected token)');

  // --- the command line
  public static readonly COMMAND_LINE_REFUSED = rule('SMS027', Severity.HIGH, 'metrics-server refuses its command line',
    'metrics-server v0.8 exits at start on an unknown flag, a flag without its value, or a value of the wrong type, so the install never serves metrics',
    'fix the flag as the message says (for an unknown flag the message lists the known ones, closest first)',
    'extraArgs');
  public static readonly COMMAND_LINE_UNKNOWN = rule('SMS092', Severity.MEDIUM, 'the audit cannot know the command line',
    'the manifest does not say what metrics-server is started with (a variable from envFrom or valueFrom, a shell wrapper, another program, an unrendered kustomization), so neither hop can be reported as verified',
    'give the flags literally in command/args and env values, or audit the rendered output (kustomize build, helm template)');
  // --- the serving Secret in encrypted form (GitOps, docs/gitops.md; checks-gitops.ts)
  public static readonly SEALED_SECRET_SCOPE = rule('SMS050', Severity.HIGH, 'SealedSecret sealed for another namespace or name',
    'the sealed-secrets controller creates the Secret under the SealedSecret\'s own namespace and name, and opens a strict-scoped (or namespace-wide) one only where it was sealed for; a SealedSecret sealed for another namespace or name than the Secret the Deployment mounts never gives metrics-server its certificate',
    'seal it again for the namespace and name the Deployment mounts (kubeseal --namespace --name, or let the construct seal it), or seal with a wider scope on purpose',
    'secretOutput: SecretOutput.sealedSecret({ controllerCertificate })');
  public static readonly SOPS_KEY_IN_CLEAR = rule('SMS051', Severity.HIGH, 'SOPS-encrypted Secret with the private key in clear',
    'the Secret carries SOPS metadata, so it looks encrypted, but its encrypted_regex (or suffix rules) left tls.key in clear: the key is in Git',
    'encrypt with encrypted_regex ^(data|stringData)$ (the construct does), then rotate the key: it was committed',
    'secretOutput: SecretOutput.sopsSecret({ ageRecipients })');

  // --- input completeness
  public static readonly REFERENCED_ABSENT = rule('SMS090', Severity.INFO, 'referenced object not in the input',
    'an object the install refers to (Secret, ConfigMap, Service, the caBundle cert-manager injects) is not in the input, so its checks were skipped',
    'audit it together with the manifests that create it, or check it exists in the cluster (secure-metrics-server doctor)');
  public static readonly REFERENCED_MISSING = rule('SMS091', Severity.HIGH, 'referenced object missing',
    'an object the install refers to does not exist, so the pod cannot start or the APIService stays unavailable',
    'create the object, or fix the reference');

  // --- metrics-server's own metrics (Prometheus Operator)
  public static readonly SERVICE_MONITOR_NOT_VERIFIED = rule('SMS052', Severity.HIGH, 'ServiceMonitor scrape not verified',
    'a ServiceMonitor endpoint that skips verification (insecureSkipVerify: true) or names no CA lets anyone who answers on the Service address feed Prometheus, or fails every scrape',
    'set tlsConfig.ca to the CA that issued the serving certificate (the one in the APIService caBundle) and tlsConfig.serverName to <service>.<namespace>.svc; remove insecureSkipVerify',
    'serviceMonitor: true');

  public static readonly SERVICE_MONITOR_NAME_MISMATCH = rule('SMS053', Severity.MEDIUM, 'ServiceMonitor scrape verifies the wrong name',
    'a ServiceMonitor endpoint that verifies with a CA but names no tlsConfig.serverName, or the DNS name of another Service, checks metrics-server\'s certificate against a name it does not hold (the pod\'s IP address when serverName is absent), so every scrape fails',
    'set tlsConfig.serverName to <service>.<namespace>.svc, the name the serving certificate holds',
    'serviceMonitor: true');

  private static readonly ALL: Rule[] = Object.values(Rules).filter((v): v is Rule => typeof v === 'object' && v !== null && typeof (v as Rule).id === 'string');

  /** Every rule, in id order. */
  public static all(): Rule[] {
    return [...Rules.ALL].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The rule with this id, or undefined. */
  public static byId(id: string): Rule | undefined {
    return Rules.ALL.find(r => r.id === id);
  }
}
