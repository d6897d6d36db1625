/**
 * Checks src/constants.ts and src/syscalls/signatures.ts against the witx reference: errno
 * values, rights bits, enum orders, and each function's core wasm signature as lowered by
 * the canonical preview1 ABI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { ERRNO_NAMES, Errno, RIGHT_NAMES, Rights, SIGNATURES, WASI } from '../src/index';
import { FileType, OFlags, FdFlags, Whence } from '../src/constants';

// The reference lives next to the repository (shared/reference in the workspace).
const REF = path.resolve(__dirname, '../../../../shared/reference/wasi-preview1');
const typenames = fs.readFileSync(path.join(REF, 'typenames.witx'), 'utf8');
const moduleWitx = fs.readFileSync(path.join(REF, 'wasi_snapshot_preview1.witx'), 'utf8');

function strip(s: string): string {
  return s.replace(/;;.*$/gm, '');
}

/** Member names of an enum or flags typename, in order. */
function members(name: string): string[] {
  const t = strip(typenames);
  const at = t.indexOf(`(typename $${name}`);
  expect(at).toBeGreaterThanOrEqual(0);
  const body = t.slice(at, t.indexOf('\n)', at));
  return [...body.matchAll(/^\s+\$(\w+)\s*$/gm)].map((m) => m[1]);
}

test('errno names and values', () => {
  expect(members('errno')).toEqual([...ERRNO_NAMES]);
  expect(ERRNO_NAMES.indexOf('notcapable')).toBe(Errno.NOTCAPABLE);
  expect(ERRNO_NAMES.indexOf('noent')).toBe(Errno.NOENT);
  expect(ERRNO_NAMES.indexOf('notempty')).toBe(Errno.NOTEMPTY);
});

test('rights bits', () => {
  const names = members('rights');
  expect(names).toEqual([...RIGHT_NAMES]);
  names.forEach((n, i) => expect((Rights as Record<string, number>)[n.toUpperCase()]).toBe(2 ** i));
});

test('enum and flag orders', () => {
  const idx = (name: string, m: string) => members(name).indexOf(m);
  const bit = (name: string, m: string) => 2 ** members(name).indexOf(m);
  expect(idx('filetype', 'regular_file')).toBe(FileType.REGULAR_FILE);
  expect(idx('filetype', 'symbolic_link')).toBe(FileType.SYMBOLIC_LINK);
  expect(idx('filetype', 'socket_stream')).toBe(FileType.SOCKET_STREAM);
  expect(idx('whence', 'end')).toBe(Whence.END);
  expect(bit('oflags', 'trunc')).toBe(OFlags.TRUNC);
  expect(bit('oflags', 'excl')).toBe(OFlags.EXCL);
  expect(bit('fdflags', 'nonblock')).toBe(FdFlags.NONBLOCK);
});

const I64_TYPES = new Set(['u64', 's64', '$filesize', '$timestamp', '$rights', '$dircookie', '$filedelta', '$device', '$inode', '$userdata', '$linkcount']);

/** Lowers one witx parameter type to core wasm types. */
function lowerParam(type: string): string[] {
  if (type === 'string' || type.endsWith('_array')) return ['i32', 'i32'];
  if (type.startsWith('(@witx')) return ['i32'];
  return I64_TYPES.has(type) ? ['i64'] : ['i32'];
}

function witxSignatures(): Record<string, { params: string[]; results: string[] }> {
  const out: Record<string, { params: string[]; results: string[] }> = {};
  const src = strip(moduleWitx);
  const funcs = src.split('(@interface func (export "').slice(1);
  for (const f of funcs) {
    const name = f.slice(0, f.indexOf('"'));
    const params: string[] = [];
    for (const m of f.matchAll(/\(param \$\w+ (\(@witx [^\n]*\)|\S+?)\)\s*$/gm)) params.push(...lowerParam(m[1]));
    const result = f.match(/\(result \$error \(expected\s*(.*?)\s*\(error \$errno\)\)\)/);
    let results: string[] = [];
    if (result) {
      results = ['i32'];
      const ok = result[1].trim();
      if (ok.startsWith('(tuple')) params.push(...ok.slice(7, -1).trim().split(/\s+/).map(() => 'i32'));
      else if (ok !== '') params.push('i32');
    }
    out[name] = { params, results };
  }
  return out;
}

test('the 46 functions and their signatures', () => {
  const fromWitx = witxSignatures();
  expect(Object.keys(fromWitx)).toHaveLength(46);
  expect(Object.keys(SIGNATURES).sort()).toEqual(Object.keys(fromWitx).sort());
  for (const [name, sig] of Object.entries(fromWitx)) expect({ name, ...SIGNATURES[name] }).toEqual({ name, ...sig });
});

test('every import links against a module that imports all 46', async () => {
  // A module importing every function with the witx-lowered type: linking checks the types.
  const wabt = await require('wabt')();
  const sigs = witxSignatures();
  const imports = Object.entries(sigs)
    .map(([n, s]) => `(import "wasi_snapshot_preview1" "${n}" (func (param ${s.params.join(' ')}) (result ${s.results.join(' ')})))`.replace(' (result )', ''))
    .join('\n');
  const wat = `(module ${imports} (memory (export "memory") 1) (func (export "_start")))`;
  const bin = wabt.parseWat('all.wat', wat).toBinary({}).buffer as Uint8Array;
  const wasi = new WASI({});
  const m = await Machine.instantiate(bin, wasi.getImports());
  expect(await wasi.start(m)).toBe(0);
});
