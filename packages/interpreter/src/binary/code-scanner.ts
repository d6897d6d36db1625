import { MalformedError } from '../errors';
import { ATOMIC_OP, BY_OP, Immediates, SIMD_INTERNAL, SIMD_OP } from '../instructions';
import { ByteReader } from './reader';

/**
 * Checks that a function body's instructions are well-formed (known opcodes, complete
 * immediates, balanced `end`s) without validating them. The translator decodes and
 * validates in one pass; when it finds a validation error it runs this over the rest of
 * the module first, because the spec decodes everything before it validates anything, so
 * a malformed byte later on must win over an earlier validation error. Opcodes and their
 * immediates come from the table of instructions (instructions.ts).
 */
export function scanBody(r: ByteReader): void {
  let depth = 1;
  while (depth > 0) {
    const at = r.pos;
    const byte = r.u8();
    const op = byte === 0xfc ? 0x100 + r.u32() : byte === 0xfd ? SIMD_OP + r.u32() : byte === 0xfe ? ATOMIC_OP + r.u32() : byte;
    const ins =
      op < 0x120 || (byte === 0xfd && op >= SIMD_OP && op < SIMD_OP + SIMD_INTERNAL) || (byte === 0xfe && op >= ATOMIC_OP) ? BY_OP.get(op) : undefined;
    if (ins === undefined) {
      if (byte === 0xfc) throw new MalformedError(`illegal opcode 0xfc ${op - 0x100}`, r.pos);
      if (byte === 0xfd) throw new MalformedError(`illegal opcode 0xfd ${op - SIMD_OP}`, r.pos);
      if (byte === 0xfe) throw new MalformedError(`illegal opcode 0xfe ${op - ATOMIC_OP}`, r.pos);
      throw new MalformedError(`illegal opcode 0x${byte.toString(16)}`, at);
    }
    if (op === 0x02 || op === 0x03 || op === 0x04) depth++;
    else if (op === 0x0b) depth--;
    skipImmediates(r, ins.immediates);
  }
  if (!r.eof) throw new MalformedError('operators remaining after end of function', r.pos);
}

function skipImmediates(r: ByteReader, kind: Immediates): void {
  switch (kind) {
    case 'none': return;
    case 'blocktype': r.s33(); return;
    case 'label': case 'func': case 'local': case 'global': case 'table': case 'data': case 'elem': r.u32(); return;
    case 'br_table': { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); return; }
    case 'call_indirect': case 'memarg': case 'elem_table': case 'table_table': r.u32(); r.u32(); return;
    case 'select_t': { const n = r.u32(); for (let i = 0; i < n; i++) r.u8(); return; }
    case 'byte': r.u8(); return;
    case 'byte_byte': r.u8(); r.u8(); return;
    case 'data_byte': r.u32(); r.u8(); return;
    case 'i32': r.s32(); return;
    case 'i64': r.s64(); return;
    case 'f32': r.bytesN(4); return;
    case 'f64': r.bytesN(8); return;
    case 'lane': r.u8(); return;
    case 'memarg_lane': r.u32(); r.u32(); r.u8(); return;
    case 'v128': case 'shuffle': r.bytesN(16); return;
  }
}
