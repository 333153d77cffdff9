import * as path from 'path';
import { checkRound, spawnMany, treeState } from './support/proc';
import { tmp } from './helpers';

const PROCESSES = 6;

describe('concurrent synths in separate processes share one store', () => {
  test.each([1, 2])(`round %i: ${PROCESSES} synths on an empty store, then ${PROCESSES} on the warm store`, async () => {
    const storeDir = path.join(tmp(), 'pki');
    const cold = await spawnMany(PROCESSES, { STORE_DIR: storeDir });
    expect(checkRound(cold, storeDir)).toEqual([]);
    const before = treeState(storeDir);

    const warm = await spawnMany(PROCESSES, { STORE_DIR: storeDir });
    expect(checkRound(warm, storeDir)).toEqual([]);
    expect(warm[0].stdout).toBe(cold[0].stdout);
    // a warm synth takes no lock and writes nothing: every file and directory is as it was
    expect(treeState(storeDir)).toBe(before);
  });
});
