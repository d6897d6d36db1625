#!/usr/bin/env node
'use strict';
// SIGUSR1 is ours for the whole life of the process, from this very first statement: with no
// JavaScript listener, Node answers SIGUSR1 by starting its inspector (a debugger on
// 127.0.0.1:9229), and once the last listener is removed the signal's default action kills
// the process (exit 138). The run loop (src/drive.ts) adds its own listener to checkpoint;
// this one stays, and a SIGUSR1 that arrives before the run loop watches signals is kept
// for it (the global below). What remains: a SIGUSR1 delivered while Node itself starts, before
// this line runs, still starts the inspector (closeStrayInspector() closes it within the
// first two turns of the event loop, before any wasm runs), and one delivered before Node has
// installed its own handler (the first milliseconds of the process) kills it, as for any
// program.
const PENDING_USR1 = Symbol.for('mvvm.sigusr1.pending');
process.on('SIGUSR1', () => {
  if (process.listenerCount('SIGUSR1') === 1) globalThis[PENDING_USR1] = true;
});
closeStrayInspector();

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
// Node starts the inspector for a signal through callbacks that run when the event loop
// turns (and would start it again after a close): let two turns pass, closing after each.
setImmediate(() => {
  closeStrayInspector();
  setImmediate(() => {
    closeStrayInspector();
    main(process.argv.slice(2)).then(
      (code) => {
        // The low 8 bits, as a shell sees them (main returning -1 is 255).
        process.exitCode = code & 0xff;
      },
      (e) => {
        process.stderr.write(`mvvm: ${e && e.message ? e.message : e}\n`);
        process.exitCode = 1;
      },
    );
  });
});

/** Closes an inspector that a start-up SIGUSR1 opened, unless the user asked for one (--inspect...). */
function closeStrayInspector() {
  const asked = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)].some((a) => /^--inspect(-brk|-wait)?(=|$)/.test(a));
  if (asked) return;
  const inspector = require('node:inspector');
  if (inspector.url() !== undefined) {
    inspector.close();
    if (!closeStrayInspector.said) process.stderr.write('mvvm: closed the inspector a SIGUSR1 opened while Node was starting\n');
    closeStrayInspector.said = true;
  }
}
