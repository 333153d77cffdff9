import { Pem } from '../store/pem';
import { assertCurrentlyValid, assertGoAcceptsCertificate, certificateBlocks, validityProblem, parseCertificateBlock, X509Refusal } from '../x509/x509';
import { assertCaAllowsServerAuth, assertIsCa, sha1RootWarning } from '../x509/serving-checks';
import { CertInfo } from '../x509/cert-info';
import { verifyChain } from '../x509/chain';

export function earliest(dates: Date[]): Date | undefined {
  return dates.length === 0 ? undefined : new Date(Math.min(...dates.map(d => d.getTime())));
}

/**
 * `fromPem`'s CA date: the earliest end among the CAs on the chain
 * kube-apiserver verifies, i.e. the intermediates of the certificate file and
 * the caBundle's CAs that verify the chain (not a CA of the bundle the chain
 * does not use, such as the other CA during a rotation).
 */
export function pathCaNotAfter(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): Date | undefined {
  const used = roots.filter(root => verifyChain(leaf, intermediates, [root], now) === undefined);
  return earliest([...intermediates, ...used].map(c => c.notAfter));
}

/** A bundle with more roots after it, each certificate once. */
export function appendToBundle(bundlePem: string, extra: CertInfo[]): string {
  let bundle = bundlePem;
  for (const c of extra) {
    const pem = c.pem;
    if (!bundle.includes(pem.trim())) {
      bundle += pem;
    }
  }
  return bundle;
}

/**
 * The CA bundle, every certificate of it checked as Go checks a root. Go's
 * CertPool skips PEM blocks with headers and certificates that do not
 * parse; the library refuses them instead (a bundle entry that is silently
 * dropped is a mistake the user wants to hear of).
 */
export function loadCaBundle(prop: string, pem: Pem, now: Date, warnings: string[]): CertInfo[] {
  const blocks = certificateBlocks(prop, pem._read(prop), pem.source);
  const roots = blocks.map((block, i) => {
    if (Object.keys(block.headers).length > 0) {
      throw new Error(`${prop}: certificate #${i + 1} in ${pem.source} has PEM headers (${Object.keys(block.headers).join(', ')}), so Go's CertPool skips it; remove the header lines`);
    }
    return parseCertificateBlock(prop, block, pem.source, i);
  });
  for (const root of roots) {
    assertIsCa(prop, root, 'the CA that signed the serving certificate');
    assertCaAllowsServerAuth(prop, root);
    if (validityProblem(root, now) && roots.some(other => !validityProblem(other, now))) {
      // during a CA rotation the bundle may hold the old CA beside the new one: Go skips a CA
      // that is not valid now and builds the chain through the other
      try {
        assertCurrentlyValid(prop, root, now, 'the CA certificate');
      } catch (e) {
        if (!(e instanceof X509Refusal)) {
          throw e;
        }
        warnings.push(`${e.prop}: ${e.reason}; Go skips it while another certificate of the bundle is valid, remove it once no certificate it issued is in use`);
      }
    } else {
      assertCurrentlyValid(prop, root, now, 'the CA certificate');
    }
    warnings.push(...assertGoAcceptsCertificate(prop, root, 'the CA certificate'), ...sha1RootWarning(prop, root));
  }
  return roots;
}
