import * as plus from 'cdk8s-plus-28';
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
  const before = lib.SecureMetricsServerTesting.generatedKeyCount();
  generateKey(KeyAlgorithm.ECDSA_P256);
  generateKey(KeyAlgorithm.ECDSA_P256);
  expect(lib.SecureMetricsServerTesting.generatedKeyCount()).toBe(before + 2);
  // the deprecated names of 0.1.0 and 0.2.0
  expect(lib.generatedKeyCount()).toBe(before + 2);
  expect(lib.SecureMetricsServer.generatedKeyCount()).toBe(before + 2);
});

// 0.2.0's test helpers on CertificateStore forward to SecureMetricsServerTesting
test('CertificateStore.temporary() and redactForSnapshot() still work, deprecated', () => {
  const store = lib.CertificateStore.temporary();
  expect(store).toBeInstanceOf(lib.CertificateStore);
  expect(store.directory).not.toBe(lib.SecureMetricsServerTesting.temporaryStore().directory);
  const manifests = [{ kind: 'Secret', data: { 'tls.key': Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').toString('base64') } }];
  expect(lib.CertificateStore.redactForSnapshot(manifests)).toEqual(lib.SecureMetricsServerTesting.redactForSnapshot(manifests));
  expect(JSON.stringify(lib.SecureMetricsServerTesting.redactForSnapshot(manifests))).toContain('<private key redacted>');
});

// 0.2.0's copies of cdk8s-plus-28's enums are now its enums, for TypeScript
// and JavaScript under the old names
test.each([
  ['ImagePullPolicy', plus.ImagePullPolicy, { ALWAYS: 'Always', IF_NOT_PRESENT: 'IfNotPresent', NEVER: 'Never' }],
  ['TaintEffect', plus.TaintEffect, { NO_SCHEDULE: 'NoSchedule', PREFER_NO_SCHEDULE: 'PreferNoSchedule', NO_EXECUTE: 'NoExecute' }],
])('%s is cdk8s-plus-28\'s enum, with the values of 0.2.0', (name, peer, values) => {
  expect((lib as any)[name]).toBe(peer);
  expect({ ...peer }).toEqual(values);
});

test('the deprecated CertManagerKeyAlgorithm constants are KeyAlgorithm objects', () => {
  for (const a of [lib.CertManagerKeyAlgorithm.RSA, lib.CertManagerKeyAlgorithm.ECDSA, lib.CertManagerKeyAlgorithm.ED25519]) {
    expect(a).toBeInstanceOf(KeyAlgorithm);
  }
});
