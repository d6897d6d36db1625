/** The `spectest` host module every spec test script may import from, created per store. */
import { hostFunction, Store } from '@mvvm/interpreter';

function f32Bits(x: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  return dv.getUint32(0, true);
}

function f64Bits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return dv.getBigUint64(0, true);
}

type ValTypeName = 'i32' | 'i64' | 'f32' | 'f64' | 'funcref' | 'externref';

export function makeSpectest(store: Store) {
  const print = (params: ValTypeName[]) => hostFunction({ params, results: [] }, () => []);
  return {
    print: print([]),
    print_i32: print(['i32']),
    print_i64: print(['i64']),
    print_f32: print(['f32']),
    print_f64: print(['f64']),
    print_i32_f32: print(['i32', 'f32']),
    print_f64_f64: print(['f64', 'f64']),
    global_i32: store.createGlobal('i32', false, { type: 'i32', bits: 666 }),
    global_i64: store.createGlobal('i64', false, { type: 'i64', bits: 666n }),
    global_f32: store.createGlobal('f32', false, { type: 'f32', bits: f32Bits(666.6) }),
    global_f64: store.createGlobal('f64', false, { type: 'f64', bits: f64Bits(666.6) }),
    table: store.createTable('funcref', 10, 20),
    memory: store.createMemory(1, 2),
  };
}
