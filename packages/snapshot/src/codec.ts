/**
 * Body compression: zlib's deflate format (RFC 1950), so that the browser's
 * CompressionStream('deflate') and Node's zlib read each other's output. The default
 * codec uses CompressionStream; node.ts offers a faster one over node:zlib.
 */
import { CorruptSnapshotError } from './errors';

export interface Codec {
  compress(bytes: Uint8Array): Promise<Uint8Array>;
  /** Inflates; throws CorruptSnapshotError if the result is not exactly `size` bytes. */
  decompress(bytes: Uint8Array, size: number): Promise<Uint8Array>;
}

async function pipe(bytes: Uint8Array, stream: TransformStream<Uint8Array, Uint8Array>, limit: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  const written = writer.write(bytes).then(() => writer.close());
  written.catch(() => undefined); // the reader reports the error
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new CorruptSnapshotError('snapshot body inflates beyond its declared size');
    }
    chunks.push(value);
  }
  await written;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const streamCodec: Codec = {
  compress: (bytes) => pipe(bytes, new CompressionStream('deflate') as unknown as TransformStream<Uint8Array, Uint8Array>, Infinity),
  async decompress(bytes, size) {
    let out: Uint8Array;
    try {
      out = await pipe(bytes, new DecompressionStream('deflate') as unknown as TransformStream<Uint8Array, Uint8Array>, size);
    } catch (e) {
      if (e instanceof CorruptSnapshotError) throw e;
      throw new CorruptSnapshotError(`snapshot body does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== size) throw new CorruptSnapshotError(`snapshot body inflates to ${out.length} bytes, the header says ${size}`);
    return out;
  },
};
