import { MalformedError } from '../errors';
import { ByteReader } from './reader';

/**
 * Checks that a function body's instructions are well-formed (known opcodes, complete
 * immediates, balanced `end`s) without validating them. The translator decodes and
 * validates in one pass; when it finds a validation error it runs this over the rest of
 * the module first, because the spec decodes everything before it validates anything, so
 * a malformed byte later on must win over an earlier validation error.
 */
export function scanBody(r: ByteReader): void {
  let depth = 1;
  while (depth > 0) {
    const op = r.u8();
    switch (op) {
      case 0x02: case 0x03: case 0x04: r.s33(); depth++; break;
      case 0x0b: depth--; break;
      case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
      case 0x25: case 0x26: case 0xd2: r.u32(); break;
      case 0x0e: { const n = r.u32(); for (let i = 0; i <= n; i++) r.u32(); break; }
      case 0x11: r.u32(); r.u32(); break;
      case 0x1c: { const n = r.u32(); for (let i = 0; i < n; i++) r.u8(); break; }
      case 0x3f: case 0x40: case 0xd0: r.u8(); break;
      case 0x41: r.s32(); break;
      case 0x42: r.s64(); break;
      case 0x43: r.bytesN(4); break;
      case 0x44: r.bytesN(8); break;
      case 0xfc: scanPrefixed(r, r.u32()); break;
      default:
        if (op >= 0x28 && op <= 0x3e) { r.u32(); r.u32(); break; }
        if (op <= 0x01 || op === 0x05 || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1) break;
        throw new MalformedError(`illegal opcode 0x${op.toString(16)}`, r.pos - 1);
    }
  }
  if (!r.eof) throw new MalformedError('operators remaining after end of function', r.pos);
}

function scanPrefixed(r: ByteReader, sub: number): void {
  if (sub <= 7) return;
  switch (sub) {
    case 8: r.u32(); r.u8(); return;
    case 10: r.u8(); r.u8(); return;
    case 11: r.u8(); return;
    case 12: case 14: r.u32(); r.u32(); return;
    case 9: case 13: case 15: case 16: case 17: r.u32(); return;
  }
  throw new MalformedError(`illegal opcode 0xfc ${sub}`, r.pos);
}
