import { parseArgs, ParseArgsConfig } from 'node:util';

/**
 * The one argument parser of the subcommands: Node's `util.parseArgs` (stable
 * since Node 20, nothing to install) does the tokenizing (`--flag value`,
 * `--flag=value`, `-f value`, `-fvalue`, short groups `-hf json`, a lone `-` as
 * a positional, `--` ending the options), and its strict mode decides what is
 * refused. This module adds what `parseArgs` cannot express, and the wording:
 *
 * - Error text. Strict mode throws errors that carry only a `code` and Node's
 *   English sentence (no field naming the option). When it throws, the
 *   arguments are tokenized again with `strict: false` to find the offending
 *   token and say it in the command's words (`--format needs a value`,
 *   `unknown option '--x'; see 'secure-metrics-server audit --help'`). Should a
 *   future Node refuse something the scan does not recognise, Node's own
 *   sentence is shown.
 * - Long aliases (`--colour` for `--color`): `parseArgs` has only one-letter
 *   `short` aliases. Each alias is declared as an option of its own and folded
 *   onto its canonical name in argument order.
 * - Negation (`--no-color`): `allowNegative` exists only from Node 20.16 and the
 *   package supports Node 20.0, so `--no-NAME` is declared explicitly. For a
 *   `negatable` flag the last of `--NAME` / `--no-NAME` wins, read from the
 *   tokens (its `values` cannot tell which came last).
 * - Empty values (`--store=`, `--kubeconfig "$UNSET"`): accepted by
 *   `parseArgs`; refused here unless the option says `allowEmpty`, because an
 *   empty path silently meant "the default" before.
 *
 * Repeated single-valued options: the last one wins (as `parseArgs`). Values
 * that start with '-' must be attached (`--now=-1`); a separate one is taken as
 * a forgotten value, as `parseArgs` strict mode does. `-h`/`--help` is added to
 * every command here. Per-command value checks (formats, severities,
 * durations) stay in each command, using the shared checks below.
 */

/** One option of a command. @internal */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** a one-letter alias, e.g. `f` for `-f` */
  readonly short?: string;
  /** kept every time it is given (otherwise the last one wins) */
  readonly multiple?: boolean;
  /** other long names of the same option, e.g. `colour` for `color` */
  readonly aliases?: readonly string[];
  /** boolean only: `--no-NAME` (and `--no-ALIAS`) set it to false */
  readonly negatable?: boolean;
  /** string only: accept `--NAME=` (an empty value) */
  readonly allowEmpty?: boolean;
}

/** What a command accepts. @internal */
export interface CommandSpec {
  /** the subcommand, for messages: `audit` */
  readonly command: string;
  readonly options: { readonly [name: string]: OptionSpec };
  /** takes positional arguments (files, an action) */
  readonly positionals: boolean;
}

/** Bad usage; the message is for the user as it is. @internal */
export class UsageError extends Error {}

/** The parsed command line, by canonical option name. @internal */
export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, string | boolean | string[]>,
    /** the positional arguments, in order (after `--` too) */
    public readonly positionals: readonly string[],
  ) {}

  /** `-h` / `--help` was given */
  public get help(): boolean {
    return this.values.get('help') === true;
  }

  /** the last value of a string option, undefined when not given */
  public string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  /** every value of a `multiple` option, in order */
  public strings(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? [...v] : [];
  }

  /** a boolean option: true, false (negated) or undefined (not given) */
  public flag(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }
}

type NodeOptions = NonNullable<ParseArgsConfig['options']>;

const HELP: OptionSpec = { type: 'boolean', short: 'h' };

/** How every long name given to parseArgs maps back: canonical name, and the value a bare boolean means. */
interface Target { readonly name: string; readonly negated: boolean; readonly spec: OptionSpec }

