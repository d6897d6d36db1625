#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm install` runs through
// the root `prepare` script). In a source checkout the compiled packages are used only
// while they are at least as new as every source file of the four packages; otherwise the
// TypeScript sources run through tsx (as slow to start as compiling them), with a warning,
// so a stale build never runs silently. An installed package has no sources: dist/ it is.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { compiledIsCurrent } = require('./compiled');
const packages = join(__dirname, '..', '..');
const source = join(__dirname, '..', 'src', 'main.ts');
const fromSource = existsSync(source) && !compiledIsCurrent(packages);
if (fromSource) {
  process.stderr.write('mvvm: the compiled packages are missing or older than their sources: running the sources through tsx (slow start; `npm run build` fixes it)\n');
  // Resolve @mvvm/* to their sources too (the repository's tsconfig paths), whatever the cwd.
  process.env.TSX_TSCONFIG_PATH = join(packages, '..', 'tsconfig.json');
  require('tsx/cjs');
}
const { main } = require(fromSource ? source : join(__dirname, '..', 'dist', 'main.js'));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`mvvm: ${e && e.message ? e.message : e}\n`);
    process.exitCode = 1;
  },
);
