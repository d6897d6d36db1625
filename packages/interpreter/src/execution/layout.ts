/**
 * How a 64-bit value slot sits in the stack's (and the globals') Int32Array.
 *
 * Every value occupies one 8-byte slot holding it as a native 64-bit quantity, so that
 * the Float64Array view over the same buffer reads f64 slots directly. An i32 (and an
 * f32's bits) is the low half of that quantity; an i64 is the low word plus the high word.
 * Slot k's low word is at index 2k + LO and its high word at (low word index) + HI:
 * LO = 0, HI = +1 on little-endian hosts; LO = 1, HI = -1 on big-endian ones.
 * Snapshots store slots as (low, high) pairs, so they read the same on every host.
 */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
export const LO = LITTLE_ENDIAN_HOST ? 0 : 1;
export const HI = LITTLE_ENDIAN_HOST ? 1 : -1;
