// API.md is the reference jsii-docgen generates from the TSDoc in the .jsii
// assembly: regenerated here from the shared jsii build (test/pack.ts) and
// compared with the committed file. When it fails: npm run build && npm run docgen.
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { tmp } from './helpers';
import { packed, ROOT } from './pack';

test('API.md is what jsii-docgen makes of the current sources', () => {
  const build = packed();
  expect(build.jsiiStatus).toBe(0);
  const out = path.join(tmp('sms-docgen-'), 'API.md');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'jsii-docgen', 'bin', 'jsii-docgen'), '-o', out], {
    cwd: build.dir, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const generated = readFileSync(out, 'utf8');
  expect(generated).toContain('### SecureMetricsServer ');
  // compared line by line, so that a failure shows the stale lines
  expect(readFileSync(path.join(ROOT, 'API.md'), 'utf8').split('\n')).toEqual(generated.split('\n'));
}, 300_000);
