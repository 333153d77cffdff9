import * as lib from '../lib';

// The top-level names of 0.1.0 stay, deprecated, for TypeScript and
// JavaScript users (CHANGELOG.md); each is the static member it points to.
test.each([
  ['DEFAULT_IMAGE', lib.SecureMetricsServer.DEFAULT_IMAGE],
  ['INSECURE_ANNOTATION', lib.SecureMetricsServer.INSECURE_ANNOTATION],
  ['HOSTNAME_TOPOLOGY_KEY', lib.SecureMetricsServer.HOSTNAME_TOPOLOGY_KEY],
  ['DEFAULT_STORE_DIRECTORY', lib.CertificateStore.DEFAULT_DIRECTORY],
  ['CERT_MANAGER_INJECT_CA_FROM', lib.CertManagerIssuer.INJECT_CA_FROM_ANNOTATION],
  ['KUBELET_CSR_APPROVER_IMAGE', lib.KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY],
  ['KUBELET_CSR_APPROVER_VERSION', lib.KubeletServingCertApprover.DEFAULT_VERSION],
  ['KUBELET_SERVING_SIGNER', lib.KubeletServingCertApprover.SIGNER_NAME],
  ['KUBELET_CSR_APPROVER_LEASE', lib.KubeletServingCertApprover.LEASE_NAME],
])('%s is the static member', (name, value) => {
  expect((lib as any)[name]).toBe(value);
  expect(typeof value).toBe('string');
  expect(value).not.toBe('');
});

test('the constants keep their 0.1.0 values', () => {
  expect(lib.SecureMetricsServer.DEFAULT_IMAGE).toBe('registry.k8s.io/metrics-server/metrics-server:v0.8.1');
  expect(lib.SecureMetricsServer.INSECURE_ANNOTATION).toBe('secure-metrics-server.io/insecure-tls');
  expect(lib.SecureMetricsServer.HOSTNAME_TOPOLOGY_KEY).toBe('kubernetes.io/hostname');
  expect(lib.CertificateStore.DEFAULT_DIRECTORY).toBe('.secure-metrics-server/pki');
  expect(lib.CertManagerIssuer.INJECT_CA_FROM_ANNOTATION).toBe('cert-manager.io/inject-ca-from');
  expect(lib.KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY).toBe('ghcr.io/postfinance/kubelet-csr-approver');
  expect(lib.KubeletServingCertApprover.DEFAULT_VERSION).toBe('v1.2.15');
  expect(lib.KubeletServingCertApprover.SIGNER_NAME).toBe('kubernetes.io/kubelet-serving');
  expect(lib.KubeletServingCertApprover.LEASE_NAME).toBe('kubelet-csr-approver');
  expect(lib.CertificateStore.fromDefaultDirectory().directory).toBe(require('path').resolve('.secure-metrics-server/pki'));
});

test('generatedKeyCount() is SecureMetricsServer.generatedKeyCount()', () => {
  expect(lib.generatedKeyCount()).toBe(lib.SecureMetricsServer.generatedKeyCount());
  expect(Number.isInteger(lib.SecureMetricsServer.generatedKeyCount())).toBe(true);
});
