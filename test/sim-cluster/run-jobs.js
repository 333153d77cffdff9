'use strict';
// Runs doctor jobs in one process against the CLI bundle (client-node is
// ESM-only, so jest cannot load it; one child for many jobs keeps the tests
// fast). stdin: [{ argv, env }]; stdout: [{ code, stdout, stderr }].
const { main } = require(process.argv[2]);

function sink() {
  const chunks = [];
  return { write: s => { chunks.push(String(s)); return true; }, text: () => chunks.join('') };
}

async function run() {
  const input = [];
  for await (const c of process.stdin) input.push(c);
  const jobs = JSON.parse(Buffer.concat(input).toString('utf8'));
  const results = [];
  for (const job of jobs) {
    const stdout = sink();
    const stderr = sink();
    let code;
    const t = Date.now();
    try {
      code = await main(job.argv, { stdout, stderr, env: job.env, cwd: process.cwd(), readStdin: async () => Buffer.alloc(0) });
    } catch (e) {
      code = 70;
      stderr.write(String(e && e.stack || e));
    }
    results.push({ code, stdout: stdout.text(), stderr: stderr.text(), ms: Date.now() - t });
  }
  process.stdout.write(JSON.stringify(results));
}
run();
