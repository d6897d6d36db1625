/**
 * i64 in the JS tier (src/execution/js-tier.ts): the tier computes i64 on two int32 words
 * and specialises shifts, rotates and multiplications by an i64.const pushed just before.
 * Every edge of those (counts 0, 31, 32, 33, 63, 64 and beyond, constants with high bits
 * set, zero words, negative values, carries) gives under `eager` what the interpreter gives
 * and what BigInt arithmetic gives.
 */
import { Machine, Tier } from '../../src';
import { wat } from '../helpers/wat';

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => x & M64;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);

type Op = 'shl' | 'shr_s' | 'shr_u' | 'rotl' | 'rotr' | 'mul' | 'add' | 'sub';

/** The wasm result of `a op b`, by BigInt (as a signed i64, as `invoke` returns it). */
function reference(op: Op, a: bigint, b: bigint): bigint {
  const k = u64(b) & 63n;
  const x = u64(a);
  switch (op) {
    case 'shl': return s64(x << k);
    case 'shr_s': return s64(s64(x) >> k);
    case 'shr_u': return s64(x >> k);
    case 'rotl': return s64((x << k) | (x >> ((64n - k) & 63n)));
    case 'rotr': return s64((x >> k) | (x << ((64n - k) & 63n)));
    case 'mul': return s64(x * u64(b));
    case 'add': return s64(x + u64(b));
    case 'sub': return s64(x - u64(b));
  }
}

const VALUES: bigint[] = [
  0n, 1n, -1n, 2n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x1ffffffffn, -0x80000000n, -0x100000000n,
  0x7fffffffffffffffn, -0x8000000000000000n, 0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x0123456789abcdefn,
  -0x0123456789abcdefn, 0xdeadbeef00000000n, 0x00000000deadbeefn, 0x8000000080000000n, 0xffff0000ffff0000n,
].map(s64);

const COUNTS: bigint[] = [0n, 1n, 7n, 31n, 32n, 33n, 63n, 64n, 65n, 95n, 96n, 127n, 0x100000020n, -1n, -32n, -33n];
const SHIFTS: Op[] = ['shl', 'shr_s', 'shr_u', 'rotl', 'rotr'];

// Per operation: `v_<op>` with the count (or factor) a parameter, and `c_<op>_<i>` with it
// an i64.const just before the operation (what the tier specialises).
const CASES: [Op, bigint[]][] = [...SHIFTS.map((op): [Op, bigint[]] => [op, COUNTS]), ['mul', VALUES], ['add', VALUES], ['sub', VALUES]];
// The run loop enters compiled code after a transfer: each function loops twice first.
const TWICE = '(local $i i32) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 2))))';
let funcs = '';
for (const [op, constants] of CASES) {
  funcs += `(func (export "v_${op}") (param i64 i64) (result i64) ${TWICE} (i64.${op} (local.get 0) (local.get 1)))\n`;
  constants.forEach((c, i) => {
    funcs += `(func (export "c_${op}_${i}") (param i64) (result i64) ${TWICE} (i64.${op} (local.get 0) (i64.const ${c})))\n`;
  });
}
// Words compared inside compiled code (not only written to the frame, which wraps them):
// the high word of -1 shifted right unsigned by 32..63 must be the int32 -1.
funcs += `(func (export "shr_u_eq") (param i64 i64) (result i32) ${TWICE}
  (i64.eq (i64.shr_u (local.get 0) (local.get 1)) (i64.shr_u (i64.const -1) (i64.const 32))))
(func (export "shr_u32_eq") (param i64) (result i32) ${TWICE}
  (i64.eq (i64.shr_u (local.get 0) (i64.const 32)) (i64.const 0xffffffff)))
(func (export "shr_u40_lt") (param i64) (result i32) ${TWICE}
  (i64.lt_u (i64.const 0) (i64.shr_u (local.get 0) (i64.const 40))))
(func (export "mul_eq") (param i64 i64) (result i32) ${TWICE}
  (i64.eq (i64.mul (local.get 0) (i64.const 0x9e3779b185ebca87)) (local.get 1)))
`;
const COMPARISONS: [string, (x: bigint, y: bigint) => boolean][] = [
  ['eq', (x, y) => x === y], ['ne', (x, y) => x !== y],
  ['lt_s', (x, y) => x < y], ['lt_u', (x, y) => u64(x) < u64(y)], ['gt_s', (x, y) => x > y], ['gt_u', (x, y) => u64(x) > u64(y)],
  ['le_s', (x, y) => x <= y], ['le_u', (x, y) => u64(x) <= u64(y)], ['ge_s', (x, y) => x >= y], ['ge_u', (x, y) => u64(x) >= u64(y)],
];
for (const [op] of COMPARISONS) {
  funcs += `(func (export "${op}") (param i64 i64) (result i32) ${TWICE} (i64.${op} (local.get 0) (local.get 1)))\n`;
}
// Division: dividends and divisors around 2^53 (where the tier's doubles stop), by a
// parameter and by constants.
const DIVISORS: bigint[] = [1n, -1n, 2n, 3n, 7n, 10n, -10n, 0x7fffffffn, 0x100000000n, (1n << 53n) - 1n, 1n << 53n, -(1n << 53n), 0x9e3779b185ebca87n, -0x8000000000000000n, 0n].map(s64);
const DIVISIONS = ['div_s', 'div_u', 'rem_s', 'rem_u'];
for (const op of DIVISIONS) {
  funcs += `(func (export "v_${op}") (param i64 i64) (result i64) ${TWICE} (i64.${op} (local.get 0) (local.get 1)))\n`;
  DIVISORS.forEach((c, i) => {
    funcs += `(func (export "c_${op}_${i}") (param i64) (result i64) ${TWICE} (i64.${op} (local.get 0) (i64.const ${c})))\n`;
  });
}
for (const op of ['clz', 'ctz', 'popcnt']) funcs += `(func (export "${op}") (param i64) (result i64) ${TWICE} (i64.${op} (local.get 0)))\n`;
funcs += `(func (export "eqz") (param i64) (result i32) ${TWICE} (i64.eqz (local.get 0)))\n`;
const MODULE = `(module\n${funcs})`;

