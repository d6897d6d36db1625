/**
 * WASI corners the public WASI test suite found wrong, as regression tests on both hosts
 * (programs/conformance.c): ENOTSOCK before ENOTCAPABLE, links to 'name/', fd_renumber onto
 * a closed fd (also for stdio, and across a restore), and file times that keep their
 * nanoseconds and leave the other time alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { MemoryFs, OutputSink, WASI, memoryHost } from '../src/node';
import type { Host } from '../src/node';
import { haveGnuTouch } from '../src/fs/exact-times';
import { utimesSeconds } from '../src/fs/node-fs';
import { SYSCALLS } from '../src/syscalls';
import { tempDir, wasmBytes } from './helpers';

/** f.txt's times before the program runs: whole microseconds, which every host keeps. */
const ATIM0 = 1_000_500_000_000n;
const MTIM0 = 2_000_250_000_000n;

function expected(exactNs: boolean): RegExp[] {
  const t = (ns: bigint) => (exactNs ? ns : (ns / 1000n) * 1000n);
  const lines = [
    'sock_shutdown bad fd errno=8',
    'sock_shutdown directory errno=57',
    'open f.txt errno=0',
    'sock_shutdown file errno=57',
    'link to link/ errno=44',
    'symlink to sym/ errno=44',
    'mkdir d errno=0',
    'link to existing d/ errno=20',
    'symlink to existing d/ errno=20',
    'symlink to existing f.txt/ errno=54',
    'link to link errno=0',
    'symlink to sym errno=0',
    'renumber onto closed 40 errno=0',
    'old number after renumber errno=8',
    'renumber from closed 41 errno=8',
    'stdout onto closed 50 errno=0',
    'stdout through 50',
    'stdout back onto closed 1 errno=0',
    'stdout back on 1',
    `before atim=${ATIM0} mtim=\\d+`, // the write through fd 40 moved mtim
    'fd set mtim errno=0',
    `after fd set mtim atim=${ATIM0} mtim=${t(1700000000123456789n)}`,
    'path set atim errno=0',
    `after path set atim atim=${t(1600000000987654321n)} mtim=${t(1700000000123456789n)}`,
    'symlink set mtim errno=0',
    `symlink atim=\\d+ mtim=${t(1500000000000000001n)}`,
    `its target atim=${t(1600000000987654321n)} mtim=${t(1700000000123456789n)}`,
  ];
  return lines.map((l) => new RegExp(`^${l}$`));
}

async function run(host: Host | undefined, box: string): Promise<string[]> {
  const out = new OutputSink();
  const wasi = new WASI({ args: ['conformance'], preopens: { '/box': box }, host, stdout: out });
  const m = await Machine.instantiate(wasmBytes('conformance'), wasi.getImports());
  expect(await wasi.start(m)).toBe(0);
  wasi.close();
  return out.text().trimEnd().split('\n');
}

/** Line by line; a mismatch shows the whole output against the patterns. */
function expectLines(got: string[], want: RegExp[]): void {
  const shown = want.map((re, i) => (got[i] !== undefined && re.test(got[i]) ? got[i] : `(pattern) ${re.source}`));
  expect(got).toEqual(shown);
}

test('on the Node host (nanoseconds only with GNU touch; whole microseconds without)', async () => {
  const box = tempDir();
  const file = path.join(box, 'f.txt');
  fs.writeFileSync(file, '');
  fs.utimesSync(file, Number(ATIM0) / 1e9, Number(MTIM0) / 1e9);
  expectLines(await run(undefined, box), expected(haveGnuTouch()));
  expect(fs.readFileSync(file, 'utf8')).toBe('written through 40\n');
  expect(fs.readlinkSync(path.join(box, 'sym'))).toBe('f.txt');
  expect(fs.existsSync(path.join(box, 'link/'))).toBe(false);
});

test('on the in-memory host (nanoseconds)', async () => {
  const mem = new MemoryFs();
  mem.mkdirp('/box');
  mem.writeFile('/box/f.txt', '');
  mem.utimes('/box/f.txt', ATIM0, MTIM0, false);
  expectLines(await run(memoryHost(mem), '/box'), expected(true));
  expect(new TextDecoder().decode(mem.readFile('/box/f.txt'))).toBe('written through 40\n');
});

test('stdio renumbered onto a closed fd keeps its stream through state() and restore', () => {
  const wasi = new WASI({ stdin: '', stdout: new OutputSink(), stderr: new OutputSink() });
  const noMemory = undefined as never; // fd_renumber reads no guest memory
  expect(SYSCALLS.fd_renumber(wasi, noMemory, 1, 10)).toBe(0);
  expect(wasi.fds.entries.has(1)).toBe(false);
  const state = wasi.state();
  expect(state.fds.find((s) => s.fd === 10)).toMatchObject({ kind: 'stdio', stdio: 1 });

  const out2 = new OutputSink();
  const err2 = new OutputSink();
  const restored = WASI.restore(JSON.parse(JSON.stringify(state)), { stdin: '', stdout: out2, stderr: err2 });
  restored.fds.get(10).stream!.write(new TextEncoder().encode('to stdout'));
  expect(out2.text()).toBe('to stdout');
  expect(err2.text()).toBe('');
  expect(restored.fds.describeAll()).toEqual(state.fds);
});

test("Node's utimes keeps exactly the whole microseconds of the seconds given", () => {
  const file = path.join(tempDir(), 't');
  fs.writeFileSync(file, '');
  let seed = 12345n;
  const next = () => (seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n);
  for (let i = 0; i < 500; i++) {
    const ns = 1_000_000_000_000_000_000n + (next() % 1_000_000_000_000_000_000n); // 2001..2033
    fs.utimesSync(file, utimesSeconds(ns), utimesSeconds(ns));
    const st = fs.statSync(file, { bigint: true });
    expect([st.atimeNs, st.mtimeNs]).toEqual([(ns / 1000n) * 1000n, (ns / 1000n) * 1000n]);
  }
});
