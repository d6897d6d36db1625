import { MalformedError } from '../errors';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A cursor over module bytes with the binary format's primitive readers. Every read
 * checks bounds and LEB128 well-formedness and throws MalformedError with the offset.
 */
export class ByteReader {
  pos: number;

  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }

  get eof(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, at = this.pos): never {
    throw new MalformedError(message, at);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos++];
  }

  peekU8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos];
  }

  /** Unsigned LEB128 of at most `bits` bits (32 by default), as a non-negative number. */
  u32(): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4) {
        // The 5th byte may only carry the top 4 bits, with no continuation.
        if (b & 0x80) this.fail('integer representation too long', start);
        if (b & 0x70) this.fail('integer too large', start);
      }
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
    return this.fail('integer representation too long', start);
  }

  /** Signed LEB128 of 32 bits, as an int32 number. */
  s32(): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail('integer representation too long', start);
        // The unused high bits must be a sign extension of bit 31 (bit 3 of this byte).
        const top = b & 0x78;
        if (top !== 0 && top !== 0x78) this.fail('integer too large', start);
        return (result | (b << 28)) | 0;
      }
      result |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) {
        if (shift < 32 && b & 0x40) result |= -1 << shift;
        return result | 0;
      }
    }
    return this.fail('integer representation too long', start);
  }

  /** Signed LEB128 of 64 bits, as [lo, hi] int32 words (no BigInt on the load path). */
  s64(): [number, number] {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      const payload = b & 0x7f;
      if (i === 9) {
        if (b & 0x80) this.fail('integer representation too long', start);
        // Only bit 63 remains: the rest of the byte must sign-extend it.
        if (payload !== 0 && payload !== 0x7f) this.fail('integer too large', start);
        hi |= payload << 31;
        return [lo | 0, hi | 0];
      }
      if (shift < 28) {
        lo |= payload << shift;
      } else if (shift === 28) {
        lo |= payload << 28; // low 4 bits land in lo, the rest in hi
        hi |= payload >>> 4;
      } else {
        hi |= payload << (shift - 32);
      }
      shift += 7;
      if ((b & 0x80) === 0) {
        if (b & 0x40) {
          // sign-extend from bit `shift`
          if (shift < 32) {
            lo |= -1 << shift;
            hi = -1;
          } else if (shift < 64) {
            hi |= -1 << (shift - 32);
          }
        }
        return [lo | 0, hi | 0];
      }
    }
    return this.fail('integer representation too long', start);
  }

  /** Signed 33-bit LEB128 (block types): returns the value as a JS number. */
  s33(): number {
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4) {
        if (b & 0x80) this.fail('integer representation too long', start);
        const top = b & 0x70; // bits 28..32 of the 33-bit value: bit 32 is the sign
        if (top !== 0 && top !== 0x70) this.fail('integer too large', start);
      }
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= mul;
        return result;
      }
    }
    return this.fail('integer representation too long', start);
  }

  /** Four raw bytes, little-endian, as an int32 (float bits are never converted). */
  fixed32(): number {
    if (this.pos + 4 > this.end) this.fail('unexpected end');
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
  }

  bytesN(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail('unexpected end');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length-prefixed UTF-8 name; invalid UTF-8 is malformed. */
  name(): string {
    const len = this.u32();
    const start = this.pos;
    const raw = this.bytesN(len);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('malformed UTF-8 encoding', start);
    }
  }
}
