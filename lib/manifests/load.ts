import { promises as fs } from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { readManifestFile } from '../k8s/bounded-read';
import { KubeObject, SourcedObject } from '../rules/types';

/** A file or document that could not be read or parsed; the rest of the input is still audited. */
export interface InputError {
  readonly file: string;
  /** 0-based document index, when the error is in one document */
  readonly documentIndex?: number;
  /** 1-based line in the file */
  readonly line?: number;
  readonly message: string;
}

export interface LoadResult {
  readonly objects: SourcedObject[];
  readonly errors: InputError[];
  /** the files read, in order */
  readonly files: string[];
  readonly bytes: number;
}

export interface LoadOptions {
  /** refuse a single file larger than this (V8 strings stop a little above) @default 512 MiB */
  readonly maxFileBytes?: number;
  /** refuse a document whose aliases expand to more nodes than this (YAML bomb) @default 1,000,000 */
  readonly maxExpandedNodes?: number;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

/**
 * A file's bytes as text, refusing bytes that are not UTF-8 (YAML and JSON
 * manifests are UTF-8; kubectl refuses the rest) instead of replacing them
 * with U+FFFD, which would audit something else than what is applied.
 * @internal
 */
export function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // the first offending byte, for the message: where the lenient decoding first puts a U+FFFD the bytes do not hold
    const lenient = bytes.toString('utf8');
    let offset = 0;
    for (let i = lenient.indexOf('\ufffd'); i >= 0; i = lenient.indexOf('\ufffd', i + 1)) {
      offset = Buffer.byteLength(lenient.slice(0, i));
      if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) {
        break;
      }
    }
    const line = bytes.subarray(0, offset).toString('latin1').split('\n').length;
    throw new Error(`it is not valid UTF-8 (byte ${offset}, line ${line})`);
  }
}

/**
 * Scalars as Kubernetes reads them (sigs.k8s.io/yaml, go-yaml v2, then JSON):
 * YAML 1.1 booleans (yes/no/on/off too), null, ints, floats and merge keys
 * (`<<`); timestamps stay strings. js-yaml's default schema would turn
 * timestamps into Date objects and take `yes` for a string; this one is also
 * about a third faster (no timestamp, binary, omap or set resolution).
 */
const BOOL_1_1 = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/.test(data),
  construct: (data: string) => /^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(data),
  predicate: (v: unknown) => typeof v === 'boolean',
  represent: { lowercase: (v: object) => (v ? 'true' : 'false') },
  defaultStyle: 'lowercase',
});
// js-yaml 4 exports its built-in types as `types`; @types/js-yaml does not declare it
const TYPES = (yaml as unknown as { types: { [name: string]: yaml.Type } }).types;
const KUBERNETES_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({
  implicit: [TYPES.null, BOOL_1_1, TYPES.int, TYPES.float, TYPES.merge],
});
const DEFAULT_MAX_FILE = 512 * 1024 * 1024;
const DEFAULT_MAX_NODES = 1_000_000;

/**
 * Splits a YAML stream into documents at `---` lines (and `...` end markers),
 * keeping each document's 1-based start line. A document that fails to parse
 * costs only itself.
 * @internal
 */
export function splitDocuments(text: string): { text: string; line: number }[] {
  const docs: { text: string; line: number }[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  for (let pos = 0; pos < text.length; line++) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl + 1;
    const c = text.charCodeAt(pos);
    // a marker is `---` or `...` at column 0, alone or followed by a blank
    if ((c === 45 || c === 46) && text.startsWith(c === 45 ? '---' : '...', pos)) {
      const after = text.charCodeAt(pos + 3);
      if (pos + 3 >= text.length || after === 32 || after === 9 || after === 10 || after === 13) {
        docs.push({ text: text.slice(start, pos), line: startLine });
        const rest = c === 45 ? text.slice(pos + 3, end).trim() : '';
        // `--- |` or `--- !tag {..}` keeps its content on the marker line
        start = rest && !rest.startsWith('#') ? pos + 3 : end;
        startLine = rest && !rest.startsWith('#') ? line : line + 1;
      }
    }
    pos = end;
  }
  docs.push({ text: text.slice(start), line: startLine });
  return docs;
}

function isBlank(doc: string): boolean {
  return !/^[ \t]*[^\s#]/m.test(doc);
}

/**
 * Counts the nodes a value has once aliases are expanded, stopping at `limit`.
 * Aliases share objects, so a small text can expand to billions of nodes
 * (the "billion laughs"), and a self-referencing anchor to a cycle.
 */
function expandedSize(value: unknown, limit: number): number {
  const memo = new Map<object, number>();
  const onStack = new Set<object>();
  const walk = (v: unknown): number => {
    if (typeof v !== 'object' || v === null) {
      return 1;
    }
    const known = memo.get(v);
    if (known !== undefined) {
      return known;
    }
    if (onStack.has(v)) {
      return Infinity;
    }
    onStack.add(v);
    let n = 1;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      n += walk(child);
      if (n > limit) {
        break;
      }
    }
    onStack.delete(v);
    memo.set(v, n);
    return n;
  };
  return walk(value);
}

function expandLists(o: KubeObject): KubeObject[] {
  if (typeof o.kind === 'string' && /List$/.test(o.kind) && Array.isArray(o.items)) {
    return o.items.filter((i: unknown) => typeof i === 'object' && i !== null && !Array.isArray(i)).flatMap((i: KubeObject) => expandLists(i));
  }
  return [o];
}

