import * as lib from '../lib';
import { KeyAlgorithm } from '../lib/x509/key-algorithm';
import { generateKey } from '../lib/x509/pki';

// The top-level names of 0.1.0 stay, deprecated, for TypeScript and
// JavaScript users (CHANGELOG.md). Each deprecated name is checked against
// the literal value it had in 0.1.0 (so a renamed or re-pointed name fails)
// and against the static member it forwards to.
test.each([
  ['DEFAULT_IMAGE', 'registry.k8s.io/metrics-server/metrics-server:v0.8.1', lib.SecureMetricsServer.DEFAULT_IMAGE],
  ['INSECURE_ANNOTATION', 'secure-metrics-server.io/insecure-tls', lib.SecureMetricsServer.INSECURE_ANNOTATION],
  ['HOSTNAME_TOPOLOGY_KEY', 'kubernetes.io/hostname', lib.SecureMetricsServer.HOSTNAME_TOPOLOGY_KEY],
  ['DEFAULT_STORE_DIRECTORY', '.secure-metrics-server/pki', lib.CertificateStore.DEFAULT_DIRECTORY],
  ['CERT_MANAGER_INJECT_CA_FROM', 'cert-manager.io/inject-ca-from', lib.CertManagerIssuer.INJECT_CA_FROM_ANNOTATION],
  ['KUBELET_CSR_APPROVER_IMAGE', 'ghcr.io/postfinance/kubelet-csr-approver', lib.KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY],
  ['KUBELET_CSR_APPROVER_VERSION', 'v1.2.15', lib.KubeletServingCertApprover.DEFAULT_VERSION],
  ['KUBELET_SERVING_SIGNER', 'kubernetes.io/kubelet-serving', lib.KubeletServingCertApprover.SIGNER_NAME],
  ['KUBELET_CSR_APPROVER_LEASE', 'kubelet-csr-approver', lib.KubeletServingCertApprover.LEASE_NAME],
])('%s keeps its 0.1.0 value and is the static member', (name, literal, member) => {
  expect((lib as any)[name]).toBe(literal);
  expect(member).toBe(literal);
});

test('the default store directory resolves against the working directory', () => {
  expect(lib.CertificateStore.fromDefaultDirectory().directory).toBe(require('path').resolve('.secure-metrics-server/pki'));
});

test('generatedKeyCount() counts the keys this process generates', () => {
  const before = lib.generatedKeyCount();
  generateKey(KeyAlgorithm.ECDSA_P256);
  generateKey(KeyAlgorithm.ECDSA_P256);
  expect(lib.generatedKeyCount()).toBe(before + 2);
  expect(lib.SecureMetricsServer.generatedKeyCount()).toBe(before + 2);
});
