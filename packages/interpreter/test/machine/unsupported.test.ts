import { Machine, MalformedError, UnsupportedFeatureError, ValidationError } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

test('a module with SIMD is refused with a clear unsupported-feature error', () => {
  // (module (func (result v128) v128.const i32x4 0 0 0 0)) — assembled by hand: wabt needs --enable-simd
  const bytes = Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: [] -> [v128]
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b,
  ]);
  expect(() => Machine.compile(bytes)).toThrow(UnsupportedFeatureError);
  expect(() => Machine.compile(bytes)).toThrow(/unsupported feature: SIMD/);
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
