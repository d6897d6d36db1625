/**
 * What a restore opens is what the restoring user grants, and the state's fds come back as
 * the guest left them: a stdio fd moved to another number is still the instance's own
 * stream (never the host fd of that number), directories and files the guest renamed while
 * open are found at their new paths, and a listener is bound only where `listen` says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryFs, OutputSink, WASI, WasiRestoreError, memoryHost } from '../src/node';
import { RawGuest } from './raw-guest';
import { tempDir } from './helpers';

test('a stdio fd renumbered to another number writes to the restoring instance\'s own stdout', () => {
  const mem = new MemoryFs();
  mem.mkdirp('/box');
  mem.writeFile('/box/f.txt', '');
  const w = new WASI({ preopens: { '/sandbox': '/box' }, host: memoryHost(mem), stdout: new OutputSink() });
  const g = new RawGuest(w);
  const f = g.open(3, 'f.txt', { base: 2, inheriting: 0 });
  expect(f.errno).toBe(0);
  expect(g.renumber(1, f.fd)).toBe(0); // stdout now lives at fd 4
  const state = structuredClone(w.state());
  expect(state.fds.find((s) => s.fd === f.fd)).toMatchObject({ kind: 'stdio', stdio: 1 });
  const out = new OutputSink();
  const w2 = WASI.restore(state, { preopens: { '/sandbox': '/box' }, host: memoryHost(mem), stdout: out, stderr: new OutputSink() });
  expect(new RawGuest(w2).write(f.fd, 'to my stdout')).toBe(0);
  expect(out.text()).toBe('to my stdout');
});

test('directories and files renamed while open are reopened at their new paths', () => {
  const mem = new MemoryFs();
  mem.mkdirp('/box/d/inner');
  mem.writeFile('/box/d/inner/f.txt', 'hello');
  const w = new WASI({ preopens: { '/sandbox': '/box' }, host: memoryHost(mem) });
  const g = new RawGuest(w);
  const inner = g.openDir(3, 'd/inner');
  const file = g.open(3, 'd/inner/f.txt', { base: 2 /* fd_read */, inheriting: 0 });
  expect([inner.errno, file.errno]).toEqual([0, 0]);
  expect(g.rename(3, 'd', 3, 'e')).toBe(0);
  // The open fds followed the move, and lookups through the moved directory still work.
  expect(g.readFile(inner.fd, 'f.txt')).toEqual({ errno: 0, data: 'hello' });
  const state = structuredClone(w.state());
  expect(state.fds.filter((f) => f.kind === 'dir' || f.kind === 'file').map((f) => f.path)).toEqual(['e/inner', 'e/inner/f.txt']);
  const w2 = WASI.restore(state, { preopens: { '/sandbox': '/box' }, host: memoryHost(mem.clone()) });
  const g2 = new RawGuest(w2);
  expect(g2.readFile(inner.fd, 'f.txt')).toEqual({ errno: 0, data: 'hello' });
  expect(g2.read(file.fd)).toEqual({ errno: 0, data: 'hello' });
});

test('a rename moves the fds below the renamed path only, component by component', () => {
  const mem = new MemoryFs();
  mem.mkdirp('/box/a/x');
  mem.mkdirp('/box/ab');
  const w = new WASI({ preopens: { '/sandbox': '/box' }, host: memoryHost(mem) });
  const g = new RawGuest(w);
  for (const d of ['a/x', 'ab', 'a']) expect(g.openDir(3, d).errno).toBe(0);
  expect(g.rename(3, 'a', 3, 'c')).toBe(0);
  expect(w.state().fds.filter((f) => f.kind === 'dir').map((f) => f.path)).toEqual(['c/x', 'ab', 'c']);
  expect(w.recentEvents().filter((e) => e.op === 'path')).toHaveLength(2);
});

test('a listener is bound only where the restoring user says, never where the state says', async () => {
  const state = {
    version: 1, args: [], env: {}, exitCode: null, monotonicNs: '0', logEvents: 0,
    fds: [{ fd: 3, kind: 'listener', filetype: 6, rightsBase: 0, rightsInheriting: 0, fdflags: 0, offset: 0, listen: { host: '0.0.0.0', port: 1 } }],
  };
  expect(() => WASI.restore(state as never, {})).toThrow(WasiRestoreError);
  const w = WASI.restore(state as never, { listen: [{ host: '127.0.0.1', port: 0 }] });
  const bound = await w.listening();
  expect(bound).toEqual([{ fd: 3, host: '127.0.0.1', port: expect.any(Number) }]);
  expect(bound[0].port).not.toBe(1);
  w.close();
});

test('a refused restore leaves nothing open on the Node host', () => {
  const box = tempDir();
  fs.writeFileSync(path.join(box, 'a.txt'), 'a');
  const w = new WASI({ preopens: { '/sandbox': box } });
  const g = new RawGuest(w);
  expect(g.open(3, 'a.txt', { base: 2, inheriting: 0 }).errno).toBe(0);
  const state = structuredClone(w.state());
  w.close();
  // The file opens, then its restored size does not match: the file's host fd is closed again.
  state.fds.push({ ...state.fds[4], fd: 9, path: 'b.txt' });
  fs.writeFileSync(path.join(box, 'b.txt'), 'bb');
  const before = fs.readdirSync('/proc/self/fd').length;
  expect(() => WASI.restore(state, { preopens: { '/sandbox': box } })).toThrow(/^fd 9: '\/sandbox\/b\.txt' \(host path .*\) changed size: 1 bytes in the state, 2 on this host$/);
  expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
});
