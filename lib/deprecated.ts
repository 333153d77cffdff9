// Deprecated top-level names of 0.1.0, kept for TypeScript and JavaScript
// users until the next minor release (see CHANGELOG.md). jsii does not carry
// top-level constants or functions to other languages, so they exist only
// here; the static members they point to are the API in every language.
import * as plus from 'cdk8s-plus-28';
import { KubeletServingCertApprover } from './approver/kubelet-serving-cert-approver';
import { SecureMetricsServer } from './secure-metrics-server';
import { CertManagerIssuer } from './tls/cert-manager';
import { SecureMetricsServerTesting } from './testing';
import { CertificateStore } from './store/certificate-store';

/** @deprecated use `SecureMetricsServer.DEFAULT_IMAGE` */
export const DEFAULT_IMAGE = SecureMetricsServer.DEFAULT_IMAGE;
/** @deprecated use `SecureMetricsServer.INSECURE_ANNOTATION` */
export const INSECURE_ANNOTATION = SecureMetricsServer.INSECURE_ANNOTATION;
/** @deprecated use `SecureMetricsServer.HOSTNAME_TOPOLOGY_KEY` */
export const HOSTNAME_TOPOLOGY_KEY = SecureMetricsServer.HOSTNAME_TOPOLOGY_KEY;
/** @deprecated use `CertificateStore.DEFAULT_DIRECTORY` */
export const DEFAULT_STORE_DIRECTORY = CertificateStore.DEFAULT_DIRECTORY;
/** @deprecated use `CertManagerIssuer.INJECT_CA_FROM_ANNOTATION` */
export const CERT_MANAGER_INJECT_CA_FROM = CertManagerIssuer.INJECT_CA_FROM_ANNOTATION;
/** @deprecated use `KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY` */
export const KUBELET_CSR_APPROVER_IMAGE = KubeletServingCertApprover.DEFAULT_IMAGE_REPOSITORY;
/** @deprecated use `KubeletServingCertApprover.DEFAULT_VERSION` */
export const KUBELET_CSR_APPROVER_VERSION = KubeletServingCertApprover.DEFAULT_VERSION;
/** @deprecated use `KubeletServingCertApprover.SIGNER_NAME` */
export const KUBELET_SERVING_SIGNER = KubeletServingCertApprover.SIGNER_NAME;
/** @deprecated use `KubeletServingCertApprover.LEASE_NAME` */
export const KUBELET_CSR_APPROVER_LEASE = KubeletServingCertApprover.LEASE_NAME;

/** @deprecated use `SecureMetricsServerTesting.generatedKeyCount()` */
export function generatedKeyCount(): number {
  return SecureMetricsServerTesting.generatedKeyCount();
}

// 0.2.0's copies of cdk8s-plus-28's enums, with the same values. Aliases are
// TypeScript-only: jsii cannot re-export another assembly's type, so in
// Python, Go and Java the props take cdk8s-plus-28's enums directly.

/** @deprecated use `ImagePullPolicy` of cdk8s-plus-28 (the same values) */
export const ImagePullPolicy = plus.ImagePullPolicy;
/** @deprecated use `ImagePullPolicy` of cdk8s-plus-28 (the same values) */
export type ImagePullPolicy = plus.ImagePullPolicy;
/** @deprecated use `TaintEffect` of cdk8s-plus-28 (the same values) */
export const TaintEffect = plus.TaintEffect;
/** @deprecated use `TaintEffect` of cdk8s-plus-28 (the same values) */
export type TaintEffect = plus.TaintEffect;