function targets(spec: CommandSpec): Map<string, Target> {
  const all = new Map<string, Target>();
  for (const [name, option] of Object.entries({ help: HELP, ...spec.options })) {
    for (const long of [name, ...(option.aliases ?? [])]) {
      all.set(long, { name, negated: false, spec: option });
      if (option.negatable) {
        all.set(`no-${long}`, { name, negated: true, spec: option });
      }
    }
  }
  return all;
}

function nodeOptions(all: Map<string, Target>): NodeOptions {
  const options: NodeOptions = {};
  for (const [long, t] of all) {
    options[long] = {
      type: t.negated ? 'boolean' : t.spec.type,
      ...(long === t.name && t.spec.short ? { short: t.spec.short } : {}),
      ...(long === t.name && !t.negated && t.spec.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/** `secure-metrics-server audit --help`, the pointer every usage error ends with */
function seeHelp(command: string): string {
  return `see 'secure-metrics-server ${command} --help'`;
}

/** Finds the argument strict mode refused and says what is wrong with it, in our words. */
function explain(spec: CommandSpec, argv: string[], all: Map<string, Target>, options: NodeOptions, nodeMessage: string): string {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional') {
      if (!spec.positionals) {
        return `unexpected argument '${t.value}'; 'secure-metrics-server ${spec.command}' takes options only, ${seeHelp(spec.command)}`;
      }
      continue;
    }
    if (t.kind !== 'option') {
      continue;
    }
    const target = all.get(t.name);
    if (!target) {
      return `unknown option '${t.rawName}'; ${seeHelp(spec.command)}`;
    }
    const type = options[t.name].type;
    if (type === 'boolean' && t.value !== undefined) {
      return `${t.rawName} takes no value; write ${t.rawName} alone`;
    }
    if (type === 'string' && t.value === undefined) {
      return `${t.rawName} needs a value`;
    }
    if (type === 'string' && !t.inlineValue && t.value!.length > 1 && t.value!.startsWith('-')) {
      return `${t.rawName} needs a value, not the option-like '${t.value}'; write --${t.name}=${t.value} if that is the value`;
    }
  }
  return `${nodeMessage.split('\n').join(' ')}; ${seeHelp(spec.command)}`;
}

/** Parses `argv` (after the subcommand's name) by `spec`; throws a `UsageError`. @internal */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const all = targets(spec);
  const options = nodeOptions(all);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: spec.positionals, tokens: true });
  } catch (e: unknown) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(explain(spec, argv, all, options, (e as Error).message));
    }
    throw e;
  }
  const values = new Map<string, string | boolean | string[]>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') {
      continue;
    }
    const target = all.get(t.name)!;
    if (target.spec.type === 'boolean') {
      values.set(target.name, !target.negated);
      continue;
    }
    const value = t.value!;
    if (value === '' && !target.spec.allowEmpty) {
      throw new UsageError(`${t.rawName}: the value is empty; give one, or leave ${t.rawName} out for the default`);
    }
    if (target.spec.multiple) {
      values.set(target.name, [...((values.get(target.name) as string[] | undefined) ?? []), value]);
    } else {
      values.set(target.name, value);
    }
  }
  return new ParsedArgs(values, parsed.positionals);
}

/** The value if it is one of `choices`; else a usage error that lists them. @internal */
export function oneOf<T extends string>(flag: string, value: string, choices: readonly T[], what: string): T {
  if ((choices as readonly string[]).includes(value)) {
    return value as T;
  }
  const list = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices[0];
  throw new UsageError(`${flag}: '${value}' is not a ${what}; use ${list}`);
}

/** A whole number (digits only) of at least `min`; `unit` names it in the message. @internal */
export function wholeNumber(flag: string, value: string, min: number, unit?: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag}: '${value}' is not a whole number${unit ? ` of ${unit}` : ''}${min > 0 ? ` of at least ${min}` : ''}`);
  }
  return n;
}

/** A date `new Date()` reads; the usage error asks for ISO 8601. @internal */
export function isoDate(flag: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(`${flag}: '${value}' is not a date; use ISO 8601, e.g. 2026-01-31T00:00:00Z`);
  }
  return d;
}
