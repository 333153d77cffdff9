import { rmSync } from 'fs';
import { RUN_TMP_ENV } from './global-setup';

/** Removes the run's temporary directory, with the shared fixtures and every test's files in it. */
export default function globalTeardown(): void {
  const dir = process.env[RUN_TMP_ENV];
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
  }
}
