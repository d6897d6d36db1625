'use strict';
// Runs a WASI program under node:wasi (V8), the bench's reference: node node-wasi-run.js X.wasm args...
// Plain JavaScript, so nothing is compiled at start-up.
const { WASI } = require('node:wasi');
const { readFileSync } = require('node:fs');
process.removeAllListeners('warning'); // node:wasi's ExperimentalWarning
const file = process.argv[2];
const wasi = new WASI({ version: 'preview1', returnOnExit: true, args: [file, ...process.argv.slice(3)] });
const imports = typeof wasi.getImportObject === 'function' ? wasi.getImportObject() : { wasi_snapshot_preview1: wasi.wasiImport };
WebAssembly.instantiate(readFileSync(file), imports).then(({ instance }) => {
  // Exit at once: Node 20's node:wasi can crash (SIGSEGV) in teardown after a memory.grow.
  process.exit(wasi.start(instance));
});
