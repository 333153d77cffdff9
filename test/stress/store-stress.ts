/**
 * `npm run test:stress`: N synths in separate processes at once on one
 * store, R rounds, each round on an empty store and then on the warm store.
 * Each round checks: every synth succeeded, the outputs are byte-identical,
 * the caBundle is the store's CA, `openssl verify` accepts the store's
 * tls.crt against its ca.crt, and the warm synths wrote nothing.
 *
 * STRESS_PROCESSES (default 8) and STRESS_ROUNDS (default 10) change the size.
 */
import * as os from 'os';
import * as path from 'path';
import { mkdtempSync, rmSync } from 'fs';
import { checkRound, spawnMany, treeState } from '../support/proc';

async function main(): Promise<number> {
  const processes = Number(process.env.STRESS_PROCESSES ?? 8);
  const rounds = Number(process.env.STRESS_ROUNDS ?? 10);
  let failures = 0;
  const started = Date.now();
  for (let round = 1; round <= rounds; round++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sms-stress-'));
    const storeDir = path.join(dir, 'pki');
    const t0 = Date.now();
    const cold = await spawnMany(processes, { STORE_DIR: storeDir });
    const coldProblems = checkRound(cold, storeDir);
    const before = coldProblems.length ? '' : treeState(storeDir);
    const t1 = Date.now();
    const warm = await spawnMany(processes, { STORE_DIR: storeDir });
    const warmProblems = checkRound(warm, storeDir);
    if (!coldProblems.length && !warmProblems.length) {
      if (warm[0].stdout !== cold[0].stdout) {
        warmProblems.push('the warm output differs from the cold one');
      }
      if (treeState(storeDir) !== before) {
        warmProblems.push('the warm synths changed the store');
      }
    }
    const t2 = Date.now();
    const problems = [...coldProblems.map(p => `empty store: ${p}`), ...warmProblems.map(p => `warm store: ${p}`)];
    failures += problems.length ? 1 : 0;
    process.stdout.write(`round ${round}/${rounds}: ${processes} on an empty store ${t1 - t0} ms, ${processes} on the warm store ${t2 - t1} ms: ${problems.length ? `FAILED\n  ${problems.join('\n  ')}` : 'ok'}\n`);
    if (!problems.length) {
      rmSync(dir, { recursive: true, force: true });
    } else {
      process.stdout.write(`  store kept for inspection: ${storeDir}\n`);
    }
  }
  process.stdout.write(`${rounds - failures}/${rounds} rounds passed (${processes} processes each, ${Math.round((Date.now() - started) / 1000)} s)\n`);
  return failures ? 1 : 0;
}

main().then(code => process.exit(code), e => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
});
