/**
 * 32-bit integer arrays travel as little-endian bytes, whatever the host's byte order,
 * so a snapshot taken on x86-64 restores on a big-endian host. On little-endian hosts
 * (nearly all) this is a plain copy.
 */
const HOST_IS_LE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

export function int32ToLE(a: Int32Array | Uint32Array): Uint8Array {
  if (HOST_IS_LE) return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setUint32(4 * i, a[i] >>> 0, true);
  return out;
}

/** The caller has checked that `bytes.length` is a multiple of 4. */
export function int32FromLE(bytes: Uint8Array): Int32Array {
  const out = new Int32Array(bytes.length / 4);
  if (HOST_IS_LE) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
  return out;
}

export function uint32FromLE(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(int32FromLE(bytes).buffer);
}
