import { brokenInvariants, runBenchmark } from '../bench/bench';

// The measurements live in `npm run bench`, which exits 1 when one of the
// invariants below is broken; here only what can fail without timing anything.
test('the benchmark refuses a configuration it cannot compare', () => {
  expect(() => runBenchmark({ clusters: [10] })).toThrow('clusters: [10] must be at least two ascending whole numbers, e.g. 1,10,100');
  expect(() => runBenchmark({ synthReps: 0 })).toThrow('synthReps: 0 must be a whole number of at least 1');
});

test('the benchmark names each broken invariant', () => {
  const f = { medianMs: 1, runs: 1 };
  const ok: any = {
    synth: { construct: f, handWritten: f, sameObjects: true, identicalYaml: true },
    coldWarm: { cold: f, warm: f, coldKeys: [2], warmKeys: 0, warmSynths: 3, warmLocks: 0, warmStoreUnchanged: true, warmOutputStable: true },
    scale: { points: [{ total: f }, { total: f }] },
    keygen: { library: f, pureJs: f, node: f },
    process: { synth: f, empty: f, storeUnchanged: true },
  };
  expect(brokenInvariants(ok)).toEqual([]);
  const bad: any = {
    ...ok,
    coldWarm: { ...ok.coldWarm, warmKeys: 1, coldKeys: [2, 3] },
    keygen: { ...ok.keygen, node: { medianMs: 0, runs: 0 } },
  };
  expect(brokenInvariants(bad)).toEqual([
    'a cold synth generated [2,3] keys, not 2 (the CA and the serving key)',
    'warm synths generated 1 keys',
    'keygen.node was not measured (0 runs, median 0 ms)',
  ]);
});
