import { Machine, MachineState, RestoreError } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

/**
 * The central promise of the runtime: a snapshot taken at ANY instruction restores into a
 * new machine that finishes exactly as the original would have (results, memory, globals,
 * instruction count).
 */

// Deep recursion with locals, memory writes, i64 and f64 on the stack across calls.
const RECURSIVE = `
(module
  (memory (export "mem") 1)
  (global $calls (mut i64) (i64.const 0))
  (func $walk (param $depth i32) (param $acc f64) (result i64)
    (local $x i64)
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (i32.store (i32.mul (i32.rem_u (local.get $depth) (i32.const 1000)) (i32.const 4))
               (i32.add (local.get $depth) (i32.load (i32.const 0))))
    (if (result i64) (i32.eqz (local.get $depth))
      (then (i64.trunc_f64_s (local.get $acc)))
      (else
        (local.set $x (call $walk (i32.sub (local.get $depth) (i32.const 1))
                                  (f64.add (local.get $acc) (f64.const 1.25))))
        (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.extend_i32_u (local.get $depth))))))
  (func (export "main") (param i32) (result i64 i64)
    (call $walk (local.get 0) (f64.const 0.5))
    (global.get $calls)))
`;

// Nested loops over memory with i64 hashing and a br_table dispatch.
const LOOPING = `
(module
  (memory (export "mem") 1)
  (func (export "main") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $h i64)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (i32.store8 (i32.and (i32.add (local.get $i) (local.get $j)) (i32.const 0xffff))
                    (i32.wrap_i64 (local.get $h)))
        (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 (i32.rem_u (local.get $j) (i32.const 3))))
          (local.set $h (i64.mul (i64.xor (local.get $h) (i64.extend_i32_u (local.get $j))) (i64.const 0x100000001b3)))
          (br $b2))
          (local.set $h (i64.rotl (local.get $h) (i64.const 13))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 37))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $h)))
`;

interface Outcome {
  results: unknown[];
  memory: Uint8Array;
  count: number;
}

async function runStraight(bytes: Uint8Array, args: unknown[]): Promise<Outcome> {
  const m = await Machine.instantiate(bytes);
  const results = m.invoke('main', args);
  return { results, memory: m.memory!.u8.slice(), count: m.instructionCount };
}

/** Runs `k` instructions, snapshots, restores from a structured clone, and finishes there. */
async function runInterrupted(bytes: Uint8Array, args: unknown[], k: number): Promise<Outcome> {
  const m = await Machine.instantiate(bytes);
  m.begin('main', args);
  const first = m.step(k);
  expect(first.done).toBe(false);
  expect(m.instructionCount).toBe(k);
  const state = structuredClone(m.snapshot());
  const restored = await Machine.restore(bytes, state);
  expect(restored.instructionCount).toBe(k);
  const r = restored.step(Infinity);
  expect(r.done).toBe(true);
  return { results: r.results!, memory: restored.memory!.u8.slice(), count: restored.instructionCount };
}

describe.each([
  ['recursive', RECURSIVE, [150]],
  ['looping', LOOPING, [40]],
])('snapshot/restore of a %s program', (_name, source, args) => {
  let bytes: Uint8Array;
  let reference: Outcome;

  beforeAll(async () => {
    bytes = await wat(source);
    reference = await runStraight(bytes, args);
  });

  test('the uninterrupted run is deterministic', async () => {
    const again = await runStraight(bytes, args);
    expect(again.results).toEqual(reference.results);
    expect(again.count).toBe(reference.count);
    expect(reference.count).toBeGreaterThan(3000);
  });

  test('restoring at every k-th instruction finishes identically', async () => {
    const k = Math.floor(reference.count / 97) | 1; // ~100 points, odd stride hits every kind of instruction
    let points = 0;
    for (let at = 1; at < reference.count; at += k) {
      const out = await runInterrupted(bytes, args, at);
      expect(out.results).toEqual(reference.results);
      expect(out.count).toBe(reference.count);
      expect(Buffer.compare(out.memory, reference.memory)).toBe(0);
      points++;
    }
    expect(points).toBeGreaterThanOrEqual(90);
  });

  test('restoring at the first and the last instruction', async () => {
    for (const at of [1, 2, reference.count - 2, reference.count - 1]) {
      const out = await runInterrupted(bytes, args, at);
      expect(out.results).toEqual(reference.results);
      expect(out.count).toBe(reference.count);
    }
  });

  test('a chain of snapshots (restore, step, snapshot, restore ...) still finishes identically', async () => {
    let m = await Machine.instantiate(bytes);
    m.begin('main', args);
    const stride = Math.floor(reference.count / 13);
    while (!m.step(stride).done) m = await Machine.restore(bytes, structuredClone(m.snapshot()));
    expect(m.step(0).results).toEqual(reference.results);
    expect(m.instructionCount).toBe(reference.count);
    expect(Buffer.compare(m.memory!.u8, reference.memory)).toBe(0);
  });
});

