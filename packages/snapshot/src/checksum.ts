/**
 * Digests used by the format: CRC-32 for the small header (sync, no dependencies) and
 * SHA-256 for module identity and the body: WebCrypto where the host has it (native speed in
 * Node 19+ and in browsers), a plain-JS implementation elsewhere (Node 18).
 */

/** Slicing-by-8 tables: CRC_TABLES[k * 256 + b] is the CRC of byte b followed by k zero bytes. */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();

/**
 * CRC-32 (IEEE 802.3, as in zlib and PNG), eight bytes a step (slicing-by-8, ~1 GB/s in
 * V8): cheap enough to check every migration frame. `crc` continues a previous result.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const T = CRC_TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)] ^
      T[768 + bytes[i + 4]] ^ T[512 + bytes[i + 5]] ^ T[256 + bytes[i + 6]] ^ T[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;
const SUM_PAGE = 65536;
/** Held here: a global looked up in the loop is slow where globals are a proxy (vm contexts, as under jest). */
const imul = Math.imul;
/** Where a page that does not start at a multiple of 4 bytes is copied to be read as words. */
let scratch: Int32Array | undefined;
const HOST_IS_LE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The page as little-endian 32-bit words: a view where it can be one, else a copy in `scratch`. */
function pageWords(page: Uint8Array): Int32Array {
  if (page.length !== SUM_PAGE) throw new RangeError(`pageChecksum: ${page.length} bytes, a page has ${SUM_PAGE}`);
  if (HOST_IS_LE && (page.byteOffset & 3) === 0) return new Int32Array(page.buffer, page.byteOffset, SUM_PAGE / 4);
  const w = (scratch ??= new Int32Array(SUM_PAGE / 4));
  if (HOST_IS_LE) new Uint8Array(w.buffer).set(page);
  else {
    const dv = new DataView(page.buffer, page.byteOffset, SUM_PAGE); // the words are little-endian on every host
    for (let i = 0; i < w.length; i++) w[i] = dv.getInt32(4 * i, true);
  }
  return w;
}

/**
 * The checksum of one 64 KiB memory page in a snapshot (format version 2): xxHash32's round
 * over four lanes of 32-bit words, then its avalanche. Not cryptographic (the page sums are
 * covered by the body's SHA-256, which the snapshot id covers): it catches damage, at
 * several GB/s in V8, where CRC-32 manages ~1 and SHA-256 ~0.6. With `copyTo` (64 KiB),
 * the page is copied there in the same pass: one read of memory for both jobs.
 */
export function pageChecksum(page: Uint8Array, copyTo?: Uint8Array): number {
  const w = pageWords(page);
  let to = w;
  if (copyTo) {
    if (copyTo.length !== SUM_PAGE) throw new RangeError(`pageChecksum: a copy of ${copyTo.length} bytes, a page has ${SUM_PAGE}`);
    if (HOST_IS_LE && (copyTo.byteOffset & 3) === 0 && w !== scratch) to = new Int32Array(copyTo.buffer, copyTo.byteOffset, SUM_PAGE / 4);
    else copyTo.set(page);
  }
  let a = P1;
  let b = P2;
  let c = P3;
  let d = 0x165667b1;
  for (let i = 0; i < SUM_PAGE / 4; i += 4) {
    const x0 = w[i];
    const x1 = w[i + 1];
    const x2 = w[i + 2];
    const x3 = w[i + 3];
    to[i] = x0;
    to[i + 1] = x1;
    to[i + 2] = x2;
    to[i + 3] = x3;
    a = imul(a + imul(x0, P2), P1);
    a = (a << 13) | (a >>> 19);
    b = imul(b + imul(x1, P2), P1);
    b = (b << 13) | (b >>> 19);
    c = imul(c + imul(x2, P2), P1);
    c = (c << 13) | (c >>> 19);
    d = imul(d + imul(x3, P2), P1);
    d = (d << 13) | (d >>> 19);
  }
  let h = ((a << 1) | (a >>> 31)) + ((b << 7) | (b >>> 25)) + ((c << 12) | (c >>> 20)) + ((d << 18) | (d >>> 14));
  h = imul(h ^ (h >>> 15), P2);
  h = imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/** SHA-256 through WebCrypto where the host has it (browsers, Node 19+), else sha256Js. */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return sha256Js(bytes);
  return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * SHA-256 (FIPS 180-4) in plain JavaScript, for hosts without WebCrypto (Node 18 has it
 * only as node:crypto's, which this browser-safe package does not import). The same
 * digest, at ~40 MB/s instead of native speed.
 */
export function sha256Js(bytes: Uint8Array): Uint8Array {
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  // The message, its 0x80 terminator, zero padding and the 64-bit bit length, block by block.
  const tailLength = ((bytes.length + 9 + 63) & ~63) - (bytes.length & ~63);
  const tail = new Uint8Array(tailLength);
  tail.set(bytes.subarray(bytes.length & ~63));
  tail[bytes.length & 63] = 0x80;
  const bits = bytes.length * 8;
  const dv = new DataView(tail.buffer);
  dv.setUint32(tailLength - 8, Math.floor(bits / 0x100000000));
  dv.setUint32(tailLength - 4, bits >>> 0);
  const full = bytes.length & ~63;
  for (let block = 0; block < full + tailLength; block += 64) {
    const src = block < full ? bytes : tail;
    const at = block < full ? block : block - full;
    for (let i = 0; i < 16; i++) {
      const p = at + 4 * i;
      w[i] = (src[p] << 24) | (src[p + 1] << 16) | (src[p + 2] << 8) | src[p + 3];
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  const out = new Uint8Array(32);
  const odv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) odv.setUint32(4 * i, h[i]);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
