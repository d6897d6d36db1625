'use strict';
// Whether a checkout's compiled packages may run (bin/mvvm.js): plain JavaScript, so that
// deciding costs a few stat calls and no compilation.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const PACKAGES = ['interpreter', 'wasi', 'snapshot', 'migrate', 'scheduler', 'cli'];

/**
 * True when every package under `packagesDir` has dist/index.js and a last build (tsc -b's
 * tsconfig.tsbuildinfo, rewritten or touched by every build) newer than all of its src/.
 */
function compiledIsCurrent(packagesDir) {
  for (const name of PACKAGES) {
    const dir = join(packagesDir, name);
    let built;
    try {
      built = statSync(join(dir, 'tsconfig.tsbuildinfo')).mtimeMs;
    } catch {
      return false;
    }
    if (!existsSync(join(dir, 'dist', 'index.js')) || newestIn(join(dir, 'src')) > built) return false;
  }
  return true;
}

function newestIn(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestIn(p) : statSync(p).mtimeMs);
  }
  return newest;
}

module.exports = { compiledIsCurrent, PACKAGES };
