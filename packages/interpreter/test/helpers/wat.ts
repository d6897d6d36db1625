/** Test fixtures from WebAssembly text, through the wabt package (wabt.js): the one place that loads it. */

/** The parts of wabt.js the tests use. */
export interface Wabt {
  parseWat(
    filename: string,
    buffer: string | Uint8Array,
    options?: Record<string, boolean>,
  ): { toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
}

/** The WebAssembly 2.0 feature set (SIMD aside). */
export const WABT_FEATURES = {
  bulk_memory: true,
  reference_types: true,
  multi_value: true,
  sign_extension: true,
  sat_float_to_int: true,
  mutable_globals: true,
};

let wabtPromise: Promise<Wabt> | undefined;

/** Loads wabt.js once per process. */
export function loadWabt(): Promise<Wabt> {
  if (!wabtPromise) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const factory = require('wabt') as () => Promise<Wabt>;
    wabtPromise = factory();
  }
  return wabtPromise;
}

/** Assembles module text to binary with a loaded wabt (debug names on). */
export function assemble(wabt: Wabt, text: string | Uint8Array, features: Record<string, boolean> = WABT_FEATURES, filename = 'test.wat'): Uint8Array {
  const mod = wabt.parseWat(filename, text, features);
  try {
    // Copy: the buffer may be a view into wabt's heap.
    return Uint8Array.from(mod.toBinary({ write_debug_names: true }).buffer);
  } finally {
    mod.destroy();
  }
}

export async function wat(text: string): Promise<Uint8Array> {
  return assemble(await loadWabt(), text);
}
