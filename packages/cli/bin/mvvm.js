#!/usr/bin/env node
'use strict';
// The built CLI (npm run build); in a source checkout without a build, run the TypeScript through tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const built = join(__dirname, '..', 'dist', 'main.js');
if (!existsSync(built)) require('tsx/cjs');
const { main } = require(existsSync(built) ? built : join(__dirname, '..', 'src', 'main.ts'));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`mvvm: ${e && e.message ? e.message : e}\n`);
    process.exitCode = 1;
  },
);
