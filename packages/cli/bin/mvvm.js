#!/usr/bin/env node
'use strict';
// In a source checkout (src/ present) run the TypeScript through tsx, so the CLI never
// lags behind the sources; an installed package has only dist/ (npm run build).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const source = join(__dirname, '..', 'src', 'main.ts');
const fromSource = existsSync(source);
if (fromSource) {
  // Resolve @mvvm/* to their sources too (the repository's tsconfig paths), whatever the cwd.
  process.env.TSX_TSCONFIG_PATH = join(__dirname, '..', '..', '..', 'tsconfig.json');
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
