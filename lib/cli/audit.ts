import * as path from 'path';
import { loadManifests } from '../manifests/load';
import { auditObjects, parseSeverity, Severity, severityRank } from '../rules';
import { formatJson } from './format-json';
import { formatSarif } from './format-sarif';
import { formatText } from './format-text';
import { CommandSpec, isoDate, oneOf, parseCommandArgs, UsageError, wholeNumber } from './args';
import { CliIo, ExitCode, Subcommand } from './io';
import { COMMAND_SUMMARIES } from './commands';
import { AuditReport } from './report';
import { terminalText } from './terminal-text';

const HELP = `usage: secure-metrics-server audit [options] FILE|DIR|- ...

Finds metrics-server installs in Kubernetes manifests (multi-document YAML or
JSON, List objects; directories are read recursively for *.yaml, *.yml, *.json;
'-' reads stdin) and reports weak or broken TLS settings.

options:
  -f, --format text|json|sarif   output format (default: text)
      --fail-on SEVERITY|none    exit 1 when a finding reaches it: info, low,
                                 medium, high, critical (default: high)
      --ignore ID[,ID...]        do not report these rule ids (repeatable)
      --expiry-days N            report certificates expiring within N days (default: 30)
      --now ISO-DATE             the clock for expiry checks (default: now)
      --no-inline-ignores        do not honour the audit-ignore annotation (a CI gate over
                                 changes it does not trust)
      --color / --no-color       force colour on or off (default: on a terminal, unless NO_COLOR)
  -h, --help                     this text

Per object: annotate it with secure-metrics-server.io/audit-ignore: "SMS005,SMS040" (or "all").
Exit codes: 0 nothing at or above --fail-on; 1 a finding at or above it;
2 the audit is incomplete: an input could not be read or parsed (the rest is
still audited), a check failed, or bad usage.
Rules: docs/rules.md. Guide: docs/audit.md.
`;

interface AuditArgs {
  inputs: string[];
  format: 'text' | 'json' | 'sarif';
  failOn?: Severity;
  ignore: string[];
  expiryDays: number;
  now?: Date;
  colour?: boolean;
  inlineIgnores: boolean;
  help: boolean;
}

const SPEC: CommandSpec = {
  command: 'audit',
  positionals: true,
  options: {
    'format': { type: 'string', short: 'f' },
    'fail-on': { type: 'string' },
    'ignore': { type: 'string', multiple: true, allowEmpty: true },
    'expiry-days': { type: 'string' },
    'now': { type: 'string' },
    'color': { type: 'boolean', aliases: ['colour'], negatable: true },
    'no-inline-ignores': { type: 'boolean' },
  },
};

/** Parses audit's arguments; throws a usage message. @internal */
export function parseAuditArgs(argv: string[]): AuditArgs {
  const a = parseCommandArgs(SPEC, argv);
  const args: AuditArgs = { inputs: [...a.positionals], format: 'text', failOn: Severity.HIGH, ignore: [], expiryDays: 30, inlineIgnores: true, help: a.help };
  if (args.help) {
    return args;
  }
  const format = a.string('format');
  if (format !== undefined) {
    args.format = oneOf('--format', format, ['text', 'json', 'sarif'] as const, 'format');
  }
  const failOn = a.string('fail-on');
  if (failOn === 'none' || failOn === 'never') {
    args.failOn = undefined;
  } else if (failOn !== undefined) {
    const s = parseSeverity(failOn);
    if (!s) {
      throw new UsageError(`--fail-on: '${failOn}' is not a severity; use info, low, medium, high, critical or none`);
    }
    args.failOn = s;
  }
  args.ignore = a.strings('ignore').flatMap(v => v.split(',')).map(s => s.trim()).filter(Boolean);
  const expiryDays = a.string('expiry-days');
  if (expiryDays !== undefined) {
    args.expiryDays = wholeNumber('--expiry-days', expiryDays, 0, 'days');
  }
  const now = a.string('now');
  if (now !== undefined) {
    args.now = isoDate('--now', now);
  }
  args.colour = a.flag('color');
  args.inlineIgnores = a.flag('no-inline-ignores') !== true;
  return args;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let args: AuditArgs;
  try {
    args = parseAuditArgs(argv);
  } catch (e: any) {
    io.stderr.write(`secure-metrics-server audit: ${terminalText(e.message)}\n`);
    return ExitCode.INPUT_ERROR;
  }
  if (args.help) {
    io.stdout.write(HELP);
    return ExitCode.OK;
  }
  if (args.inputs.length === 0) {
    io.stderr.write('secure-metrics-server audit: no input; name files, directories or - for stdin\n' + HELP);
    return ExitCode.INPUT_ERROR;
  }
  const inputs = args.inputs.map(p => (p === '-' || path.isAbsolute(p) ? p : path.join(io.cwd, p)));
  const loaded = await loadManifests(inputs, io.readStdin);
  // report paths as the user wrote them
  const shown = new Map(inputs.map((p, i) => [p, args.inputs[i]]));
  const display = (file: string) => {
    for (const [abs, given] of shown) {
      if (file === abs) {
        return given;
      }
      if (file.startsWith(abs + path.sep)) {
        return path.join(given, file.slice(abs.length + 1));
      }
    }
    return file;
  };
  const objects = loaded.objects.map(o => ({ object: o.object, source: { ...o.source, file: display(o.source!.file!) } }));
  const errors = loaded.errors.map(e => ({ ...e, file: display(e.file) }));
  const result = auditObjects(objects, { now: args.now, expiryWarningDays: args.expiryDays, ignore: args.ignore, inlineIgnores: args.inlineIgnores });
  const failing = args.failOn !== undefined && result.findings.some(f => severityRank(f.severity) >= severityRank(args.failOn!));
  // a check that threw leaves the audit incomplete: never read as "no findings"
  const exitCode = errors.length || result.checkErrors.length ? ExitCode.INPUT_ERROR : failing ? ExitCode.FINDINGS : ExitCode.OK;
  const report: AuditReport = { result, errors, files: loaded.files, objectCount: objects.length, failOn: args.failOn, exitCode };
  if (args.format === 'json') {
    io.stdout.write(formatJson(report));
  } else if (args.format === 'sarif') {
    io.stdout.write(formatSarif(report, io.cwd));
  } else {
    const colour = args.colour ?? (!!io.stdout.isTTY && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb');
    io.stdout.write(formatText(report, colour));
  }
  for (const e of args.format === 'text' ? [] : result.checkErrors) {
    io.stderr.write(`secure-metrics-server audit: internal error in a check (please report it; the other checks ran): ${terminalText(e)}\n`);
  }
  if (args.format !== 'text') {
    for (const e of errors) {
      io.stderr.write(`secure-metrics-server audit: ${terminalText(e.file)}${e.documentIndex !== undefined ? `, doc ${e.documentIndex}` : ''}${e.line !== undefined ? `, line ${e.line}` : ''}: ${terminalText(e.message)}\n`);
    }
  }
  return exitCode;
}

/** `secure-metrics-server audit`. */
export const auditCommand: Subcommand = {
  summary: COMMAND_SUMMARIES.audit,
  run,
};
