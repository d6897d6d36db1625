/**
 * Sandbox: escape attempts through raw WASI calls get the spec's errnos (ENOTCAPABLE for
 * anything leaving the directory, ELOOP for loops and unfollowed links, EBADF/ENOTCAPABLE
 * for fds and rights), on both hosts, and nothing outside the preopen is touched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { MemoryFs, OutputSink, WASI, memoryHost } from '../src/node';
import type { Host } from '../src/node';
import { tempDir, wasmBytes } from './helpers';

const EXPECTED = `open inside.txt errno=0
open ../outside.txt errno=76
open sub/../../outside.txt errno=76
open /etc/passwd errno=76
open escape errno=76
open abs errno=76
open sub/up/inside.txt errno=0
open loop errno=32
open escape errno=32
open sub errno=0
open ../inside.txt errno=76
create without right errno=76
write right not inherited errno=76
mkdir outside errno=76
symlink absolute errno=76
rename outside errno=76
stat through escape errno=76
unlink outside errno=76
read bad fd errno=8
read a directory errno=76
`;

async function run(host: Host | undefined, box: string): Promise<string> {
  const out = new OutputSink();
  const errors: unknown[] = [];
  const wasi = new WASI({ args: ['sandbox'], preopens: { '/sandbox': box }, host, stdout: out, onHostError: (_c, e) => errors.push(e) });
  const m = await Machine.instantiate(wasmBytes('sandbox'), wasi.getImports());
  expect(await wasi.start(m)).toBe(0);
  wasi.close();
  return out.text();
}

test('escapes on the Node host', async () => {
  const root = tempDir();
  const box = path.join(root, 'box');
  fs.mkdirSync(box);
  fs.mkdirSync(path.join(box, 'sub'));
  fs.writeFileSync(path.join(root, 'outside.txt'), 'secret');
  fs.writeFileSync(path.join(box, 'inside.txt'), 'inside');
  fs.writeFileSync(path.join(box, 'sub', 'f.txt'), 'f');
  fs.symlinkSync('../outside.txt', path.join(box, 'escape'));
  fs.symlinkSync('/etc/passwd', path.join(box, 'abs'));
  fs.symlinkSync('..', path.join(box, 'sub', 'up'));
  fs.symlinkSync('loop', path.join(box, 'loop'));
  expect(await run(undefined, box)).toBe(EXPECTED);
  // Nothing outside moved, appeared or vanished.
  expect(fs.readdirSync(root).sort()).toEqual(['box', 'outside.txt']);
  expect(fs.readFileSync(path.join(root, 'outside.txt'), 'utf8')).toBe('secret');
  expect(fs.existsSync(path.join(box, 'inside.txt'))).toBe(true);
  expect(fs.existsSync(path.join(box, 'newabs'))).toBe(false);
});

test('escapes on the in-memory host', async () => {
  const mem = new MemoryFs();
  mem.mkdirp('/root/box/sub');
  mem.writeFile('/root/outside.txt', 'secret');
  mem.writeFile('/root/box/inside.txt', 'inside');
  mem.writeFile('/root/box/sub/f.txt', 'f');
  mem.symlink('../outside.txt', '/root/box/escape');
  mem.symlink('/etc/passwd', '/root/box/abs');
  mem.symlink('..', '/root/box/sub/up');
  mem.symlink('loop', '/root/box/loop');
  expect(await run(memoryHost(mem), '/root/box')).toBe(EXPECTED);
  expect(Object.keys(mem.list('/root'))).toEqual(['box/', 'box/abs', 'box/escape', 'box/inside.txt', 'box/loop', 'box/sub/', 'box/sub/f.txt', 'box/sub/up', 'outside.txt']);
});

test('host errors become errnos, never exceptions in the guest', async () => {
  // A host whose every file operation throws something odd: the guest sees EIO and carries on.
  const mem = new MemoryFs();
  mem.mkdirp('/box');
  const broken = Object.create(mem) as MemoryFs;
  const out = new OutputSink();
  const seen: string[] = [];
  const wasi = new WASI({ preopens: { '/sandbox': '/box' }, host: memoryHost(broken), stdout: out, onHostError: (c) => seen.push(c) });
  // Broken after the preopen was opened: every path lookup now throws a plain Error.
  broken.lstat = () => {
    throw new Error('disk on fire');
  };
  const m = await Machine.instantiate(wasmBytes('errors'), wasi.getImports());
  expect(await wasi.start(m)).toBe(3);
  expect(out.text()).toMatch(/open missing\s+I\/O error/);
  expect(seen).toContain('path_open');
});
