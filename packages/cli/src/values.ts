/** Value slots shown as typed values (debugger): a slot is a (lo, hi) pair of int32 words. */
import { Machine, ValType } from '@mvvm/interpreter';
import { importedFunctions } from './stack';

export function localTypes(m: Machine, funcIndex: number): ValType[] {
  const module = m.instance.compiled.module;
  const f = m.store.functions[m.instance.funcAddrs[funcIndex]];
  const imported = importedFunctions(module);
  const out = [...f.type.params];
  for (const run of module.codes[funcIndex - imported]?.locals ?? []) for (let i = 0; i < run.count; i++) out.push(run.type);
  return out;
}

const buf = new DataView(new ArrayBuffer(8));

export function formatSlot(lo: number, hi: number, type: ValType | undefined): string {
  buf.setInt32(0, lo, true);
  buf.setInt32(4, hi, true);
  switch (type) {
    case ValType.I32:
      return `i32 ${lo}`;
    case ValType.I64:
      return `i64 ${buf.getBigInt64(0, true)}`;
    case ValType.F32:
      return `f32 ${buf.getFloat32(0, true)}`;
    case ValType.F64:
      return `f64 ${buf.getFloat64(0, true)}`;
    case ValType.FuncRef:
    case ValType.ExternRef:
      return lo === 0 ? 'ref null' : `ref ${lo - 1}`;
    default: // operand stack slots carry no type here: show both readings
      return `i32 ${lo} / i64 ${buf.getBigInt64(0, true)}`;
  }
}

export function hexdump(bytes: Uint8Array, base: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + i).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines;
}
