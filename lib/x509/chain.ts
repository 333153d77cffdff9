import { CertInfo } from './cert-info';
import { NameConstraintViolation, nameConstraintViolation } from './name-constraints';
import { allowsServerAuth, fmt, validityProblem, weakSignatureName } from './x509';

/** Go's maxChainSignatureChecks: the signature checks one verification may make. */
const MAX_SIGNATURE_CHECKS = 100;

/**
 * The certificates of `pool` whose subject is `cert`'s issuer, in Go's order
 * (CertPool.findPotentialParents): the key identifiers matching first, then
 * one of them absent, then mismatching.
 */
function potentialParents(cert: CertInfo, pool: CertInfo[]): CertInfo[] {
  // a CertPool holds each certificate once
  const byName = pool.filter((c, i) => c.rawSubject === cert.rawIssuer && pool.findIndex(o => o.pem === c.pem) === i);
  const rank = (c: CertInfo) => ((c.subjectKeyId ?? '') === (cert.authorityKeyId ?? '') ? 0 : (c.subjectKeyId === undefined) !== (cert.authorityKeyId === undefined) ? 1 : 2);
  return byName.map((c, i) => ({ c, i, r: rank(c) })).sort((a, b) => a.r - b.r || a.i - b.i).map(x => x.c);
}

/** Go's alreadyInChain: the same subject, public key and subjectAltName as a certificate of the chain (stops cross-signature loops). */
function alreadyInChain(candidate: CertInfo, chain: CertInfo[]): boolean {
  const spki = (c: CertInfo) => c.x509.publicKey.export({ type: 'spki', format: 'der' });
  return chain.some(c => c.rawSubject === candidate.rawSubject && spki(c).equals(spki(candidate)) && c.sanValue === candidate.sanValue);
}

/**
 * Finds a chain from `leaf` through `intermediates` to one of `roots` the way
 * Go's Certificate.Verify builds chains: for each certificate, every
 * candidate issuer with its subject (roots first, then intermediates, key
 * identifiers matching first) is tried, backtracking when a candidate's
 * signature or CA rules fail, until one chain reaches a root; at most 100
 * signature checks. Returns undefined on success, or the reason no chain
 * exists (the first failure met).
 * @internal
 */
export function verifyChain(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): string | undefined {
  return chainProblem(leaf, intermediates, roots, now)?.message;
}

/**
 * verifyChain's structured result: undefined when a chain exists, else the
 * first failure met (what Go reports as the hint of "signed by unknown
 * authority", or the error of a CA rule).
 * @internal
 */
export function chainProblem(leaf: CertInfo, intermediates: CertInfo[], roots: CertInfo[], now: Date): ChainProblem | undefined {
  let checks = 0;
  let firstProblem: ChainProblem | undefined;
  const note = (p: ChainProblem) => {
    firstProblem = firstProblem ?? p;
  };
  const noIssuer = (cert: CertInfo, candidate?: CertInfo): ChainProblem => ({ code: 'no-issuer', message: `no certificate in the CA bundle signed '${cert.subject}'`, cert, candidate });
  const build = (chain: CertInfo[]): boolean => {
    const current = chain[chain.length - 1];
    // Go refuses a weak signature for every candidate issuer alike
    const weak = weakSignatureName(current.signatureOid);
    if (weak) {
      const candidate = potentialParents(current, roots)[0] ?? potentialParents(current, intermediates)[0];
      note({ code: 'weak-signature', message: `'${current.subject}' is signed with ${weak}`, cert: current, candidate });
      return false;
    }
    const candidates = [
      ...potentialParents(current, roots).map(c => ({ c, root: true })),
      ...potentialParents(current, intermediates).map(c => ({ c, root: false })),
    ];
    if (candidates.length === 0) {
      note(noIssuer(current));
    }
    for (const { c, root } of candidates) {
      if (alreadyInChain(c, chain)) {
        continue;
      }
      if (++checks > MAX_SIGNATURE_CHECKS) {
        // Go reports this error rather than the first failure
        firstProblem = { code: 'signature-limit', message: `more than ${MAX_SIGNATURE_CHECKS} signature checks to build the chain (Go's limit)`, cert: current };
        return false;
      }
      if (!signs(c, current)) {
        // a certificate with the issuer's name but another key (an old CA, an impostor)
        note({ ...noIssuer(current, c), code: 'bad-signature' });
        continue;
      }
      // Go checks the CA rules on every signing certificate (roots too) and extendedKeyUsage down the whole chain
      const problem = caProblem(c, now, chain.length - 1, leaf);
      if (problem) {
        note({ ...problem, cert: current, candidate: c });
        continue;
      }
      if (root || build([...chain, c])) {
        return true;
      }
    }
    return false;
  };
  return build([leaf]) ? undefined : firstProblem ?? noIssuer(leaf);
}

