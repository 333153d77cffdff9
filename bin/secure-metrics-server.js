#!/usr/bin/env node
'use strict';
// The command is bundled into one file at build time (npm run build:cli), so
// construct users never install its dependencies (YAML parser, Kubernetes client).
let main;
try {
  main = require('../build/cli/main.js').main;
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && /build[/]cli[/]main\.js/.test(e.message)) {
    process.stderr.write('secure-metrics-server: the command is not built; run `npm run build` in the package\n');
    process.exit(2);
  }
  throw e;
}
main(process.argv.slice(2)).then(
  code => { process.exitCode = code; },
  e => { process.stderr.write(`secure-metrics-server: internal error: ${(e && e.stack) || e}\n`); process.exitCode = 70; },
);
