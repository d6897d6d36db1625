import { HI as HI_WORD } from './layout';
import type { ModuleInstance } from './runtime';
import type { Store } from './store';
import { TrapCode } from './traps';

// A module-level copy: an imported binding can compile to a getter call on every use.
const HI = HI_WORD;

/**
 * Bulk memory and table instructions (0xFC 8..17, table.get/set), kept out of the run
 * loop. Each reads its operands below `sp`, writes any result in place and returns a
 * trap code; the run loop adjusts sp by the instruction's stack effect.
 */
export function bulkOp(op: number, store: Store, inst: ModuleInstance, s: Int32Array, sp: number, imm1: number, imm2: number): TrapCode {
  switch (op) {
    case 0x25: { // table.get: [i32] -> [ref]
      const table = store.tables[inst.tableAddrs[imm1]];
      const i = s[sp - 2] >>> 0;
      if (i >= table.size) return TrapCode.TableOutOfBounds;
      s[sp - 2] = table.elements[i];
      return TrapCode.None;
    }
    case 0x26: { // table.set: [i32 ref] -> []
      const table = store.tables[inst.tableAddrs[imm1]];
      const i = s[sp - 4] >>> 0;
      if (i >= table.size) return TrapCode.TableOutOfBounds;
      table.elements[i] = s[sp - 2];
      return TrapCode.None;
    }
    case 0x108: { // memory.init seg: [d s n] -> []
      const mem = store.memories[inst.memAddrs[0]];
      const data = store.datas[inst.dataAddrs[imm1]].bytes;
      const d = s[sp - 6] >>> 0;
      const src = s[sp - 4] >>> 0;
      const n = s[sp - 2] >>> 0;
      const len = data ? data.length : 0;
      if (src + n > len || d + n > mem.byteLength) return TrapCode.MemoryOutOfBounds;
      if (n > 0) mem.u8.set(data!.subarray(src, src + n), d);
      mem.markDirty(d, n);
      return TrapCode.None;
    }
    case 0x109: // data.drop
      store.datas[inst.dataAddrs[imm1]].bytes = null;
      return TrapCode.None;
    case 0x10a: { // memory.copy: [d s n] -> []
      const mem = store.memories[inst.memAddrs[0]];
      const d = s[sp - 6] >>> 0;
      const src = s[sp - 4] >>> 0;
      const n = s[sp - 2] >>> 0;
      if (src + n > mem.byteLength || d + n > mem.byteLength) return TrapCode.MemoryOutOfBounds;
      mem.u8.copyWithin(d, src, src + n);
      mem.markDirty(d, n);
      return TrapCode.None;
    }
    case 0x10b: { // memory.fill: [d val n] -> []
      const mem = store.memories[inst.memAddrs[0]];
      const d = s[sp - 6] >>> 0;
      const n = s[sp - 2] >>> 0;
      if (d + n > mem.byteLength) return TrapCode.MemoryOutOfBounds;
      mem.u8.fill(s[sp - 4] & 0xff, d, d + n);
      mem.markDirty(d, n);
      return TrapCode.None;
    }
    case 0x10c: { // table.init seg table: [d s n] -> []
      const table = store.tables[inst.tableAddrs[imm2]];
      const refs = store.elems[inst.elemAddrs[imm1]].refs;
      const d = s[sp - 6] >>> 0;
      const src = s[sp - 4] >>> 0;
      const n = s[sp - 2] >>> 0;
      const len = refs ? refs.length : 0;
      if (src + n > len || d + n > table.size) return TrapCode.TableOutOfBounds;
      if (n > 0) table.elements.set(refs!.subarray(src, src + n), d);
      return TrapCode.None;
    }
    case 0x10d: // elem.drop
      store.elems[inst.elemAddrs[imm1]].refs = null;
      return TrapCode.None;
    case 0x10e: { // table.copy dst src: [d s n] -> []
      const dst = store.tables[inst.tableAddrs[imm1]];
      const srcTable = store.tables[inst.tableAddrs[imm2]];
      const d = s[sp - 6] >>> 0;
      const src = s[sp - 4] >>> 0;
      const n = s[sp - 2] >>> 0;
      if (src + n > srcTable.size || d + n > dst.size) return TrapCode.TableOutOfBounds;
      if (dst === srcTable) dst.elements.copyWithin(d, src, src + n);
      else dst.elements.set(srcTable.elements.subarray(src, src + n), d);
      return TrapCode.None;
    }
    case 0x10f: { // table.grow: [ref n] -> [i32]
      const table = store.tables[inst.tableAddrs[imm1]];
      s[sp - 4] = table.grow(s[sp - 2] >>> 0, s[sp - 4]);
      return TrapCode.None;
    }
    case 0x110: { // table.size: [] -> [i32]
      s[sp] = store.tables[inst.tableAddrs[imm1]].size;
      s[sp + HI] = 0;
      return TrapCode.None;
    }
    case 0x111: { // table.fill: [i ref n] -> []
      const table = store.tables[inst.tableAddrs[imm1]];
      const i = s[sp - 6] >>> 0;
      const n = s[sp - 2] >>> 0;
      if (i + n > table.size) return TrapCode.TableOutOfBounds;
      table.elements.fill(s[sp - 4], i, i + n);
      return TrapCode.None;
    }
  }
  throw new Error(`internal error: opcode 0x${op.toString(16)} has no implementation`);
}
