import { rmSync } from 'fs';
import { FIXTURE_ENV } from './global-setup';

export default function globalTeardown(): void {
  const dir = process.env[FIXTURE_ENV];
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
  }
}
