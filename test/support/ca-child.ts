/**
 * `secure-metrics-server ca ...` in a process of its own, for the crash tests
 * of the CA rotation (test/rotation.proc.test.ts): the arguments are the command's.
 */
import { caCommand } from '../../lib/cli/ca';
import { processIo } from '../../lib/cli/io';

caCommand.run(process.argv.slice(2), processIo()).then(code => {
  process.exitCode = code;
}, (e: unknown) => {
  process.stderr.write(`internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 70;
});
