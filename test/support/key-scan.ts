import { createPrivateKey } from 'crypto';

/**
 * Finds plaintext private keys in bytes: PEM blocks, base64 of a PEM block,
 * DER keys (PKCS#8, PKCS#1, SEC1) as raw bytes or in base64. Used by the
 * gitops tests on every manifest and every tracked file. A find names where
 * and what, never the key.
 */
export function findPlaintextKeys(content: Buffer): string[] {
  const found: string[] = [];
  const text = content.toString('latin1');
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    found.push('PEM private key');
  }
  for (const m of text.matchAll(/[A-Za-z0-9+/]{40,}={0,2}/g)) {
    const decoded = Buffer.from(m[0], 'base64');
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(decoded.toString('latin1'))) {
      found.push(`base64 of a PEM private key at ${m.index}`);
    } else if (isDerKey(decoded)) {
      found.push(`base64 of a DER private key at ${m.index}`);
    }
  }
  for (let i = 0; i + 4 < content.length; i++) {
    if (content[i] === 0x30 && (content[i + 1] === 0x82 || content[i + 1] === 0x81 || content[i + 1] === 0x77 || content[i + 1] === 0x2e)) {
      const len = content[i + 1] === 0x82 ? content.readUInt16BE(i + 2) + 4 : content[i + 1] === 0x81 ? content[i + 2] + 3 : content[i + 1] + 2;
      if (i + len <= content.length && isDerKey(content.subarray(i, i + len))) {
        found.push(`DER private key at byte ${i}`);
      }
    }
  }
  return found;
}

function isDerKey(der: Buffer): boolean {
  if (der.length < 40 || der[0] !== 0x30) {
    return false;
  }
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this kind
    }
  }
  return false;
}
