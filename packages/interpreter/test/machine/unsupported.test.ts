import { Machine, MalformedError, ValidationError } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

test('SIMD modules are accepted now; a bad lane index is invalid, an unknown 0xFD opcode malformed', () => {
  // (module (func (result v128) v128.const i32x4 0 0 0 0)) — assembled by hand
  const module = (body: number[]) => Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: [] -> [v128]
    0x03, 0x02, 0x01, 0x00,
    0x0a, body.length + 4, 0x01, body.length + 2, 0x00, ...body, 0x0b,
  ]);
  const zero = [0xfd, 0x0c, ...new Array(16).fill(0)];
  expect(() => Machine.compile(module(zero))).not.toThrow();
  // i8x16.extract_lane_u 16 (lanes are 0..15), then i8x16.splat to return a v128
  expect(() => Machine.compile(module([...zero, 0xfd, 0x16, 16, 0xfd, 0x0f]))).toThrow(ValidationError);
  expect(() => Machine.compile(module([...zero, 0xfd, 0x16, 16, 0xfd, 0x0f]))).toThrow(/invalid lane index/);
  // 0xFD 0x9A is unassigned
  expect(() => Machine.compile(module([...zero, 0xfd, 0x9a, 0x01]))).toThrow(MalformedError);
});

test('malformed and invalid modules name the rule, the function and the offset', async () => {
  expect(() => Machine.compile(Uint8Array.from([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]))).toThrow(MalformedError);
  const invalid = await wat('(module (func $f (result i32) (i64.const 1)))');
  let err: unknown;
  try {
    Machine.compile(invalid);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as Error).message).toMatch(/^in function 0: type mismatch: expected i32, got i64 \(at byte 0x[0-9a-f]+\)$/);
});