describe('step()', () => {
  test('runs exactly n instructions and counts them', async () => {
    const bytes = await wat(LOOPING);
    const total = (await runStraight(bytes, [5])).count;
    const m = await Machine.instantiate(bytes);
    m.begin('main', [5]);
    let steps = 0;
    for (;;) {
      const before = m.instructionCount;
      const r = m.step(7);
      if (r.done) {
        expect(m.instructionCount - before).toBeLessThanOrEqual(7);
        break;
      }
      expect(m.instructionCount - before).toBe(7);
      steps++;
    }
    expect(m.instructionCount).toBe(total);
    expect(steps).toBe(Math.floor(total / 7) - (total % 7 === 0 ? 1 : 0));
  });

  test('step(0) runs nothing', async () => {
    const m = await Machine.instantiate(await wat(LOOPING));
    m.begin('main', [3]);
    expect(m.step(0)).toEqual({ done: false });
    expect(m.instructionCount).toBe(0);
  });

  test('run() yields between slices and returns the same results', async () => {
    const bytes = await wat(RECURSIVE);
    const reference = await runStraight(bytes, [100]);
    const m = await Machine.instantiate(bytes);
    m.begin('main', [100]);
    let slices = 0;
    const results = await m.run({ sliceInstructions: 500, onSlice: () => void slices++ });
    expect(results).toEqual(reference.results);
    expect(slices).toBeGreaterThan(reference.count / 500 - 2);
  });
});

describe('restore refuses bad state without building a machine', () => {
  let bytes: Uint8Array;
  let state: MachineState;

  beforeAll(async () => {
    bytes = await wat(RECURSIVE);
    const m = await Machine.instantiate(bytes);
    m.begin('main', [50]);
    expect(m.step(800).done).toBe(false); // mid-run, inside nested calls
    state = m.snapshot();
    expect(state.thread.frames.length).toBeGreaterThan(30);
  });

  const broken: [string, (s: MachineState) => void][] = [
    ['wrong version', (s) => (s.version = 99)],
    ['pc out of range', (s) => (s.thread.pc = 1e9)],
    ['negative stack pointer', (s) => (s.thread.sp = -1)],
    ['truncated stack', (s) => (s.thread.stack = s.thread.stack.subarray(0, 4))],
    ['frame of an unknown function', (s) => (s.thread.frames[s.thread.frames.length - 1] = 12345)],
    ['memory of the wrong size', (s) => (s.memories[0].data = new Uint8Array(10))],
    ['missing memory', (s) => (s.memories = [])],
    ['globals missing', (s) => (s.globals = new Int32Array(0))],
    ['unknown status', (s) => ((s.thread as { status: string }).status = 'flying')],
  ];

  test.each(broken)('%s', async (_what, corrupt) => {
    const s = structuredClone(state);
    corrupt(s);
    await expect(Machine.restore(bytes, s)).rejects.toThrow(RestoreError);
  });

  test('a state for another module', async () => {
    const other = await wat(LOOPING);
    await expect(Machine.restore(other, structuredClone(state))).rejects.toThrow(/another module/);
  });

  test('the intact state restores', async () => {
    const m = await Machine.restore(bytes, structuredClone(state));
    expect(m.step(Infinity).done).toBe(true);
  });
});

