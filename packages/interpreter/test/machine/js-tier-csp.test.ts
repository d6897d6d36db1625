/**
 * Where code generation is forbidden (a CSP without 'unsafe-eval': `new Function` throws an
 * EvalError), the JS tier stands down and the interpreter runs alone, with the same results.
 * Its own file: the tier remembers the refusal for the rest of the process.
 */
import { Machine } from '../../src';
import { wat } from '../helpers/wat';

test('new Function refused: every tier runs the program in the interpreter, same results', async () => {
  const bytes = await wat(`(module
    (func (export "sum") (param $n i32) (result i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $s)))`);
  const reference = (await Machine.instantiate(bytes, {}, { tier: 'interpreter' })).invoke('sum', [5000]);
  const RealFunction = globalThis.Function;
  let refused = 0;
  const Refusing = function () {
    refused++;
    throw new EvalError('Code generation from strings disallowed for this context');
  } as unknown as FunctionConstructor;
  globalThis.Function = Refusing;
  try {
    const m = await Machine.instantiate(bytes, {}, { tier: 'eager' });
    expect(m.invoke('sum', [5000])).toEqual(reference);
    expect(m.instance.compiled.functions[0].jit).toBeNull();
    const again = await Machine.instantiate(bytes, {}, { tier: 'eager' });
    expect(again.invoke('sum', [5000])).toEqual(reference);
  } finally {
    globalThis.Function = RealFunction;
  }
  expect(refused).toBe(1); // asked once, then never again
  expect(reference).toEqual([(5000 * 5001) / 2]);
});
