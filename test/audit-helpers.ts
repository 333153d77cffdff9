import { readFileSync } from 'fs';
import * as path from 'path';
import { CliIo } from '../lib/cli/io';
import { main } from '../lib/cli/main';
import { parseManifests } from '../lib/manifests/load';
import { auditObjects, AuditOptions, AuditResult } from '../lib/rules';

export const ROOT = path.join(__dirname, '..');
export const FIXTURES = path.join(__dirname, 'fixtures', 'audit');
export const UPSTREAM = path.join(ROOT, '..', 'shared', 'reference', 'metrics-server-v0.8.1-components.yaml');
/** The clock the rule fixtures' certificates are dated against. */
export const FIXTURE_NOW = new Date('2026-06-01T00:00:00Z');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command in-process with captured streams. */
export async function runCli(argv: string[], opts: { stdin?: string; tty?: boolean; env?: { [k: string]: string } } = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s), isTTY: opts.tty },
    stderr: { write: (s: string) => err.push(s) },
    readStdin: async () => Buffer.from(opts.stdin ?? ''),
    env: opts.env ?? {},
    cwd: ROOT,
  };
  const code = await main(argv, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Audits a YAML text (as one file named `file`). */
export function auditText(text: string, options: AuditOptions = {}, file = 'input.yaml'): AuditResult {
  const { objects, errors } = parseManifests(text, file);
  if (errors.length) {
    throw new Error(`fixture does not parse: ${errors.map(e => e.message).join('; ')}`);
  }
  return auditObjects(objects, options);
}

export function auditFile(file: string, options: AuditOptions = {}): AuditResult {
  return auditText(readFileSync(file, 'utf8'), options, path.relative(ROOT, file));
}

/** `ruleId severity kind/name` per finding, for compact assertions. */
export function summary(r: AuditResult): string[] {
  return r.findings.map(f => `${f.ruleId} ${f.severity} ${f.object.kind}/${f.object.name}`);
}
