import { readLimited } from '../k8s/bounded-read';
/**
 * What a subcommand may touch of the process: streams, environment, working
 * directory. Tests pass their own; the bin passes the real process.
 */
export interface CliIo {
  readonly stdout: { write(s: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; readonly isTTY?: boolean };
  /**
   * read stdin (for `-`), at most `limit` bytes: reading stops at `limit + 1`
   * bytes (so that the caller sees it is over), without buffering the rest
   */
  readStdin(limit?: number): Promise<Buffer>;
  readonly env: { [k: string]: string | undefined };
  readonly cwd: string;
}

/** The real process as a `CliIo`. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin: (limit?: number) => readLimited(process.stdin, limit),
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

/** Bounded stream reads live in lib/k8s/bounded-read.ts (every layer reads bounded). */
export { readLimited };
