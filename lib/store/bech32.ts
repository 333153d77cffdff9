/**
 * Bech32 (BIP 173), as age encodes its X25519 recipients (`age1...`) and
 * identities (`AGE-SECRET-KEY-1...`). age does not apply BIP 173's 90
 * character limit, and neither does this.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) {
      if ((top >>> i) & 1) {
        chk ^= GENERATOR[i];
      }
    }
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) {
    out.push(c.charCodeAt(0) >> 5);
  }
  out.push(0);
  for (const c of hrp) {
    out.push(c.charCodeAt(0) & 31);
  }
  return out;
}

function convertBits(data: Uint8Array | number[], from: number, to: number, pad: boolean): number[] | undefined {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const value of data) {
    if (value < 0 || value >> from !== 0) {
      return undefined;
    }
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) {
      out.push((acc << (to - bits)) & max);
    }
  } else if (bits >= from || ((acc << (to - bits)) & max) !== 0) {
    return undefined;
  }
  return out;
}

/** Encodes bytes with a human-readable part, lower case. */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true)!;
  const values = [...hrpExpand(hrp), ...words, 0, 0, 0, 0, 0, 0];
  const mod = polymod(values) ^ 1;
  const checksum: number[] = [];
  for (let i = 0; i < 6; i++) {
    checksum.push((mod >>> (5 * (5 - i))) & 31);
  }
  return `${hrp}1${[...words, ...checksum].map(w => CHARSET[w]).join('')}`;
}

/** Decodes a Bech32 string (all lower or all upper case); undefined when it is not valid Bech32. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    return undefined;
  }
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) {
    return undefined;
  }
  const hrp = s.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) {
      return undefined;
    }
  }
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) {
      return undefined;
    }
    words.push(w);
  }
  if (polymod([...hrpExpand(hrp), ...words]) !== 1) {
    return undefined;
  }
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes === undefined ? undefined : { hrp, data: Buffer.from(bytes) };
}
