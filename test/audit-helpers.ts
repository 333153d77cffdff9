import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { CliIo } from '../lib/cli/io';
import { FIXTURE_ENV } from './global-setup';
import { main } from '../lib/cli/main';
import { parseManifests } from '../lib/manifests/load';
import { auditObjects, AuditOptions, AuditResult } from '../lib/rules';

export const ROOT = path.join(__dirname, '..');
/** The committed audit fixtures: the seed article's states and the SARIF schema. */
export const FIXTURES = path.join(__dirname, 'fixtures', 'audit');
/**
 * The generated ones (test/support/audit-fixtures.ts, run by the global setup: they embed
 * private keys, which git must not keep): `RULES/<id>-{trigger,clean}.yaml` and the PKI.
 */
export const GENERATED_AUDIT_FIXTURES = path.join(process.env[FIXTURE_ENV] ?? '', 'audit');
export const RULES = path.join(GENERATED_AUDIT_FIXTURES, 'rules');
export const PKI = path.join(GENERATED_AUDIT_FIXTURES, 'pki');
export const UPSTREAM = path.join(ROOT, '..', 'shared', 'reference', 'metrics-server-v0.8.1-components.yaml');
/**
 * Upstream's release manifest is reference data beside the repository (`../shared/reference`, as
 * on the development machines and in CI) and is never copied into it. The tests that read it are
 * skipped where it is missing, except under CI=true, where it must be there.
 */
export const HAVE_UPSTREAM = existsSync(UPSTREAM) || process.env.CI === 'true';
export const testWithUpstream = HAVE_UPSTREAM ? test : test.skip;
export const describeWithUpstream = HAVE_UPSTREAM ? describe : describe.skip;
/** Upstream's manifest ('' where it is missing, and the tests that use it are skipped). */
export function upstreamText(): string {
  return HAVE_UPSTREAM ? readFileSync(UPSTREAM, 'utf8') : '';
}
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
