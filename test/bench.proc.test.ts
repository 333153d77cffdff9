import { formatReport, runBenchmark } from '../bench/bench';

// The benchmark in its smallest configuration: checks that every comparison
// still runs and reports well-formed figures. Timings are not asserted.
test('the benchmark runs in a tiny configuration and reports every figure', () => {
  const r = runBenchmark({
    synthReps: 3, coldReps: 1, clusters: [1, 2], scaleReps: 1,
    keygenReps: 1, pureJsReps: 1, processReps: 1, warmup: 0,
  });

  const figures = [
    r.synth.construct, r.synth.handWritten, r.coldWarm.cold, r.coldWarm.warm,
    ...r.scale.points.map(p => p.total), r.keygen.library, r.keygen.pureJs, r.keygen.node,
    r.process!.synth, r.process!.empty,
  ];
  for (const f of figures) {
    expect(f.medianMs).toBeGreaterThan(0);
    expect(f.runs).toBeGreaterThan(0);
  }
  for (const ratio of [r.synth.ratio, r.coldWarm.ratio, r.scale.ratio, r.keygen.speedup, r.keygen.libraryOverNode, r.process!.ratio]) {
    expect(Number.isFinite(ratio) && ratio > 0).toBe(true);
  }
  expect(r.scale.points.map(p => p.clusters)).toEqual([1, 2]);

  // the floor holds the same objects as the construct
  expect(r.synth.sameObjects).toBe(true);
  expect(r.synth.identicalYaml).toBe(true);
  expect(r.synth.objectCount).toBeGreaterThanOrEqual(10);

  // a cold synth generates the CA and the serving key; a warm one none
  expect(r.coldWarm.coldKeys).toEqual([2]);
  expect(r.coldWarm.warmKeys).toBe(0);
  expect(r.coldWarm.warmSynths).toBeGreaterThan(0);
  expect(r.coldWarm.warmOutputStable).toBe(true);
  expect(r.process!.storeUnchanged).toBe(true);

  expect(r.coldWarm.warmLocks).toBe(0);
  expect(r.coldWarm.warmStoreUnchanged).toBe(true);
  expect(r.targets).toHaveLength(6);
  expect(r.targets.find(t => t.name === 'warm synth takes no lock and writes nothing')!.met).toBe(true);
  expect(r.targets.find(t => t.name === 'warm synth generates zero keys')!.met).toBe(true);
  const report = formatReport(r);
  for (const t of r.targets) {
    expect(report).toContain(`${t.met ? 'MET' : 'NOT MET'}`.padEnd(8) + ` ${t.name}`);
  }
});

test('the benchmark refuses a configuration it cannot compare', () => {
  expect(() => runBenchmark({ clusters: [10] })).toThrow('clusters: [10] must be at least two ascending whole numbers, e.g. 1,10,100');
  expect(() => runBenchmark({ synthReps: 0 })).toThrow('synthReps: 0 must be a whole number of at least 1');
});
