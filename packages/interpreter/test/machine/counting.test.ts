import { Machine, Store, Trap } from '@mvvm/interpreter';
import type { CompiledModule } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

/**
 * The run loop counts instructions a straight-line segment at a time and stops inside a
 * segment by laying a STOP over an instruction. These tests hold it to the simple model:
 * single-stepping and running freely count the same, for every budget, across instances,
 * up to traps, and the code is left exactly as the translator made it.
 */
const LIB = `
(module
  (memory (export "mem") 1)
  (func (export "mix") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.mul (local.get 0) (i32.const 2654435761)))
    (if (i32.and (local.get 1) (i32.const 1)) (then (local.set 1 (i32.xor (local.get 1) (i32.const 0x5bd1e995)))))
    (i32.store (i32.and (local.get 1) (i32.const 0xfffc)) (local.get 1))
    (local.get 1)))`;

const MAIN = `
(module
  (import "lib" "mix" (func $mix (param i32) (result i32)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $h i32)
    (loop $l
      (local.set $h (i32.add (local.get $h) (call $mix (i32.add (local.get $i) (local.get $h)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $h))
  (func (export "trapAfter") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.div_u (local.get $i) (i32.sub (local.get $i) (local.get $n)))))`;

async function linked(): Promise<Machine> {
  const store = new Store();
  const lib = await Machine.instantiate(await wat(LIB), {}, { store });
  return Machine.instantiate(await wat(MAIN), { lib: lib.exports }, { store });
}

test('single-stepping and free running count the same, across instances', async () => {
  const free = await linked();
  const [expected] = free.invoke('run', [50]);
  const total = free.instructionCount;

  const stepped = await linked();
  stepped.begin('run', [50]);
  let r = stepped.step(1);
  let steps = 1;
  while (!r.done) {
    r = stepped.step(1);
    steps++;
  }
  expect(r.results).toEqual([expected]);
  expect(stepped.instructionCount).toBe(total);
  expect(steps).toBe(total);
});

/** Every function of the machine's module translated (in the order first called so far), as words. */
function wholeCode(compiled: CompiledModule): Int32Array {
  compiled.code.translateAll();
  return compiled.code.words.slice(0, compiled.code.length);
}

test('every budget from 1 to 40 stops exactly, and the code is left untouched', async () => {
  const m = await linked();
  const code = wholeCode(m.instance.compiled);
  const libCode = wholeCode(m.store.instances[0].compiled);
  const [expected] = m.invoke('run', [20]);
  const total = m.instructionCount;
  for (let budget = 1; budget <= 40; budget++) {
    const before = m.instructionCount;
    m.begin('run', [20]);
    let r = m.step(budget);
    while (!r.done) {
      expect(m.instructionCount - before).toBeGreaterThan(0);
      expect((m.instructionCount - before) % budget).toBe(0);
      r = m.step(budget);
    }
    expect(r.results).toEqual([expected]);
    expect(m.instructionCount - before).toBe(total);
  }
  expect(wholeCode(m.instance.compiled)).toEqual(code);
  expect(wholeCode(m.store.instances[0].compiled)).toEqual(libCode);
});

test('a trap counts the instructions up to and including the trapping one, however it was stepped', async () => {
  const free = await linked();
  expect(() => free.invoke('trapAfter', [30])).toThrow(Trap);
  const total = free.instructionCount;
  const code = wholeCode(free.instance.compiled);

  for (const budget of [1, 2, 3, 5, 7, 1000]) {
    const m = await linked();
    m.begin('trapAfter', [30]);
    let caught: unknown;
    try {
      while (!m.step(budget).done);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Trap);
    expect(m.instructionCount).toBe(total);
    expect(wholeCode(m.instance.compiled)).toEqual(code); // no STOP left behind by the trap
  }
});