/**
 * Parses one file's text (multi-document YAML, or JSON) into objects with
 * their file, document index and line. Never throws.
 */
export function parseManifests(text: string, file: string, options: LoadOptions = {}): { objects: SourcedObject[]; errors: InputError[] } {
  const objects: SourcedObject[] = [];
  const errors: InputError[] = [];
  const maxNodes = options.maxExpandedNodes ?? DEFAULT_MAX_NODES;
  const push = (value: unknown, documentIndex: number, line: number) => {
    if (value === null || value === undefined) {
      return;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      // a JSON array of objects is accepted as a list of manifests
      if (Array.isArray(value)) {
        value.forEach(v => push(v, documentIndex, line));
        return;
      }
      errors.push({ file, documentIndex, line, message: `document ${documentIndex} is a ${typeof value}, not a Kubernetes object` });
      return;
    }
    for (const o of expandLists(value as KubeObject)) {
      objects.push({ object: o, source: { file, documentIndex, line } });
    }
  };
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      push(JSON.parse(text), 0, 1 + (text.length - trimmed.length ? text.slice(0, text.length - trimmed.length).split('\n').length - 1 : 0));
      return { objects, errors };
    } catch {
      // not JSON after all (YAML flow style, or broken): the YAML path reports it with a line
    }
  }
  const docs = splitDocuments(text);
  let index = 0;
  for (const doc of docs) {
    if (isBlank(doc.text)) {
      // an empty document (a leading `---`, a trailing one) is not counted, as kubectl does not
      continue;
    }
    const documentIndex = index++;
    let value: unknown;
    try {
      value = yaml.load(doc.text, { filename: file, schema: KUBERNETES_SCHEMA });
    } catch (e: any) {
      const mark = e && e.mark;
      const line = mark && typeof mark.line === 'number' ? doc.line + mark.line : doc.line;
      const reason = String(e && e.reason ? e.reason : e && e.message ? e.message : e).split('\n')[0];
      errors.push({ file, documentIndex, line, message: `document ${documentIndex} does not parse: ${reason}` });
      continue;
    }
    if (/(^|[\s[{,:-])\*[^\s,\]}]/.test(doc.text) && expandedSize(value, maxNodes) > maxNodes) {
      errors.push({ file, documentIndex, line: doc.line, message: `document ${documentIndex} expands its YAML aliases to more than ${maxNodes} nodes (an alias bomb or a cycle); refused` });
      continue;
    }
    push(value, documentIndex, doc.line);
  }
  return { objects, errors };
}

async function listFiles(p: string, out: string[], errors: InputError[]): Promise<void> {
  let st;
  try {
    st = await fs.stat(p);
  } catch (e: any) {
    errors.push({ file: p, message: `cannot read ${p}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}` });
    return;
  }
  if (st.isDirectory()) {
    let entries: string[];
    try {
      entries = (await fs.readdir(p)).sort();
    } catch (e: any) {
      errors.push({ file: p, message: `cannot read directory ${p}: ${e.message}` });
      return;
    }
    for (const e of entries) {
      const child = path.join(p, e);
      let cst;
      try {
        cst = await fs.lstat(child);
      } catch {
        continue;
      }
      if (cst.isDirectory() && !e.startsWith('.')) {
        await listFiles(child, out, errors);
      } else if ((cst.isFile() || cst.isSymbolicLink()) && MANIFEST_EXT.test(e)) {
        out.push(child);
      }
    }
    return;
  }
  out.push(p);
}

/**
 * Reads files, directories (recursively: *.yaml, *.yml, *.json) and `-`
 * (stdin). Never throws: unreadable input becomes an `InputError`.
 */
export async function loadManifests(inputs: string[], readStdin: (limit?: number) => Promise<Buffer>, options: LoadOptions = {}): Promise<LoadResult> {
  const objects: SourcedObject[] = [];
  const errors: InputError[] = [];
  const files: string[] = [];
  let bytes = 0;
  const maxFile = options.maxFileBytes ?? DEFAULT_MAX_FILE;
  // stdin can be read once: `-` named twice reads the same text
  let stdin: Promise<Buffer> | undefined;
  const readStdinOnce = () => (stdin ??= readStdin(maxFile));
  for (const input of inputs) {
    const list: string[] = [];
    if (input === '-') {
      list.push('-');
    } else {
      await listFiles(input, list, errors);
    }
    for (const file of list) {
      let text: string;
      try {
        if (file === '-') {
          const buf = await readStdinOnce();
          if (buf.length > maxFile) {
            throw new Error(`it is more than the limit of ${maxFile} bytes (reading stopped there)`);
          }
          text = decodeUtf8(buf);
        } else {
          // bounded whatever the path is: a FIFO, /dev/zero, a file that grows while it is read
          const buf = await readManifestFile(file, maxFile);
          if (buf.length > maxFile) {
            throw new Error(`it is more than the limit of ${maxFile} bytes (reading stopped there)`);
          }
          text = decodeUtf8(buf);
        }
      } catch (e: any) {
        errors.push({ file, message: `cannot read ${file === '-' ? 'stdin' : file}: ${e.code === 'EISDIR' ? 'is a directory' : e.message}` });
        continue;
      }
      files.push(file);
      bytes += Buffer.byteLength(text);
      const r = parseManifests(text, file, options);
      for (const o of r.objects) {
        objects.push(o);
      }
      for (const e of r.errors) {
        errors.push(e);
      }
    }
  }
  return { objects, errors, files, bytes };
}