/**
 * Whether `issuer` signed `cert` as Go's chain building sees it: the issuer
 * name equal to the CA's subject byte for byte (OpenSSL compares a normalized
 * form, Go does not), and the signature valid under the CA's key.
 * @internal
 */
export function signs(issuer: CertInfo, cert: CertInfo): boolean {
  if (cert.rawIssuer !== issuer.rawSubject) {
    return false;
  }
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/**
 * What kept a candidate issuer out of the chain, or why a certificate found
 * none: the structured result of the one chain verifier (chainProblem), which
 * lib/x509/go-text.ts words as Go does.
 * @internal
 */
export type ChainProblemCode =
  | 'no-issuer' | 'bad-signature' | 'weak-signature' | 'signature-limit'
  | 'unhandled-critical' | 'name-constraints' | 'not-ca' | 'no-cert-sign' | 'eku' | 'path-len' | 'expired' | 'not-yet-valid';

/** @internal */
export interface ChainProblem {
  readonly code: ChainProblemCode;
  /** the library's sentence */
  readonly message: string;
  /** the certificate an issuer was looked for */
  readonly cert: CertInfo;
  /** the candidate issuer that was refused (absent for 'no-issuer' without candidates, 'weak-signature', 'signature-limit') */
  readonly candidate?: CertInfo;
  /** for 'name-constraints' */
  readonly violation?: NameConstraintViolation;
}

/** `intermediatesBelow`: how many intermediates lie between `ca` and the leaf. */
function caProblem(ca: CertInfo, now: Date, intermediatesBelow: number, leaf: CertInfo): Omit<ChainProblem, 'cert' | 'candidate'> | undefined {
  if (ca.unhandledCritical.length > 0) {
    return { code: 'unhandled-critical', message: `'${ca.subject}' has a critical extension Go does not handle (${ca.unhandledCritical.join(', ')})` };
  }
  // Go checks the leaf's names and the CA's own SANs
  const violation = (leaf.sanValue !== undefined ? nameConstraintViolation(ca, leaf) : undefined)
    ?? (ca.sanValue !== undefined ? nameConstraintViolation(ca, ca) : undefined);
  if (violation) {
    return { code: 'name-constraints', message: violation.message, violation };
  }
  if (ca.version !== 3 || !ca.isCa) {
    return { code: 'not-ca', message: `'${ca.subject}' is not a CA (basicConstraints CA:FALSE)` };
  }
  if (ca.keyUsage && !ca.keyUsage.keyCertSign) {
    return { code: 'no-cert-sign', message: `'${ca.subject}' lacks keyUsage keyCertSign` };
  }
  if (!allowsServerAuth(ca)) {
    return { code: 'eku', message: `'${ca.subject}' has extendedKeyUsage ${ca.extKeyUsage!.join(', ')} without serverAuth, so no certificate it issues may serve TLS` };
  }
  if (ca.maxPathLen !== undefined && intermediatesBelow > ca.maxPathLen) {
    return { code: 'path-len', message: `'${ca.subject}' allows ${ca.maxPathLen} intermediate(s) below it (pathLenConstraint), the chain has ${intermediatesBelow}` };
  }
  const time = validityProblem(ca, now);
  if (time) {
    return { code: time, message: `'${ca.subject}' is not valid now (${fmt(ca.notBefore)} to ${fmt(ca.notAfter)})` };
  }
  return undefined;
}
