/**
 * The table of instructions (src/instructions.ts) is the single source of truth: the run
 * loop's hand-written switch must have a case for exactly its internal opcodes, and what
 * is derived from it (names, lengths, the disassembler, the validator's signatures) agrees
 * with the module the translator emits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTRUCTIONS, Machine, disassemble, disassembleText, instructionName } from '../../src';
import { DETERMINISTIC_OPCODE, NAN_PRODUCING, STOP_OPCODE, instructionLength } from '../../src/translation/opcodes';
import { ATOMIC_OP, SIMD_INTERNAL, SIMD_OP, SIMD_PLAIN } from '../../src/instructions';
import { NUMERIC_SIGNATURES } from '../../src/validation/code';
import { wat } from '../helpers/wat';

function switchCases(file: string): Set<number> {
  const src = readFileSync(join(__dirname, '../../src/execution', file), 'utf8');
  const body = src.slice(src.indexOf('run: for (;;)'));
  return new Set([...body.matchAll(/case (0x[0-9a-f]+):/g)].map((m) => parseInt(m[1], 16)));
}

test('the run loop has a case for every internal opcode of the table, and for nothing else', () => {
  const cases = switchCases('executor.ts');
  const expected = new Set<number>(INSTRUCTIONS.filter((i) => i.words !== 0).map((i) => i.op));
  expected.add(STOP_OPCODE);
  for (const op of NAN_PRODUCING) expected.add(DETERMINISTIC_OPCODE + op);
  expected.add(DETERMINISTIC_OPCODE + SIMD_PLAIN); // SIMD float arithmetic with canonical NaNs
  const missing = [...expected].filter((op) => !cases.has(op)).map((op) => op.toString(16));
  const extra = [...cases].filter((op) => !expected.has(op)).map((op) => op.toString(16));
  expect(missing).toEqual([]);
  expect(extra).toEqual([]);
});

test('opcodes are unique, names known to the wat tools, encodings consistent', () => {
  const ops = INSTRUCTIONS.map((i) => i.op);
  expect(new Set(ops).size).toBe(ops.length);
  for (const i of INSTRUCTIONS) {
    if (i.op < 0x100) expect(i.encoding).toEqual([i.op]);
    else if (i.op < 0x120) expect(i.encoding).toEqual([0xfc, i.op - 0x100]);
    else if (i.op >= SIMD_OP && i.op < SIMD_OP + SIMD_INTERNAL) expect(i.encoding[0]).toBe(0xfd);
    else if (i.op >= ATOMIC_OP) expect(i.encoding).toEqual([0xfe, i.op - ATOMIC_OP]);
    else expect(i.encoding).toEqual([]);
  }
  // Every wasm-encoded instruction's name is read back by instructionName from its encoding.
  for (const i of INSTRUCTIONS.filter((x) => x.encoding.length > 0)) {
    expect(instructionName(Uint8Array.from([...i.encoding, 0, 0, 0]), 0)).toBe(i.name);
  }
  expect(NUMERIC_SIGNATURES.size).toBe(128 + 8); // 0x45..0xc4 (128) and the eight saturating truncations
  // WebAssembly 2.0's fixed-width SIMD: 236 instructions, sub-opcodes 0x00..0xff minus the 20 unassigned.
  const simd = INSTRUCTIONS.filter((i) => i.encoding[0] === 0xfd);
  expect(simd.length).toBe(236);
  expect(simd.filter((i) => i.op - SIMD_OP > 0xff)).toEqual([]);
  // The threads proposal's atomics: notify, wait32, wait64, fence and 7 widths × 9 operations.
  expect(INSTRUCTIONS.filter((i) => i.encoding[0] === 0xfe).length).toBe(67);
});

test('the disassembler reads back what the translator emitted, with the table lengths', async () => {
  const bytes = await wat(`(module (memory 1)
    (func (export "f") (param i32) (result i64)
      (local i64)
      (block $out (loop $top
        (br_if $out (i32.eqz (local.get 0)))
        (local.set 1 (i64.add (local.get 1) (i64.load (i32.const 8))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $top)))
      (local.get 1)))`);
  const m = Machine.instantiateSync(bytes);
  expect(m.invoke('f', [3])).toEqual([0n]);
  const code = m.instance.compiled.code;
  const f = m.instance.compiled.functions[0];
  const lines = disassemble(code.words, f.entry, f.end);
  expect(lines.map((l) => l.name)).toEqual([
    'local.get', 'i32.eqz', 'br_if', 'local.get', 'i32.const', 'i64.load', 'i64.add', 'local.set',
    'local.get', 'i32.const', 'i32.sub', 'local.set', 'br', 'local.get', 'return',
  ]);
  let pc = f.entry;
  for (const l of lines) {
    expect(l.pc).toBe(pc);
    pc += instructionLength(code.words, pc);
  }
  expect(pc).toBe(f.end);
  const text = disassembleText(code.words, f.entry, f.end);
  expect(text).toContain(`br @${f.entry}`); // the loop's back edge names its target pc
  expect(text).toContain('i64.load 0');
});
