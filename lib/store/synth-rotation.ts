import { KeyObject } from 'crypto';
import { readdirSync } from 'fs';
import * as path from 'path';
import { readRotation } from './rotation-state';
import { hasEmptyKeyId, recertifyCa } from '../x509/pki';
import { CA_CERT, CA_KEY, commitUnit, readOptional } from './store-files';
import { assertKeyMatches, canonicalCertificatePem, formatDate, parseCertificates, parsePrivateKey } from '../x509/x509';
import { assertIsCa } from '../x509/serving-checks';
import { CertInfo } from '../x509/cert-info';
import { CaSource, Dates, NEEDS_LOCK } from './issuance-types';
import { corrupt, once } from './units';

/** A CA kept in a unit of the store, checked on demand. */
export function storedCa(prop: string, unit: string, certPem: string, keyPem: string, now: Date): CaSource {
  const certFile = path.join(unit, CA_CERT);
  const keyFile = path.join(unit, CA_KEY);
  const moveAside = `restore the file from your backup, or move the directory '${unit}' aside to create a new CA (the APIService's caBundle then changes)`;
  return {
    certPem: canonicalCertificatePem(certPem),
    keyPem,
    validate: once(() => {
      let info: CertInfo;
      try {
        info = parseCertificates(prop, certPem, certFile)[0];
        assertIsCa(prop, info, certFile);
      } catch (e: any) {
        throw corrupt(certFile, e.message, moveAside);
      }
      let key: KeyObject;
      try {
        key = parsePrivateKey(prop, keyPem, keyFile);
        assertKeyMatches(prop, info, key, 'the stored CA certificate');
      } catch (e: any) {
        throw corrupt(keyFile, e.message, moveAside);
      }
      if (info.notAfter.getTime() <= now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${unit}' expired on ${formatDate(info.notAfter)}; it is never replaced silently: rotate CAs before they expire with 'secure-metrics-server ca rotate' (docs/rotation.md); now that it has expired, move '${unit}' aside to create a new one, then apply the new APIService caBundle together with the new Secret`);
      }
      if (info.notBefore.getTime() > now.getTime()) {
        throw new Error(`${prop}: the dedicated CA in '${unit}' is not valid before ${formatDate(info.notBefore)}; check the clock of this machine (and of the one that created '${certFile}')`);
      }
      return { info, key };
    }),
  };
}

// ---- CA rotation (the phases are changed only by lib/store/ca-rotation.ts) ----

/**
 * The dedicated CA as a rotation in progress makes it: 'staged' signs with
 * the current CA, 'switched' with the next one; both put the two CAs in the
 * caBundle (the current first). A finish interrupted after the next CA took
 * the current one's place gives one CA, as after the finish.
 */
export function withRotation(prop: string, unit: string, current: CaSource, now: Date): CaSource {
  const rotation = readRotation(unit);
  if (!rotation) {
    return current;
  }
  const next = storedCa(prop, rotation.unit, rotation.certPem, rotation.keyPem, now);
  const signing = rotation.phase === 'staged' ? current : next;
  const bundle = next.certPem === current.certPem ? current.certPem : current.certPem + next.certPem;
  const finishing = next.certPem === current.certPem;
  const since = rotation.phase === 'staged' ? rotation.stagedAt : rotation.switchedAt ?? rotation.stagedAt;
  // the command as it runs on this store and cluster (unit: <store>/clusters/<cluster>/ca)
  const rotateCommand = `secure-metrics-server ca rotate --store ${JSON.stringify(path.dirname(path.dirname(path.dirname(unit))))} --cluster ${path.basename(path.dirname(unit))}`;
  return {
    certPem: signing.certPem,
    keyPem: signing.keyPem,
    bundlePem: bundle === signing.certPem ? undefined : bundle,
    rotationWarning: `${prop}: the dedicated CA in '${unit}' is being rotated: ${finishing
      ? `the finish was interrupted (this synth already gives the finished caBundle); run '${rotateCommand}' to complete it`
      : `phase '${rotation.phase}' since ${since}; once this synth is applied and has taken effect, run '${rotateCommand}' for '${rotation.phase === 'staged' ? 'switch' : 'finish'}' (docs/rotation.md)`}`,
    validate: () => {
      // the next CA is checked in either phase; the current one only while it signs
      const checkedNext = next.validate();
      return signing === next ? checkedNext : current.validate();
    },
  };
}

export function rotationWarnings(source: CaSource): string[] {
  return source.rotationWarning ? [source.rotationWarning] : [];
}

/** The caBundle of a CA source. */
export function bundleOf(source: CaSource): string {
  return source.bundlePem ?? source.certPem;
}

export function expiryOf(d: Dates): { notAfter: Date; caNotAfter: Date } {
  return { notAfter: new Date(d.notAfter), caNotAfter: new Date(d.caNotAfter) };
}

/**
 * Key identifiers of stores written before the fix (docs/rotation.md): a
 * staged next CA whose subjectKeyIdentifier is the SHA-1 of nothing, as the
 * library wrote every RSA CA, is certified again with the same key, name and
 * validity and its real key identifier, under the lock. In the staged phase
 * the next CA signs nothing yet, so only the caBundle's second certificate
 * changes and the serving certificate stays: in either order of arrival
 * every client keeps verifying, and after the switch the leaf's
 * authorityKeyIdentifier picks the next CA out of the bundle for OpenSSL.
 * Any other key identifier, and any CA that already signs, is left as it is.
 */
export function mendStagedKeyId(prop: string, caUnit: string, locked: boolean): typeof NEEDS_LOCK | undefined {
  const rotation = readRotation(caUnit);
  if (!rotation || rotation.phase !== 'staged') {
    return undefined;
  }
  let info: CertInfo;
  let key: KeyObject;
  try {
    info = parseCertificates(prop, rotation.certPem, path.join(rotation.unit, CA_CERT))[0];
    key = parsePrivateKey(prop, rotation.keyPem, path.join(rotation.unit, CA_KEY));
  } catch {
    // an unusable next CA is reported by its own check (withRotation)
    return undefined;
  }
  if (!hasEmptyKeyId(info, key) || !info.x509.checkPrivateKey(key)) {
    return undefined;
  }
  if (!locked) {
    return NEEDS_LOCK;
  }
  const files: { [name: string]: string } = {};
  for (const name of readdirSync(rotation.unit)) {
    files[name] = name === CA_CERT ? recertifyCa(info, key) : readOptional(path.join(rotation.unit, name))!;
  }
  commitUnit(rotation.unit, files, 'mend-key-id');
  return undefined;
}
