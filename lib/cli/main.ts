import { COMMAND_SUMMARIES, CommandName } from './commands';
import { CliIo, ExitCode, processIo, Subcommand } from './io';
import { toolVersion } from './report';
import { terminalText } from './terminal-text';

/**
 * Loads a command's module only when it runs. The call is indirect on purpose:
 * esbuild does not follow it, so each command is its own bundle
 * (build/cli/<name>.js, see `build:cli` in package.json) and `audit` never
 * parses `doctor`'s Kubernetes client. `--help` loads none of them: the
 * summaries come from ./commands.
 */
const load: (id: string) => unknown = require;

/**
 * The subcommand table. Adding a command is its name and summary in
 * ./commands.ts, one line here,
 * `name: () => (load('./<name>') as typeof import('./<name>')).<name>Command`,
 * where the command is a `Subcommand` from its own file lib/cli/<name>.ts
 * (with `summary: COMMAND_SUMMARIES.<name>`), plus that file in the entry
 * points of `build:cli` in package.json.
 */
const COMMANDS: { readonly [name in CommandName]: () => Subcommand } = {
  audit: () => (load('./audit') as typeof import('./audit')).auditCommand,
  ca: () => (load('./ca') as typeof import('./ca')).caCommand,
  doctor: () => (load('./doctor') as typeof import('./doctor')).doctorCommand,
  store: () => (load('./store') as typeof import('./store')).storeCommand,
};

function isCommand(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

function usage(): string {
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map(n => n.length));
  return [
    'usage: secure-metrics-server <command> [options]',
    '',
    'commands:',
    ...names.map(n => `  ${n.padEnd(width)}  ${COMMAND_SUMMARIES[n]}`),
    '',
    'run \'secure-metrics-server <command> --help\' for its options;',
    '\'secure-metrics-server --version\' prints the version',
    '',
  ].join('\n');
}

/** Dispatches `argv` (without node and the script) to a subcommand; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? ExitCode.INPUT_ERROR : ExitCode.OK;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout.write(`secure-metrics-server ${toolVersion()}\n`);
    return ExitCode.OK;
  }
  const command = isCommand(name) ? COMMANDS[name]() : undefined;
  if (!command) {
    io.stderr.write(`secure-metrics-server: unknown command '${terminalText(name)}'; one of: ${Object.keys(COMMANDS).join(', ')}\n`);
    return ExitCode.INPUT_ERROR;
  }
  return command.run(rest, io);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => {
    process.exitCode = code;
  }, (e: unknown) => {
    process.stderr.write(`secure-metrics-server: internal error: ${terminalText(e instanceof Error ? e.stack ?? e.message : String(e), { keepNewlines: true })}\n`);
    process.exitCode = 70;
  });
}
