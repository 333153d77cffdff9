#!/usr/bin/env node
'use strict';
// Writes THIRD_PARTY_NOTICES.txt beside esbuild bundles: for every npm package
// an esbuild metafile says was bundled, its name, version, license and the text
// of its LICENSE file (MIT, ISC, Apache-2.0 and BSD all require the notice to
// travel with copies). Usage: node scripts/third-party-notices.js META.json... OUT.txt
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const out = args.pop();
if (!out || args.length === 0) {
  process.stderr.write('usage: third-party-notices.js META.json... OUT.txt\n');
  process.exit(2);
}
const dirs = new Set();
for (const meta of args) {
  for (const input of Object.keys(JSON.parse(fs.readFileSync(meta, 'utf8')).inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) {
      dirs.add(m[1]);
    }
  }
}
const sections = [...dirs].sort().map(dir => {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const file = fs.readdirSync(dir).find(f => /^(LICEN[SC]E|COPYING|NOTICE)(\..*)?$/i.test(f));
  const text = file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : `(no license file in the package; package.json says: ${pkg.license || 'nothing'})`;
  return `${pkg.name}@${pkg.version} (${pkg.license || 'unknown license'})\n\n${text}\n`;
});
fs.writeFileSync(out, `Third-party software bundled into this file's siblings (generated at build time)\n\n${sections.join('\n' + '-'.repeat(72) + '\n\n')}`);
process.stdout.write(`${out}: ${sections.length} packages\n`);
