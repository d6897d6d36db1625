/**
 * The translator's side table from internal pc to the wasm byte offset of the instruction
 * (ModuleCode.wasmOffset): recorded as each function is translated (lazily), complete for
 * every code word of a translated function, and pointing at the instruction the word came from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, Trap, instructionName } from '../../src';
import { wat } from '../helpers/wat';

test('a trap and each return pc map to the wasm instructions that trapped and called', async () => {
  const bytes = await wat(`(module
    (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func $never (result i32) (i32.const 1))
    (func $middle (param i32) (result i32) (block (nop)) (call $divide (i32.const 10) (local.get 0)))
    (func (export "go") (result i32) (call $middle (i32.const 0))))`);
  const m = Machine.instantiateSync(bytes);
  const code = m.instance.compiled.code;
  m.begin('go', []);
  expect(() => m.step(Infinity)).toThrow(Trap);
  const t = m.thread;
  const at = code.wasmOffset(t.pc - 1);
  expect(instructionName(bytes, at)).toBe('i32.div_s');
  const callers: string[] = [];
  for (let i = t.frameTop - 3; i >= 3; i -= 3) {
    const off = code.wasmOffset(t.frames[i] - 1);
    callers.push(`${instructionName(bytes, off)} ${bytes[off + 1]}`);
  }
  expect(callers).toEqual(['call 0', 'call 2']); // middle calls divide (0), go calls middle (2)
  // $never was not translated: no code, no offsets.
  expect(m.instance.compiled.functions[1].entry).toBe(-1);
});

test('every code word of a translated function maps into that function body, to a known instruction', () => {
  const bytes = new Uint8Array(readFileSync(join(__dirname, '..', 'programs', 'features.wasm')));
  const compiled = Machine.compile(bytes);
  compiled.code.translateAll();
  const imported = compiled.ctx.numImportedFuncs;
  let words = 0;
  for (const f of compiled.functions) {
    const body = compiled.module.codes[f.funcIndex - imported];
    for (let pc = f.entry; pc < f.end; pc++, words++) {
      const off = compiled.code.wasmOffset(pc);
      expect(off >= body.codeStart && off < body.codeEnd).toBe(true);
      expect(instructionName(bytes, off)).not.toMatch(/^0x/);
    }
  }
  expect(words).toBeGreaterThan(200);
  expect(compiled.code.wasmOffset(-1)).toBe(-1);
  expect(compiled.code.wasmOffset(compiled.code.length)).toBe(-1);
});
