/** The text-format names of the instructions, from the table of instructions (instructions.ts). */
import { ATOMIC_OP, INSTRUCTIONS, SIMD_OP } from '../instructions';
import { ByteReader } from './reader';

const ONE_BYTE: Record<number, string> = {};
const FC: Record<number, string> = {};
const FD: Record<number, string> = {};
const FE: Record<number, string> = {};
for (const i of INSTRUCTIONS) {
  if (i.encoding.length === 1) ONE_BYTE[i.encoding[0]] = i.name;
  else if (i.encoding[0] === 0xfc) FC[i.encoding[1]] = i.name;
  else if (i.encoding[0] === 0xfd) FD[i.op - SIMD_OP] = i.name;
  else if (i.encoding[0] === 0xfe) FE[i.op - ATOMIC_OP] = i.name;
}

/** The name of the instruction at byte `offset` of a module's bytes (`0xNN` for one this table does not know). */
export function instructionName(bytes: Uint8Array, offset: number): string {
  const op = bytes[offset];
  if (op === undefined) return '?';
  if (op === 0xfc || op === 0xfd || op === 0xfe) {
    try {
      const sub = new ByteReader(bytes, offset + 1, bytes.length).u32();
      return (op === 0xfc ? FC : op === 0xfd ? FD : FE)[sub] ?? `0x${op.toString(16)} ${sub}`;
    } catch {
      return `0x${op.toString(16)}`;
    }
  }
  return ONE_BYTE[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
}
