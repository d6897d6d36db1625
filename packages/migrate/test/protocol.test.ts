/**
 * The wire protocol alone: frames (CRC-32 against zlib's, damage detected, sizes refused
 * before allocation), control messages (zod: unknown fields and wrong shapes refused), the
 * HMAC handshake (wrong tokens and a missing token refused on both sides).
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  Channel,
  FRAME_LIMITS,
  FrameReader,
  HANDSHAKE_LIMITS,
  FrameType,
  ProtocolError,
  decodeMessage,
  decodePages,
  encodeFrame,
  encodeMessage,
  encodePages,
  handshakeAsSource,
  handshakeAsTarget,
} from '../src/protocol';
import { crc32 } from '@mvvm/snapshot';
import { nodeCrypto } from '../src/net';

test('CRC-32 (slicing-by-8) equals zlib on every length 0..300 and a 1 MiB buffer at odd offsets', () => {
  const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 2654435761) >>> 24);
  for (let n = 0; n <= 300; n++) expect(crc32(bytes.subarray(3, 3 + n))).toBe(zlibCrc32(bytes.subarray(3, 3 + n)));
  expect(crc32(bytes.subarray(1))).toBe(zlibCrc32(bytes.subarray(1)));
});

test('frames cut at every byte boundary reassemble; any flipped bit is refused', () => {
  const frames = [encodeMessage(FrameType.Ready, { id: 'a'.repeat(32) }), encodeFrame(FrameType.Module, new Uint8Array(1000).fill(7))];
  const stream = new Uint8Array(frames[0].length + frames[1].length);
  stream.set(frames[0]);
  stream.set(frames[1], frames[0].length);
  for (let cut = 0; cut <= stream.length; cut += 37) {
    const r = new FrameReader();
    const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
    expect(got.map((f) => f.type)).toEqual([FrameType.Ready, FrameType.Module]);
    expect(got[1].payload.length).toBe(1000);
  }
  for (const at of [0, 2, 7, 30, stream.length - 1]) {
    const damaged = stream.slice();
    damaged[at] ^= 0x10;
    expect(() => new FrameReader().push(damaged)).toThrow(ProtocolError);
  }
});

test('a length over the type limit is refused from the 5-byte head, before any allocation', () => {
  const head = new Uint8Array([FrameType.Hello, 0, 0, 0, 0x7f]); // 2 GiB announced
  expect(() => new FrameReader().push(head)).toThrow(/over its limit/);
  const pages = new Uint8Array([FrameType.Pages, 0xff, 0xff, 0xff, 0xff]);
  expect(() => new FrameReader().push(pages)).toThrow(/over its limit/);
  expect(() => new FrameReader().push(new Uint8Array([99, 0, 0, 0, 0]))).toThrow(/unknown frame type/);
  expect(() => encodeFrame(FrameType.Ready, new Uint8Array(FRAME_LIMITS[FrameType.Ready] + 1))).toThrow(ProtocolError);
});

test('control messages: unknown fields, wrong types and wrong frame types are refused', () => {
  const raw = (type: FrameType, v: unknown) => new FrameReader().push(encodeFrame(type, new TextEncoder().encode(JSON.stringify(v))))[0];
  expect(decodeMessage(raw(FrameType.Exit, { code: 3 }), FrameType.Exit)).toEqual({ code: 3 });
  expect(() => decodeMessage(raw(FrameType.Exit, { code: 3, extra: 1 }), FrameType.Exit)).toThrow(/does not match/);
  expect(() => decodeMessage(raw(FrameType.Exit, { code: '3' }), FrameType.Exit)).toThrow(/does not match/);
  expect(() => decodeMessage(raw(FrameType.Exit, { code: 3 }), FrameType.Ready)).toThrow(/expected Ready/);
  expect(() => decodeMessage(raw(FrameType.Refuse, { reason: 'no room' }), FrameType.Ready)).toThrow(/the peer gave up: no room/);
});

test('a Pages frame writing past the memory it announces is refused', () => {
  const mem = new Uint8Array(4 * 65536).fill(1);
  const ok = new FrameReader().push(encodePages(0, 4, mem, [0, 3], 0, 2))[0];
  const seen: number[] = [];
  decodePages(ok.payload).forEach((p, b) => seen.push(p, b.length));
  expect(seen).toEqual([0, 65536, 3, 65536]);
  const bad = new FrameReader().push(encodePages(0, 2, mem, [3], 0, 1))[0];
  expect(() => decodePages(bad.payload)).toThrow(/page 3 of a 2-page memory/);
});

/** Two channels joined back to back (in memory). */
function pair(): [Channel, Channel] {
  let a: Channel;
  let b: Channel;
  const t = (other: () => Channel) => ({ write: (x: Uint8Array) => queueMicrotask(() => other().receive(x.slice())), bufferedAmount: 0, close: () => other().fail(), destroy: () => other().fail() });
  a = new Channel(t(() => b), 'b');
  b = new Channel(t(() => a), 'a');
  return [a, b];
}

const enc = (s: string) => new TextEncoder().encode(s);

test('handshake: the same token passes; a wrong token or a missing one fails on both sides', async () => {
  const run = async (source: string | null, target: string | null) => {
    const [s, t] = pair();
    const o = (k: string | null) => ({ secret: k === null ? null : enc(k), crypto: nodeCrypto, timeoutMs: 2000 });
    return Promise.allSettled([handshakeAsSource(s, o(source)), handshakeAsTarget(t, o(target))]);
  };
  expect((await run('token-one-1', 'token-one-1')).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  const wrong = await run('token-one-1', 'token-two-2');
  expect(wrong[0].status).toBe('rejected');
  expect(String((wrong[0] as PromiseRejectedResult).reason.message)).toMatch(/failed authentication/);
  const none = await run(null, 'token-two-2');
  expect(none.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(String((none[1] as PromiseRejectedResult).reason.message)).toMatch(/requires authentication/);
  const other = await run('token-one-1', null);
  expect(other[0].status).toBe('rejected');
  expect((await run(null, null)).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
});

test('before the handshake ends only handshake frames are taken: a bulk frame header is refused before its body is allocated', async () => {
  const [s, t] = pair();
  const head = new Uint8Array(5);
  head[0] = FrameType.State;
  new DataView(head.buffer).setUint32(1, 200 * 1024 * 1024, true); // within State's limit, announced by nobody authenticated
  const spy = jest.spyOn(globalThis, 'Uint8Array');
  t.receive(head);
  const sizes = (spy.mock.calls as unknown[][]).map((c) => c[0]).filter((n): n is number => typeof n === 'number');
  spy.mockRestore();
  expect(sizes.every((n) => n < 1024 * 1024)).toBe(true);
  await expect(t.next(100)).rejects.toThrow(/State frame before the handshake ended/);
  void s;
});

test('frames that follow AuthOk in the same chunk are kept until the reader is opened, then delivered', () => {
  const r = new FrameReader(HANDSHAKE_LIMITS, true);
  const ok = encodeMessage(FrameType.AuthOk, {});
  const want = encodeMessage(FrameType.ModuleWant, { send: true });
  const chunk = new Uint8Array(ok.length + want.length);
  chunk.set(ok, 0);
  chunk.set(want, ok.length);
  expect(r.push(chunk).map((f) => f.type)).toEqual([FrameType.AuthOk]);
  expect(r.open().map((f) => f.type)).toEqual([FrameType.ModuleWant]);
  // without the handshake phase the same chunk is two frames at once
  expect(new FrameReader().push(chunk).map((f) => f.type)).toEqual([FrameType.AuthOk, FrameType.ModuleWant]);
});
