import { parseCertificates, X509Refusal } from '../x509/x509';

/** The APIService's spec.caBundle decoded, or why it is not base64 of PEM certificates. @internal */
export function decodeCaBundle(value: unknown): { pem?: string; problem?: string } {
  if (typeof value !== 'string' || value.trim() === '') {
    return { problem: 'it is empty' };
  }
  const compact = value.replace(/\s+/g, '');
  if (/-----BEGIN/.test(value)) {
    return { problem: 'it is PEM text, not base64 of it' };
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    const partial = /^[A-Za-z0-9+/]+/.exec(compact);
    const text = partial ? Buffer.from(partial[0].slice(0, partial[0].length - (partial[0].length % 4)), 'base64').toString('latin1') : '';
    return {
      problem: text.startsWith('-----BEGIN')
        ? `it is not valid base64 (${compact.length} characters, truncated: it decodes to '${text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}' and no certificate)`
        : 'it is not valid base64',
    };
  }
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  try {
    parseCertificates('spec.caBundle', pem, 'the decoded caBundle');
  } catch (e) {
    return { problem: e instanceof X509Refusal && e.code === 'no-certificate' ? 'it decodes to something that is not a PEM certificate' : 'a certificate in it does not parse' };
  }
  return { pem };
}
