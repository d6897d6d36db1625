/** The -f/-x trigger counts entries exactly: checked against the recursion depth of a known program. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiExit } from '@mvvm/wasi';
import { atCount, atFunctionEntry, Trigger } from '../src/triggers';

async function machine(): Promise<Machine> {
  const wasi = new WASI({ args: ['recurse.wasm', '300'] });
  const m = await Machine.instantiate(new Uint8Array(readFileSync(join(__dirname, 'programs', 'recurse.wasm'))), wasi.getImports());
  m.begin('_start', []);
  return m;
}

/** Steps as the CLI's driver does; true if the trigger fired before the program ended. */
function runTo(m: Machine, t: Trigger): boolean {
  for (;;) {
    if (t.fired(m)) return true;
    try {
      if (m.step(Math.max(1, t.budget(m))).done) return false;
    } catch (e) {
      if (e instanceof WasiExit) return false;
      throw e;
    }
  }
}

test('depth_walk(300) is entered 301 times, each one frame deeper', async () => {
  const first = await machine();
  expect(runTo(first, atFunctionEntry(first, 'depth_walk', 1))).toBe(true);
  const depth1 = first.thread.depth;
  for (const k of [2, 150, 301]) {
    const m = await machine();
    expect(runTo(m, atFunctionEntry(m, 'depth_walk', k))).toBe(true);
    expect(m.thread.depth).toBe(depth1 + k - 1);
    expect(m.thread.pc).toBe(m.store.functions[m.thread.funcAddr].compiled!.entry);
  }
  const m = await machine();
  // ackermann is entered only after depth_walk has returned: the 302nd entry never comes.
  expect(runTo(m, atFunctionEntry(m, 'depth_walk', 302))).toBe(false);
});

test('-c N stops after exactly N instructions', async () => {
  for (const n of [1, 2, 999, 12345]) {
    const m = await machine();
    expect(runTo(m, atCount(n))).toBe(true);
    expect(m.instructionCount).toBe(n);
  }
});
