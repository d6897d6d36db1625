import { THREAD_CASES, runV8Threads } from './programs';

// The reference the interpreter's threads are compared with: V8 runs every wasm thread on
// its own worker thread, truly in parallel, on one shared WebAssembly.Memory.
describe('V8 with worker threads runs the wasi-threads programs', () => {
  it.each(THREAD_CASES.map((c) => [`${c.name} ${c.args.join(' ')}`, c] as const))('%s', (_, c) => {
    const r = runV8Threads(c.name, c.args);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(c.expected);
    expect(r.code).toBe(0);
  });
});
