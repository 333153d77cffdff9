export * from './secure-metrics-server';
export * from './kubelet-serving-cert-approver';
export * from './tls/kubelet-tls';
export * from './tls/serving-tls';
export * from './tls/cert-manager';
export * from './tls/certificate-store';
export * from './tls/pem';
export { generatedKeyCount } from './tls/pki';