async function machines(): Promise<Record<Tier, Machine>> {
  const bytes = await wat(MODULE);
  const out: Partial<Record<Tier, Machine>> = {};
  for (const tier of ['interpreter', 'eager'] as Tier[]) out[tier] = await Machine.instantiate(bytes, {}, { tier });
  return out as Record<Tier, Machine>;
}

const compiled = (m: Machine): number => m.instance.compiled.functions.filter((f) => f.jit !== null).length;

describe('i64 in the JS tier: results of the interpreter and of BigInt', () => {
  let m: Record<Tier, Machine>;
  beforeAll(async () => {
    m = await machines();
  });

  test.each(CASES.map(([op, constants]) => [op, constants] as [Op, bigint[]]))('%s, the count or factor a constant and a variable', (op, constants) => {
    let checked = 0;
    for (const a of VALUES) {
      constants.forEach((c, i) => {
        const expected = reference(op, a, c);
        for (const tier of ['interpreter', 'eager'] as Tier[]) {
          expect([tier, a, c, m[tier].invoke(`c_${op}_${i}`, [a])]).toEqual([tier, a, c, [expected]]);
          expect([tier, a, c, m[tier].invoke(`v_${op}`, [a, c])]).toEqual([tier, a, c, [expected]]);
          checked++;
        }
      });
    }
    expect(checked).toBe(2 * VALUES.length * constants.length);
    // The functions ran compiled (eager compiles each on its first call).
    expect(compiled(m.eager)).toBeGreaterThanOrEqual(constants.length + 1);
    expect(compiled(m.interpreter)).toBe(0);
  });

  test('words compared inside compiled code are int32 words (shr_u by 32..63 of negative values)', () => {
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      for (let k = 32n; k < 64n; k++) {
        const expected = reference('shr_u', -1n, k) === reference('shr_u', -1n, 32n) ? 1 : 0;
        expect([tier, k, m[tier].invoke('shr_u_eq', [-1n, k])]).toEqual([tier, k, [expected]]);
      }
      expect([tier, m[tier].invoke('shr_u32_eq', [-1n])]).toEqual([tier, [1]]);
      expect([tier, m[tier].invoke('shr_u32_eq', [0x7fffffffffffffffn])]).toEqual([tier, [0]]);
      expect([tier, m[tier].invoke('shr_u40_lt', [-1n])]).toEqual([tier, [1]]);
      expect([tier, m[tier].invoke('shr_u40_lt', [0xffffffffffn])]).toEqual([tier, [0]]);
      for (const a of VALUES) {
        const p = reference('mul', a, 0x9e3779b185ebca87n);
        expect([tier, a, m[tier].invoke('mul_eq', [a, p])]).toEqual([tier, a, [1]]);
        expect([tier, a, m[tier].invoke('mul_eq', [a, p ^ 1n])]).toEqual([tier, a, [0]]);
      }
    }
  });

  test.each(COMPARISONS)('i64.%s of every pair of values (equal words, equal high words, signs)', (op, holds) => {
    // Pairs whose high words are equal and low words differ in sign, and the reverse.
    const values = [...VALUES, ...VALUES.map((v) => s64(v ^ 0x80000000n)), ...VALUES.map((v) => s64(v ^ (1n << 63n)))];
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      for (const x of values) {
        for (const y of values) expect([tier, x, y, m[tier].invoke(op, [x, y])]).toEqual([tier, x, y, [holds(x, y) ? 1 : 0]]);
      }
      for (const x of values) expect([tier, x, m[tier].invoke('eqz', [x])]).toEqual([tier, x, [x === 0n ? 1 : 0]]);
    }
  });

  test('clz, ctz and popcnt of every value and of single bits', () => {
    const bits = (x: bigint): string => u64(x).toString(2).padStart(64, '0');
    const values = [...VALUES, ...Array.from({ length: 64 }, (_, i) => s64(1n << BigInt(i)))];
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      for (const x of values) {
        const b = bits(x);
        const clz = b.indexOf('1') < 0 ? 64 : b.indexOf('1');
        const ctz = b.lastIndexOf('1') < 0 ? 64 : 63 - b.lastIndexOf('1');
        const popcnt = b.split('').filter((c) => c === '1').length;
        expect([tier, x, m[tier].invoke('clz', [x]), m[tier].invoke('ctz', [x]), m[tier].invoke('popcnt', [x])])
          .toEqual([tier, x, [BigInt(clz)], [BigInt(ctz)], [BigInt(popcnt)]]);
      }
    }
  });

  test.each(DIVISIONS)('i64.%s by a parameter and by constants, below and beyond 2^53, traps included', (op) => {
    const dividends = [...VALUES, (1n << 53n) - 1n, 1n << 53n, -(1n << 53n), -(1n << 53n) - 1n, 1234567890123n, -1234567890123n];
    const signed = op.endsWith('_s');
    const expected = (x: bigint, y: bigint): bigint | string => {
      if (y === 0n) return 'trap';
      const [a, b] = signed ? [x, y] : [u64(x), u64(y)];
      if (op === 'div_s' && a === -(1n << 63n) && b === -1n) return 'trap';
      return s64(op.startsWith('div') ? a / b : a % b); // BigInt: truncating, as wasm
    };
    const outcome = (mm: Machine, fn: string, args: bigint[]): unknown => {
      try {
        return mm.invoke(fn, args)[0];
      } catch (e) {
        return /integer (divide by zero|overflow)/.test((e as Error).message) ? 'trap' : e;
      }
    };
    let traps = 0;
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      for (const x of dividends) {
        DIVISORS.forEach((y, i) => {
          const want = expected(x, y);
          if (want === 'trap') traps++;
          expect([tier, x, y, outcome(m[tier], `c_${op}_${i}`, [x])]).toEqual([tier, x, y, want]);
          expect([tier, x, y, outcome(m[tier], `v_${op}`, [x, y])]).toEqual([tier, x, y, want]);
        });
      }
    }
    expect(traps).toBeGreaterThanOrEqual(2 * dividends.length);
  });

  test('mul of random words: the double high word is exact everywhere', () => {
    // A deterministic stream (xorshift) of products whose low words are near 2^32 boundaries too.
    let s = 0x2545f4914f6cdd1dn;
    const next = (): bigint => {
      s ^= u64(s << 13n);
      s ^= s >> 7n;
      s ^= u64(s << 17n);
      return s64(s);
    };
    let n = 0;
    for (let i = 0; i < 3000; i++) {
      const a = i % 3 === 0 ? next() | 0xffffffffn : next();
      const b = i % 5 === 0 ? s64(next() | 0xffff0000n) : next();
      const expected = reference('mul', a, b);
      expect([a, b, m.eager.invoke('v_mul', [a, b])]).toEqual([a, b, [expected]]);
      n++;
    }
    expect(n).toBe(3000);
  });
});
