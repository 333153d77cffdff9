import * as path from 'path';
import { loadManifests } from '../manifests/load';
import { auditObjects, parseSeverity, Severity, severityRank } from '../rules';
import { formatJson } from './format-json';
import { formatSarif } from './format-sarif';
import { formatText } from './format-text';
import { CliIo, ExitCode, Subcommand } from './io';
import { AuditReport } from './report';

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
      --color / --no-color       force colour on or off (default: on a terminal, unless NO_COLOR)
  -h, --help                     this text

Per object: annotate it with secure-metrics-server.io/audit-ignore: "SMS005,SMS040" (or "all").
Exit codes: 0 nothing at or above --fail-on; 1 a finding at or above it;
2 an input could not be read or parsed (the rest is still audited), or bad usage.
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
  help: boolean;
}

/** Parses audit's arguments; throws a usage message. @internal */
export function parseAuditArgs(argv: string[]): AuditArgs {
  const args: AuditArgs = { inputs: [], format: 'text', failOn: Severity.HIGH, ignore: [], expiryDays: 30, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (eq > 0) {
        return raw.slice(eq + 1);
      }
      if (i + 1 >= argv.length) {
        throw new Error(`${flag} needs a value`);
      }
      return argv[++i];
    };
    switch (flag) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '-f':
      case '--format': {
        const v = value();
        if (v !== 'text' && v !== 'json' && v !== 'sarif') {
          throw new Error(`--format: '${v}' is not a format; use text, json or sarif`);
        }
        args.format = v;
        break;
      }
      case '--fail-on': {
        const v = value();
        if (v === 'none' || v === 'never') {
          args.failOn = undefined;
        } else {
          const s = parseSeverity(v);
          if (!s) {
            throw new Error(`--fail-on: '${v}' is not a severity; use info, low, medium, high, critical or none`);
          }
          args.failOn = s;
        }
        break;
      }
      case '--ignore':
        args.ignore.push(...value().split(',').map(s => s.trim()).filter(Boolean));
        break;
      case '--expiry-days': {
        const v = value();
        if (!/^\d+$/.test(v)) {
          throw new Error(`--expiry-days: '${v}' is not a whole number of days`);
        }
        args.expiryDays = Number(v);
        break;
      }
      case '--now': {
        const v = value();
        const d = new Date(v);
        if (isNaN(d.getTime())) {
          throw new Error(`--now: '${v}' is not a date; use ISO 8601, e.g. 2026-01-31T00:00:00Z`);
        }
        args.now = d;
        break;
      }
      case '--color':
      case '--colour':
        args.colour = true;
        break;
      case '--no-color':
      case '--no-colour':
        args.colour = false;
        break;
      default:
        if (raw.startsWith('-') && raw !== '-') {
          throw new Error(`unknown option '${raw}'; see 'secure-metrics-server audit --help'`);
        }
        args.inputs.push(raw);
    }
  }
  return args;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let args: AuditArgs;
  try {
    args = parseAuditArgs(argv);
  } catch (e: any) {
    io.stderr.write(`secure-metrics-server audit: ${e.message}\n`);
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
  const result = auditObjects(objects, { now: args.now, expiryWarningDays: args.expiryDays, ignore: args.ignore });
  const failing = args.failOn !== undefined && result.findings.some(f => severityRank(f.severity) >= severityRank(args.failOn!));
  const exitCode = errors.length ? ExitCode.INPUT_ERROR : failing ? ExitCode.FINDINGS : ExitCode.OK;
  const report: AuditReport = { result, errors, files: loaded.files, objectCount: objects.length, failOn: args.failOn, exitCode };
  if (args.format === 'json') {
    io.stdout.write(formatJson(report));
  } else if (args.format === 'sarif') {
    io.stdout.write(formatSarif(report, io.cwd));
  } else {
    const colour = args.colour ?? (!!io.stdout.isTTY && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb');
    io.stdout.write(formatText(report, colour));
  }
  for (const e of result.checkErrors) {
    io.stderr.write(`secure-metrics-server audit: internal error in a check (please report it; the other checks ran): ${e}\n`);
  }
  if (args.format !== 'text') {
    for (const e of errors) {
      io.stderr.write(`secure-metrics-server audit: ${e.file}${e.documentIndex !== undefined ? `, doc ${e.documentIndex}` : ''}${e.line !== undefined ? `, line ${e.line}` : ''}: ${e.message}\n`);
    }
  }
  return exitCode;
}

/** `secure-metrics-server audit`. */
export const auditCommand: Subcommand = {
  summary: 'find weak or broken metrics-server TLS settings in manifests (files, dirs, -)',
  run,
};
