/** Test fixtures from WebAssembly text, through the wabt package (wabt.js). */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const wabtInit: () => Promise<any> = require('wabt');

let wabt: any;

export async function wat(text: string): Promise<Uint8Array> {
  wabt ??= await wabtInit();
  const mod = wabt.parseWat('test.wat', text, {
    bulk_memory: true,
    reference_types: true,
    multi_value: true,
    sign_extension: true,
    sat_float_to_int: true,
    mutable_globals: true,
  });
  try {
    return new Uint8Array(mod.toBinary({ write_debug_names: true }).buffer);
  } finally {
    mod.destroy();
  }
}
