/**
 * Reads one user-named PEM file as the construct does (`Pem._read`), in a
 * process of its own, so that a test can bound a read that would block the
 * thread (a FIFO with no writer). Prints the error message, or 'read N chars'.
 *
 * argv: FILE [key]   'key': read it as a private key file
 */
import { Pem } from '../../lib';

try {
  const text = Pem.fromFile(process.argv[2])._read('servingTls.caKey', process.argv[3] === 'key');
  process.stdout.write(`read ${text.length} chars\n`);
} catch (e: any) {
  process.stdout.write(`${e.message}\n`);
}
