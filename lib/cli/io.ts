/**
 * What a subcommand may touch of the process: streams, environment, working
 * directory. Tests pass their own; the bin passes the real process.
 */
export interface CliIo {
  readonly stdout: { write(s: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; readonly isTTY?: boolean };
  /** read all of stdin (for `-`) */
  readStdin(): Promise<Buffer>;
  readonly env: { [k: string]: string | undefined };
  readonly cwd: string;
}

/** The real process as a `CliIo`. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: () => new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      process.stdin.on('data', (c: Buffer) => chunks.push(c));
      process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
      process.stdin.on('error', reject);
    }),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A subcommand: `run` returns the exit code. */
export interface Subcommand {
  /** one line for `--help` */
  readonly summary: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Exit codes every subcommand uses. */
export class ExitCode {
  /** nothing reached --fail-on */
  public static readonly OK = 0;
  /** a finding at or above --fail-on */
  public static readonly FINDINGS = 1;
  /** unreadable input, parse error or bad usage */
  public static readonly INPUT_ERROR = 2;
}
