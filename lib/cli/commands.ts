/**
 * The subcommands and their one-line summaries: the one source of both
 * `secure-metrics-server --help` (lib/cli/main.ts, which must print them
 * without loading a command's bundle) and each command's `Subcommand.summary`.
 * It imports nothing, so every bundle that includes it stays small.
 */
export const COMMAND_SUMMARIES = {
  audit: 'find weak or broken metrics-server TLS settings in manifests (files, dirs, -)',
  ca: 'the dedicated CA: status and expiry (--fail-within for CI), staged rotation without downtime, pruning retired CAs',
  doctor: 'read a live cluster and explain, hop by hop, why kubectl top fails (read-only)',
  store: 'create, import and re-key a certificate store shared through git (SOPS/age)',
} as const;

/** The name of a subcommand. */
export type CommandName = keyof typeof COMMAND_SUMMARIES;
