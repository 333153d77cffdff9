/**
 * PEM decoding exactly as Go's encoding/pem reads it, and canonical encoding.
 * @internal
 */
/**
 * One PEM block, as Go's `encoding/pem.Decode` returns it.
 * @internal
 */
export interface PemBlock {
  readonly type: string;
  readonly headers: { [key: string]: string };
  readonly bytes: Buffer;
}

/**
 * Whether a text shows a PEM private key (a BEGIN or END line of any
 * `... PRIVATE KEY` block, even a malformed one): the one test for "key
 * material here" used to report it (audit SMS015), to keep it out of doctor's
 * reads and to redact it from the store's diagnostics.
 * @internal
 */
export function mentionsPrivateKey(text: string): boolean {
  return /-----(BEGIN|END) [A-Z ]*PRIVATE KEY-----/.test(text);
}

const PEM_START = '\n-----BEGIN ';
const PEM_END = '\n-----END ';
const PEM_END_OF_LINE = '-----';

/** Go's getLine: the line without its end and trailing spaces and tabs, and the rest. */
function getLine(data: string): [string, string] {
  let i = data.indexOf('\n');
  let j: number;
  if (i < 0) {
    i = data.length;
    j = i;
  } else {
    j = i + 1;
    if (i > 0 && data[i - 1] === '\r') {
      i--;
    }
  }
  return [data.slice(0, i).replace(/[ \t]+$/, ''), data.slice(j)];
}

/** Go's base64.StdEncoding.Decode: CR and LF ignored, padding required, nothing else allowed. */
function decodeBase64(data: string): Buffer | undefined {
  const b64 = data.replace(/[\r\n]/g, '');
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
    return undefined;
  }
  return Buffer.from(b64, 'base64');
}

/**
 * Decodes every PEM block of a text exactly as Go's `encoding/pem.Decode`
 * does in a loop: text before, between and after blocks is skipped, a
 * BEGIN line must end with five dashes, `Key: value` header lines are
 * read, the END line must name the same type, the base64 body may hold
 * spaces, tabs and CRLF but must otherwise be strict. A block Go would not
 * decode is skipped, as Go skips it. So what the library reads of a PEM file
 * is what kube-apiserver and metrics-server read of it.
 * @internal
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let rest = text;
  for (;;) {
    const block = decodeOne(rest);
    if (!block) {
      return blocks;
    }
    blocks.push(block.block);
    rest = block.rest;
  }
}

function decodeOne(data: string): { block: PemBlock; rest: string } | undefined {
  let rest = data;
  for (;;) {
    if (rest.startsWith(PEM_START.slice(1))) {
      rest = rest.slice(PEM_START.length - 1);
    } else {
      const at = rest.indexOf(PEM_START);
      if (at < 0) {
        return undefined;
      }
      rest = rest.slice(at + PEM_START.length);
    }
    let typeLine: string;
    [typeLine, rest] = getLine(rest);
    if (!typeLine.endsWith(PEM_END_OF_LINE)) {
      continue;
    }
    const type = typeLine.slice(0, typeLine.length - PEM_END_OF_LINE.length);
    const headers: { [key: string]: string } = {};
    let truncated = false;
    for (;;) {
      if (rest.length === 0) {
        truncated = true;
        break;
      }
      const [line, next] = getLine(rest);
      const colon = line.indexOf(':');
      if (colon < 0) {
        break;
      }
      headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      rest = next;
    }
    if (truncated) {
      return undefined;
    }
    let endIndex: number;
    let endTrailerIndex: number;
    if (Object.keys(headers).length === 0 && rest.startsWith(PEM_END.slice(1))) {
      endIndex = 0;
      endTrailerIndex = PEM_END.length - 1;
    } else {
      endIndex = rest.indexOf(PEM_END);
      endTrailerIndex = endIndex + PEM_END.length;
    }
    if (endIndex < 0) {
      continue;
    }
    const trailerLen = type.length + PEM_END_OF_LINE.length;
    const trailerAll = rest.slice(endTrailerIndex);
    if (trailerAll.length < trailerLen) {
      continue;
    }
    const trailer = trailerAll.slice(0, trailerLen);
    if (!trailer.startsWith(type) || !trailer.endsWith(PEM_END_OF_LINE) || getLine(trailerAll.slice(trailerLen))[0].length !== 0) {
      continue;
    }
    const bytes = decodeBase64(rest.slice(0, endIndex).replace(/[ \t]/g, ''));
    if (!bytes) {
      continue;
    }
    return { block: { type, headers, bytes }, rest: getLine(rest.slice(endIndex + PEM_END.length - 1))[1] };
  }
}

/**
 * Encodes one block as canonical PEM: no headers, 64-column base64, LF line ends.
 * @internal
 */
export function encodePem(type: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}
