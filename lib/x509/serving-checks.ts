import { matchesHostname } from '../k8s/names';
import { CertInfo } from './cert-info';
import { nameConstraintProblem } from './name-constraints';
import { allowsServerAuth, assertGoAcceptsCertificate, refusal, weakSignatureName } from './x509';

/**
 * Throws unless the certificate may sign certificates the way Go's crypto/x509
 * requires: X.509 v3, basicConstraints CA:TRUE, keyCertSign when keyUsage is present.
 * @internal
 */
export function assertIsCa(prop: string, cert: CertInfo, example: string): void {
  if (cert.version !== 3) {
    throw refusal(prop, `the certificate is not a CA (X.509 v${cert.version}, without basicConstraints) (${cert.subject})`, `pass an X.509 v3 CA certificate with basicConstraints CA:TRUE, e.g. ${example}`);
  }
  if (!cert.isCa) {
    throw refusal(prop, `the certificate is not a CA (basicConstraints CA:FALSE or absent) (${cert.subject})`, `pass the CA certificate, e.g. ${example}`);
  }
  if (cert.keyUsage && !cert.keyUsage.keyCertSign) {
    throw refusal(prop, `the CA certificate may not sign certificates (keyUsage without keyCertSign) (${cert.subject})`, `pass a CA whose keyUsage includes keyCertSign, e.g. ${example}`);
  }
}

/**
 * Throws unless the CA may issue a serving certificate with these DNS names
 * that Go accepts: a CA (see assertIsCa), extendedKeyUsage absent or allowing
 * serverAuth, a key and extensions Go accepts, name constraints that permit
 * every name. Returns warnings (weak RSA key, SHA-1 self-signature).
 * @internal
 */
export function assertCanIssueServing(prop: string, ca: CertInfo, dnsNames: string[], example: string): string[] {
  assertIsCa(prop, ca, example);
  assertCaAllowsServerAuth(prop, ca);
  const warnings = assertGoAcceptsCertificate(prop, ca, 'the CA certificate');
  const problem = nameConstraintProblem(ca, { dnsNames, ipAddresses: [] });
  if (problem) {
    throw refusal(prop, `${problem}, so Go refuses the serving certificate it would issue`, `use a CA whose nameConstraints permit the Service's names, or ServingTls.fromDedicatedCa()`);
  }
  return [...warnings, ...sha1RootWarning(prop, ca)];
}

/**
 * Throws unless the CA's extendedKeyUsage is absent or allows serverAuth: Go
 * checks the purpose down the whole chain, so such a CA verifies no serving
 * certificate.
 * @internal
 */
export function assertCaAllowsServerAuth(prop: string, ca: CertInfo): void {
  if (!allowsServerAuth(ca)) {
    throw refusal(prop, `the CA's extendedKeyUsage (${ca.extKeyUsage!.join(', ')}) lacks serverAuth, so Go refuses every serving certificate under it (${ca.subject})`, `use a CA without extendedKeyUsage or with serverAuth`);
  }
}

/** A warning for a root that signs itself with SHA-1 (Go does not check a root's own signature). */
export function sha1RootWarning(prop: string, root: CertInfo): string[] {
  const weak = weakSignatureName(root.signatureOid);
  return weak && root.selfSigned ? [`${prop}: the CA certificate (${root.subject}) signs itself with ${weak}; Go does not check a root's own signature so it works, but reissue it with SHA-256 when you can`] : [];
}

/**
 * Throws if the certificate is signed with an algorithm kube-apiserver refuses.
 * @internal
 */
export function assertStrongSignature(prop: string, cert: CertInfo): void {
  const weak = weakSignatureName(cert.signatureOid);
  if (weak) {
    throw refusal(prop, `the certificate (${cert.subject}) is signed with ${weak}, which kube-apiserver rejects`, `reissue it with SHA-256 (e.g. 'openssl x509 -req -sha256 ...')`);
  }
}

/**
 * Throws unless the serving certificate passes the checks kube-apiserver makes
 * when it dials `serverName`.
 * @internal
 */
export function assertServingCertificate(prop: string, cert: CertInfo, serverName: string): void {
  if (!coversServerName(cert, serverName)) {
    const cnOnly = cert.x509.subject.split('\n').includes(`CN=${serverName}`);
    const has = cert.dnsNames.length ? `its DNS SANs are ${cert.dnsNames.join(', ')}` : 'it has no DNS SAN';
    throw refusal(prop, `the serving certificate is not valid for '${serverName}' (${has}${cnOnly ? '; the Common Name is ignored by kube-apiserver' : ''})`, `reissue it with subjectAltName DNS:${serverName}`);
  }
  if (!allowsServerAuth(cert)) {
    throw refusal(prop, `the serving certificate's extendedKeyUsage (${cert.extKeyUsage!.join(', ')}) does not allow serverAuth`, `reissue it with extendedKeyUsage = serverAuth`);
  }
  if (cert.isCa) {
    throw refusal(prop, `the serving certificate (${cert.subject}) is a CA certificate`, `pass the leaf certificate issued for '${serverName}' first in the file`);
  }
  if (cert.serialNegative) {
    throw refusal(prop, `the serving certificate (${cert.subject}) has a negative serial number, which Kubernetes 1.32+ rejects`, `reissue it`);
  }
  assertStrongSignature(prop, cert);
  if (cert.unhandledCritical.length > 0) {
    throw refusal(prop, `the serving certificate (${cert.subject}) has a critical extension Go does not handle (${cert.unhandledCritical.join(', ')}), so kube-apiserver refuses it (x509: unhandled critical extension)`, `reissue it without that extension`);
  }
}

/**
 * Whether a DNS SAN of the certificate matches `serverName` (the Common Name
 * is ignored, as Go ignores it).
 * @internal
 */
export function coversServerName(cert: CertInfo, serverName: string): boolean {
  return cert.dnsNames.some(name => matchesHostname(name, serverName));
}
