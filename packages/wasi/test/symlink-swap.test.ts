/**
 * The symlink-swap escape of issue 7, as a C program (programs/symlink_swap.c): a guest
 * opens a directory, moves it away, puts a symlink to outside the sandbox where it was
 * and looks up through the old fd; then the host makes the same swap while the guest
 * waits on stdin. Nothing outside the preopen may be read, listed or created: the old fd
 * keeps meaning the directory it was opened on, and a directory swapped under it by the
 * host is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { InputQueue, MemoryFs, NodeFs, OutputSink, WASI, memoryHost, nodeHost } from '../src/node';
import type { Host } from '../src/node';
import { readTree, tempDir, wasmBytes } from './helpers';

const EXPECTED = `open dir a errno=0
rename a errno=0
symlink a -> ../../../../etc errno=76
symlink a -> ../outside errno=76
rename evil errno=0
read a-fd/secret.txt errno=44 data=-
create a-fd/planted.txt errno=0
read a/secret.txt errno=76 data=-
create a/planted.txt errno=76
open dir n/m errno=0
rename n errno=0
rename a errno=0
read m-fd/secret.txt errno=44 data=-
create m-fd/planted.txt errno=0
open dir h errno=0
wait errno=0
read h-fd/secret.txt errno=76 data=-
create h-fd/planted.txt errno=76
readdir h-fd errno=76 names=
mkdir h-fd/d errno=76
`;

/** Runs the program until it waits on stdin, lets `swap` move things on the host, then finishes it. */
async function run(host: Host | undefined, box: string, swap: () => void): Promise<string> {
  const out = new OutputSink();
  const stdin = new InputQueue();
  const wasi = new WASI({ args: ['symlink_swap'], preopens: { '/sandbox': box }, host, stdin, stdout: out });
  const m = await Machine.instantiate(wasmBytes('symlink_swap'), wasi.getImports());
  m.begin('_start', []);
  expect(m.step(Infinity).suspended).toBe(true);
  swap();
  stdin.push('x');
  stdin.end();
  expect(await wasi.start(m)).toBe(0);
  wasi.close();
  return out.text();
}

test.each([
  ['by directory handle', true],
  ['by path', false],
])('symlink swap on the Node host resolving %s: nothing outside is read, listed or created', async (_how, handles) => {
  const root = tempDir('mvvm-swap-');
  const box = path.join(root, 'box');
  fs.mkdirSync(path.join(root, 'outside'), { recursive: true });
  fs.writeFileSync(path.join(root, 'outside', 'secret.txt'), 'TOP SECRET');
  fs.mkdirSync(path.join(box, 'h'), { recursive: true });
  fs.symlinkSync('../outside', path.join(box, 'evil'));
  const outsideBefore = readTree(path.join(root, 'outside'));
  const out = await run({ ...nodeHost(), fs: new NodeFs({ handles }) }, box, () => {
    fs.renameSync(path.join(box, 'h'), path.join(box, 'h.away'));
    fs.symlinkSync('../outside', path.join(box, 'h'));
  });
  expect(out).toBe(EXPECTED);
  expect(out).not.toMatch(/SECRET/);
  expect(readTree(path.join(root, 'outside'))).toEqual(outsideBefore);
  expect(fs.readdirSync(root).sort()).toEqual(['box', 'outside']);
  // What the guest created went where its fds really were, inside the box.
  expect(readTree(box)).toEqual({
    'a.moved/': '',
    'a.moved/planted.txt': 'planted\n',
    'h': '-> ../outside',
    'h.away/': '',
    'n': '-> ../outside',
    'n.moved/': '',
    'n.moved/m/': '',
    'n.moved/m/planted.txt': 'planted\n',
  });
});

test('symlink swap on the in-memory host: the same', async () => {
  const mem = new MemoryFs();
  mem.mkdirp('/root/outside');
  mem.writeFile('/root/outside/secret.txt', 'TOP SECRET');
  mem.mkdirp('/root/box/h');
  mem.symlink('../outside', '/root/box/evil');
  const out = await run(memoryHost(mem), '/root/box', () => {
    mem.rename('/root/box/h', '/root/box/h.away');
    mem.symlink('../outside', '/root/box/h');
  });
  expect(out).toBe(EXPECTED);
  expect(Object.keys(mem.list('/root'))).toEqual([
    'box/', 'box/a.moved/', 'box/a.moved/planted.txt', 'box/h', 'box/h.away/', 'box/n', 'box/n.moved/', 'box/n.moved/m/', 'box/n.moved/m/planted.txt', 'outside/', 'outside/secret.txt',
  ]);
});
