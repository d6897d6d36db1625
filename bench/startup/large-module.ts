/**
 * A large WASI module, generated (deterministically) rather than vendored: as many
 * functions as a big real program (yosys has 34,004 in 30.8 MB), bodies shaped like
 * compiled C (locals, loads/stores, nested blocks, loops, br_table, calls, f64 maths), all
 * in one table for call_indirect. `_start` calls only the first `called` functions, prints
 * "large: <checksum>\n" and returns, so running it measures start-up, not work.
 *
 * Used by the bench's start-up section and (at a small size) by the lazy-translation tests.
 */

import { s32 as sleb, u32 as uleb } from '../leb128';

export interface LargeModuleOptions {
  functions: number;
  /** How many of them `_start` calls (the rest are never run). */
  called: number;
  /** Statements per function body (about 20 bytes each). */
  statements?: number;
  seed?: number;
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/** Appends a section (id, size, body) to out, without building one huge intermediate array. */
function section(out: Chunks, id: number, body: Chunks): void {
  out.push([id, ...uleb(body.length)]);
  for (const c of body.parts) out.push(c);
}

/** Byte chunks with a running length (the code section is tens of MB). */
class Chunks {
  parts: Uint8Array[] = [];
  length = 0;
  push(bytes: number[] | Uint8Array): void {
    const u = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    this.parts.push(u);
    this.length += u.length;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// Opcodes used below.
const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22, I32_CONST = 0x41;
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, BR_TABLE = 0x0e;
const CALL = 0x10, DROP = 0x1a;

export function largeModule(o: LargeModuleOptions): Uint8Array {
  const statements = o.statements ?? 40;
  let seed = o.seed ?? 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const nFuncs = o.functions;
  const IMPORTS = 2; // fd_write, proc_exit
  const first = IMPORTS; // function index of generated function 0
  const start = IMPORTS + nFuncs;

  // Types: 0 (i32 i32)->i32, 1 fd_write (i32 i32 i32 i32)->i32, 2 proc_exit (i32)->(), 3 ()->()
  const types = [
    [0x60, ...vec([[I32], [I32]]), ...vec([[I32]])],
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])],
    [0x60, ...vec([[I32]]), 0],
    [0x60, 0, 0],
  ];
  const out = new Chunks();
  out.push([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const sec = (id: number, body: number[]): void => {
    const c = new Chunks();
    c.push(body);
    section(out, id, c);
  };
  sec(1, vec(types));
  sec(2, vec([
    [...str('wasi_snapshot_preview1'), ...str('fd_write'), 0x00, ...uleb(1)],
    [...str('wasi_snapshot_preview1'), ...str('proc_exit'), 0x00, ...uleb(2)],
  ]));
  const funcSec = new Chunks();
  funcSec.push(uleb(nFuncs + 1));
  const zeros = new Uint8Array(nFuncs).fill(0);
  funcSec.push(zeros);
  funcSec.push([3]);
  section(out, 3, funcSec);
  sec(4, vec([[0x70, 0x00, ...uleb(nFuncs)]])); // table funcref min nFuncs
  sec(5, vec([[0x00, 0x02]])); // memory min 2 pages
  sec(7, vec([[...str('memory'), 0x02, 0x00], [...str('_start'), 0x00, ...uleb(start)]]));
  // elem: active at 0, every generated function
  const elem = new Chunks();
  elem.push([1, 0x00, I32_CONST, 0, END, ...uleb(nFuncs)]);
  for (let i = 0; i < nFuncs; i++) elem.push(uleb(first + i));
  section(out, 9, elem);

  const code = new Chunks();
  code.push(uleb(nFuncs + 1));
  for (let i = 0; i < nFuncs; i++) {
    const body = functionBody(i, nFuncs, first, statements, rand);
    code.push([...uleb(body.length), ...body]);
  }
  code.push(startBody());
  section(out, 10, code);
  return out.concat();

  function startBody(): number[] {
    // locals: $i $acc; for i < called: acc ^= f_i(i, acc); write "large: " + hex(acc)
    const b: number[] = [1, 2, I32];
    const I = 0, ACC = 1;
    b.push(BLOCK, 0x40, LOOP, 0x40);
    b.push(LOCAL_GET, I, I32_CONST, ...sleb(o.called), 0x4f /* ge_u */, BR_IF, 1);
    b.push(LOCAL_GET, I, LOCAL_GET, ACC, LOCAL_GET, I, 0x11 /* call_indirect */, 0, 0);
    b.push(LOCAL_GET, ACC, 0x73 /* xor */, I32_CONST, 5, 0x77 /* rotl */, LOCAL_SET, ACC);
    b.push(LOCAL_GET, I, I32_CONST, 1, 0x6a, LOCAL_SET, I, BR, 0, END, END);
    // "large: " at 1024, 8 hex digits at 1031, "\n" at 1039; iovec at 1040
    const text = 'large: ';
    for (let k = 0; k < text.length; k++) b.push(I32_CONST, ...sleb(1024 + k), I32_CONST, ...sleb(text.charCodeAt(k)), 0x3a, 0, 0);
    // for k in 0..7: byte = hexdigit((acc >>> (28 - 4k)) & 15)
    for (let k = 0; k < 8; k++) {
      b.push(I32_CONST, ...sleb(1031 + k));
      b.push(LOCAL_GET, ACC, I32_CONST, 28 - 4 * k, 0x76 /* shr_u */, I32_CONST, 15, 0x71 /* and */, LOCAL_TEE, I);
      b.push(I32_CONST, 48, 0x6a, I32_CONST, 39, I32_CONST, 0, LOCAL_GET, I, I32_CONST, 9, 0x4b /* gt_u */, 0x1b /* select */, 0x6a);
      b.push(0x3a, 0, 0);
    }
    b.push(I32_CONST, ...sleb(1039), I32_CONST, 10, 0x3a, 0, 0);
    b.push(I32_CONST, ...sleb(1040), I32_CONST, ...sleb(1024), 0x36, 2, 0);
    b.push(I32_CONST, ...sleb(1044), I32_CONST, 16, 0x36, 2, 0);
    b.push(I32_CONST, 1, I32_CONST, ...sleb(1040), I32_CONST, 1, I32_CONST, ...sleb(1048), CALL, 0, DROP, END);
    return [...uleb(b.length), ...b];
  }
}

/**
 * One function (i32 a, i32 b) -> i32 with locals c, d (i32), e (i64), x (f64): a mix of
 * statements like compiled C. Calls to other functions sit behind `a > 0x40000000`, which
 * no call from `_start` satisfies, so only the called functions run.
 */
function functionBody(i: number, nFuncs: number, first: number, statements: number, rand: (n: number) => number): number[] {
  const A = 0, B = 1, C = 2, D = 3, E = 4, X = 5;
  const b: number[] = [3, 2, I32, 1, I64, 1, F64];
  const addr = (local: number): number[] => [LOCAL_GET, local, I32_CONST, ...sleb(0xffc), 0x71]; // & 0xffc: in page 0
  for (let s = 0; s < statements; s++) {
    switch (rand(9)) {
      case 0:
        b.push(LOCAL_GET, A, LOCAL_GET, B, 0x6a, I32_CONST, ...sleb(rand(1000)), 0x6c, LOCAL_SET, C);
        break;
      case 1:
        b.push(...addr(C), 0x28, 2, ...uleb(rand(64) * 4), LOCAL_GET, A, 0x73, LOCAL_SET, A);
        break;
      case 2:
        b.push(...addr(B), LOCAL_GET, A, LOCAL_GET, D, 0x6a, 0x36, 2, ...uleb(rand(64) * 4));
        break;
      case 3:
        b.push(BLOCK, 0x40, LOCAL_GET, A, I32_CONST, ...sleb(rand(5000)), 0x49, BR_IF, 0);
        b.push(LOCAL_GET, B, I32_CONST, 1, 0x6a, LOCAL_SET, B, END);
        break;
      case 4:
        b.push(I32_CONST, 0, LOCAL_SET, D, LOOP, 0x40);
        b.push(LOCAL_GET, C, LOCAL_GET, D, 0x6a, I32_CONST, 3, 0x77, LOCAL_SET, C);
        b.push(LOCAL_GET, D, I32_CONST, 1, 0x6a, LOCAL_TEE, D, I32_CONST, 1 + rand(4), 0x49, BR_IF, 0, END);
        break;
      case 5: {
        const callee = first + rand(nFuncs);
        b.push(LOCAL_GET, A, I32_CONST, ...sleb(0x40000000), 0x4b, IF, 0x40);
        b.push(LOCAL_GET, B, LOCAL_GET, C, CALL, ...uleb(callee), LOCAL_SET, C, END);
        break;
      }
      case 6:
        b.push(BLOCK, 0x40, BLOCK, 0x40, BLOCK, 0x40, LOCAL_GET, C, I32_CONST, 3, 0x71, BR_TABLE, 2, 0, 1, 2, END);
        b.push(LOCAL_GET, A, I32_CONST, 7, 0x6a, LOCAL_SET, A, END);
        b.push(LOCAL_GET, B, I32_CONST, 9, 0x73, LOCAL_SET, B, END);
        break;
      case 7:
        b.push(LOCAL_GET, E, LOCAL_GET, A, 0xad, 0x7c, 0x42, ...sleb(rand(1 << 20)), 0x7e, LOCAL_SET, E);
        break;
      case 8:
        b.push(LOCAL_GET, X, LOCAL_GET, B, 0xb7, 0xa0, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xa3, LOCAL_SET, X);
        break;
    }
  }
  b.push(LOCAL_GET, A, LOCAL_GET, B, 0x73, LOCAL_GET, C, 0x6a, LOCAL_GET, E, 0xa7, 0x73, LOCAL_GET, X, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x64 /* f64.gt */, 0x73, END);
  void i;
  return b;
}
