import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'fs';
import * as path from 'path';

/**
 * The test/go-verify binary, built once and cached under
 * node_modules/.cache/go-verify, keyed by the SHA-256 of its source: later
 * runs (and other test files) reuse it without calling `go build`.
 */
export function goVerifyBinary(): string {
  const src = path.join(__dirname, 'go-verify');
  const hash = createHash('sha256');
  for (const f of readdirSync(src).sort()) {
    hash.update(f).update(readFileSync(path.join(src, f)));
  }
  const dir = path.join(__dirname, '..', 'node_modules', '.cache', 'go-verify');
  const bin = path.join(dir, `go-verify-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    // built beside and renamed, so that a test file running in parallel never runs a half-written binary
    const partial = `${bin}.${process.pid}`;
    execFileSync('go', ['build', '-o', partial, '.'], { cwd: src, stdio: 'pipe' });
    renameSync(partial, bin);
  }
  return bin;
}
