import { runAuditBenchmark } from '../bench/audit';

// The audit benchmark in a tiny configuration: it builds the bundle, generates
// a manifest, runs the command and reads its peak RSS. Timings are not asserted.
test('the audit benchmark runs and every Secret it generates is checked', () => {
  const r = runAuditBenchmark({ reps: 1, mb: 1, installs: 3, minDocs: 300, parsers: false });
  expect(r.input.installs).toBe(3);
  expect(r.input.documents).toBeGreaterThanOrEqual(300);
  expect(r.input.bytes).toBeGreaterThanOrEqual(1e6);
  expect(r.runs).toHaveLength(1);
  expect(r.runs[0].ms).toBeGreaterThan(0);
  expect(r.maxRssMb).toBeGreaterThan(10);
  expect(r.reported).toEqual({ installs: 3, keyInManifest: 3, secretAbsent: 0, exitCode: 0 });
}, 180_000);