describe('breakOnEntry()', () => {
  test('stops right after every call into the function, at its first instruction', async () => {
    const bytes = await wat(RECURSIVE);
    const reference = await runStraight(bytes, [20]);
    const m = await Machine.instantiate(bytes);
    m.breakOnEntry(0); // $walk
    m.begin('main', [20]);
    let stops = 0;
    let r = m.step(Infinity);
    while (r.breakpoint) {
      stops++;
      const f = m.store.functions[m.thread.funcAddr];
      expect(m.thread.funcAddr).toBe(m.instance.funcAddrs[0]);
      expect(m.thread.pc).toBe(f.compiled!.entry);
      if (stops === 7) {
        // A snapshot at a breakpoint restores like any other.
        const restored = await Machine.restore(bytes, structuredClone(m.snapshot()));
        expect(restored.step(Infinity).results).toEqual(reference.results);
      }
      r = m.step(Infinity);
    }
    expect(stops).toBe(21); // walk(20) .. walk(0)
    expect(m.thread.breakHits).toBe(21);
    expect(r.results).toEqual(reference.results);
    expect(m.instructionCount).toBe(reference.count);
  });
});

describe('restore checks that every pc is on an instruction of its function', () => {
  test('every pc the run loop stops at is an instruction start (translator and checker agree)', async () => {
    const { instructionLength } = await import('../../src/translation/opcodes');
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const programs: [Uint8Array, string, unknown[]][] = [
      [await wat(RECURSIVE), 'main', [30]],
      [await wat(LOOPING), 'main', [3]],
      [new Uint8Array(readFileSync(join(__dirname, '../../../../bench/kernels/vm.wasm'))), 'run', [40]],
      [new Uint8Array(readFileSync(join(__dirname, '../../../../bench/kernels/sort.wasm'))), 'run', [60]],
    ];
    for (const [bytes, name, args] of programs) {
      const m = await Machine.instantiate(bytes);
      // Walk every function's code by instruction length: the starts the run loop must stop on.
      const { code, functions } = m.instance.compiled;
      code.translateAll();
      const starts = new Set<number>();
      for (const f of functions) for (let pc = f.entry; pc < f.end; pc += instructionLength(code.words, pc)) starts.add(pc);
      m.begin(name, args);
      let steps = 0;
      while (!m.step(1).done && steps < 20000) {
        expect(starts.has(m.thread.pc)).toBe(true);
        steps++;
      }
      expect(steps).toBeGreaterThan(500);
    }
  });

  test('a pc inside an instruction, or inside another function, is refused', async () => {
    const { instructionLength } = await import('../../src/translation/opcodes');
    const bytes = await wat(RECURSIVE);
    const m = await Machine.instantiate(bytes);
    const { code, functions } = m.instance.compiled;
    m.begin('main', [50]);
    m.step(800);
    while (instructionLength(code.words, m.thread.pc) === 1) m.step(1); // stop on an instruction with an immediate
    const state = m.snapshot();
    expect(state.thread.frames.length).toBeGreaterThan(6);
    const corruptions: [string, (s: MachineState) => void][] = [
      ['pc on an immediate', (s) => (s.thread.pc += 1)],
      // the innermost return pc belongs to $walk (recursion): point it past $walk's end
      ['return pc past its function', (s) => (s.thread.frames[s.thread.frames.length - 3] = functions[0].end - functions[0].entry)],
      ['negative pc', (s) => (s.thread.pc = -1)],
    ];
    for (const [, corrupt] of corruptions) {
      const s = structuredClone(state);
      corrupt(s);
      expect(() => Machine.restoreSync(bytes, s)).toThrow(RestoreError);
    }
    expect(() => Machine.restoreSync(bytes, structuredClone(state))).not.toThrow();
  });
});
