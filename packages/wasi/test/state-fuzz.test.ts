/**
 * Crafted WASI states, mutated at random from a real one (seeded, bounded): each must be
 * refused with a WasiRestoreError of one line or restore without opening, reading or
 * listing anything outside the granted preopen — never another exception.
 */
import { MemoryFs, OutputSink, WASI, WasiRestoreError, memoryHost } from '../src/index';
import type { WasiState } from '../src/index';
import { RawGuest } from './raw-guest';

function realState(mem: MemoryFs): WasiState {
  const w = new WASI({ preopens: { '/sandbox': '/root/box' }, host: memoryHost(mem), stdout: new OutputSink(), args: ['p', 'x'], env: { K: 'V' } });
  const g = new RawGuest(w);
  g.openDir(3, 'sub');
  g.open(3, 'sub/f.txt', { base: 2 | 4, inheriting: 0 });
  g.renumber(1, 4); // stdout moved onto the dir fd's number
  const s = structuredClone(w.state());
  w.close();
  return s;
}

/** xorshift32: the same cases on every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const ODD_VALUES: unknown[] = [
  undefined, null, -1, 0, 1, 2, 3, 7, 2 ** 31, 2 ** 32, 2 ** 53, 1.5, NaN, Infinity, '', '..', '../..', '/etc', 'sub/../..', 'a\0b', 'toString',
  '__proto__', 'link-out', 'link-out/secret.txt', 'sub/f.txt', 'sub', 'x'.repeat(5000), [], {}, [1, 2], { host: '0.0.0.0', port: 80 }, 'stdio', 'listener', 'preopen', 'dir', 'file', 'socket', true, '18446744073709551616',
];

function mutate(state: WasiState, r: () => number): unknown {
  const s = structuredClone(state) as unknown as Record<string, unknown>;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const fds = s.fds as Record<string, unknown>[];
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const value = pick(ODD_VALUES);
    if (r() < 0.75 && Array.isArray(fds) && fds.length > 0) {
      const fd = pick(fds);
      if (typeof fd === 'object' && fd !== null) {
        const key = pick(['fd', 'kind', 'filetype', 'rightsBase', 'rightsInheriting', 'fdflags', 'offset', 'preopen', 'path', 'oflags', 'dirCookie', 'stdio', 'listen', 'size', 'peer', 'received']);
        if (value === undefined) delete fd[key];
        else fd[key] = value;
      }
    } else {
      const key = pick(['version', 'args', 'env', 'fds', 'exitCode', 'monotonicNs', 'logEvents', 'pendingPoll']);
      s[key] = value;
    }
  }
  return s;
}

test('2000 mutated WASI states: a one-line WasiRestoreError or a restore inside the preopen', () => {
  const mem = new MemoryFs();
  mem.mkdirp('/root/box/sub');
  mem.mkdirp('/root/outside');
  mem.writeFile('/root/box/sub/f.txt', 'f');
  mem.writeFile('/root/outside/secret.txt', 'SECRET');
  mem.symlink('../outside', '/root/box/link-out');
  const state = realState(mem);
  // Every host path the restore touches, from the moment it starts.
  const touched: string[] = [];
  const spy = Object.create(mem) as MemoryFs;
  for (const op of ['lstat', 'open', 'readdir', 'readlink'] as const) {
    spy[op] = ((p: string, ...rest: unknown[]) => (touched.push(p), (mem[op] as (...a: unknown[]) => unknown).call(mem, p, ...rest))) as never;
  }
  const r = rng(0x5eed);
  const outcomes = { refused: 0, restored: 0 };
  for (let i = 0; i < 2000; i++) {
    const crafted = mutate(state, r);
    touched.length = 0;
    try {
      WASI.restore(crafted as WasiState, { preopens: { '/sandbox': '/root/box' }, host: memoryHost(spy), stdout: new OutputSink(), stderr: new OutputSink() }).close();
      outcomes.restored++;
    } catch (e) {
      if (!(e instanceof WasiRestoreError)) throw new Error(`case ${i}: ${String(e)} for ${JSON.stringify(crafted).slice(0, 400)}`);
      expect(e.message).not.toMatch(/\n/);
      outcomes.refused++;
    }
    const outside = touched.filter((p) => p !== '/root/box' && !p.startsWith('/root/box/'));
    if (outside.length > 0) throw new Error(`case ${i} touched ${outside.join(', ')}`);
  }
  // Both outcomes happen: the mutations are not all fatal, nor all harmless.
  expect(outcomes.refused).toBeGreaterThan(500);
  expect(outcomes.restored).toBeGreaterThan(20);
});
