/** The text-format names of the instructions, from the table of instructions (instructions.ts). */
import { INSTRUCTIONS } from '../instructions';
import { ByteReader } from './reader';

const ONE_BYTE: Record<number, string> = {};
const FC: Record<number, string> = {};
for (const i of INSTRUCTIONS) {
  if (i.encoding.length === 1) ONE_BYTE[i.encoding[0]] = i.name;
  else if (i.encoding.length === 2) FC[i.encoding[1]] = i.name;
}

/** The name of the instruction at byte `offset` of a module's bytes (`0xNN` for one this table does not know). */
export function instructionName(bytes: Uint8Array, offset: number): string {
  const op = bytes[offset];
  if (op === undefined) return '?';
  if (op === 0xfc) {
    try {
      const sub = new ByteReader(bytes, offset + 1, bytes.length).u32();
      return FC[sub] ?? `0xfc ${sub}`;
    } catch {
      return '0xfc';
    }
  }
  return ONE_BYTE[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
}
