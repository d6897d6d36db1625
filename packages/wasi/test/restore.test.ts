/**
 * Restore tests: run a file-writing program, stop it after n instructions, take
 * machine.snapshot() + wasi.state() and a copy of the preopened directory as it is at that
 * moment, let the original go on, then rebuild both from the (structuredClone'd) states in
 * fresh instances with the preopen pointed at the copy, finish, and compare stdout, exit
 * code and files byte for byte with an uninterrupted run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { InputQueue, MemoryFs, OutputSink, WASI, WasiRestoreError, WasiState, memoryHost } from '../src/node';
import { readTree, tempDir, wasmBytes } from './helpers';

const INPUT = Array.from({ length: 30 }, (_, i) => `input line ${i}\n`).join('');
const ARGS = ['writer', '30'];
const bytes = wasmBytes('writer');

function freshDir(): string {
  const d = tempDir();
  fs.writeFileSync(path.join(d, 'input.txt'), INPUT);
  fs.writeFileSync(path.join(d, 'log.txt'), 'existing log\n');
  return d;
}

async function uninterrupted(): Promise<{ stdout: string; tree: Record<string, string>; instructions: number }> {
  const dir = freshDir();
  const out = new OutputSink();
  const wasi = new WASI({ args: ARGS, preopens: { '/sandbox': dir }, stdout: out, stderr: new OutputSink() });
  const m = await Machine.instantiate(bytes, wasi.getImports());
  expect(await wasi.start(m)).toBe(0);
  wasi.close();
  return { stdout: out.text(), tree: readTree(dir), instructions: m.instructionCount };
}

/** Runs to instruction n; returns the states, the copy of the directory and stdout so far. */
async function snapshotAt(n: number) {
  const dir = freshDir();
  const out = new OutputSink();
  const wasi = new WASI({ args: ARGS, preopens: { '/sandbox': dir }, stdout: out, stderr: new OutputSink() });
  const m = await Machine.instantiate(bytes, wasi.getImports());
  m.begin('_start', []);
  const r = m.step(n);
  expect(r.done).toBe(false);
  const machineState = structuredClone(m.snapshot());
  const wasiState = structuredClone(wasi.state());
  const copy = tempDir('mvvm-wasi-copy-');
  fs.cpSync(dir, copy, { recursive: true });
  // The log, folded, is the live fd table (up to sizes, which state() adds).
  expect(wasi.state().fds.map(({ size: _s, ...rest }) => rest)).toEqual(wasi.fds.describeAll());
  const soFar = out.text();
  // The original carries on and writes more: none of that may leak into the copy.
  expect(await wasi.start(m)).toBe(0);
  wasi.close();
  return { machineState, wasiState, copy, soFar };
}

async function restoreAndFinish(s: Awaited<ReturnType<typeof snapshotAt>>): Promise<{ stdout: string; code: number }> {
  const out = new OutputSink();
  const wasi = WASI.restore(s.wasiState, { preopens: { '/sandbox': s.copy }, stdout: out, stderr: new OutputSink() });
  const m = await Machine.restore(bytes, s.machineState, wasi.getImports());
  const code = await wasi.start(m);
  wasi.close();
  return { stdout: s.soFar + out.text(), code };
}

describe('restore on the Node host', () => {
  let base: Awaited<ReturnType<typeof uninterrupted>>;
  beforeAll(async () => {
    base = await uninterrupted();
  });

  test('the uninterrupted run writes what the program says', () => {
    expect(base.stdout).toMatch(/progress 30 hash=[0-9a-f]{8}\nfinal hash=/);
    expect(base.tree['log.txt']).toBe('existing log\n' + Array.from({ length: 30 }, (_, i) => `round ${i}\n`).join(''));
    expect(base.instructions).toBeGreaterThan(100_000);
  });

  // Points spread over the run, plus a dense run of nearby counts so some land between the
  // writes of one round (open fds mid-sequence, offsets not at the end).
  const fractions = [0.001, 0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.97, 0.999];
  for (const f of fractions) {
    test(`snapshot at ${f * 100}% of the run`, async () => {
      const s = await snapshotAt(Math.floor(base.instructions * f));
      const r = await restoreAndFinish(s);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(base.stdout);
      expect(readTree(s.copy)).toEqual(base.tree);
    });
  }

  test('many nearby points in the middle of a sequence of writes', async () => {
    const mid = Math.floor(base.instructions * 0.55);
    for (let k = 0; k < 12; k++) {
      const s = await snapshotAt(mid + k * 97);
      const r = await restoreAndFinish(s);
      expect(r.stdout).toBe(base.stdout);
      expect(readTree(s.copy)).toEqual(base.tree);
    }
  });

  test('the state is plain data: it survives JSON', async () => {
    const s = await snapshotAt(Math.floor(base.instructions * 0.5));
    const json = JSON.parse(JSON.stringify(s.wasiState)) as WasiState;
    expect(json).toEqual(s.wasiState);
    const files = json.fds.filter((f) => f.kind === 'file').map((f) => f.path).sort();
    expect(files).toEqual(['data.bin', 'input.txt', 'log.txt', 'seq.txt']);
    const r = await restoreAndFinish({ ...s, wasiState: json });
    expect(r.stdout).toBe(base.stdout);
  });

  test('a file missing on the new host is an error naming it', async () => {
    const s = await snapshotAt(Math.floor(base.instructions * 0.5));
    fs.rmSync(path.join(s.copy, 'data.bin'));
    expect(() => WASI.restore(s.wasiState, { preopens: { '/sandbox': s.copy } })).toThrow(WasiRestoreError);
    expect(() => WASI.restore(s.wasiState, { preopens: { '/sandbox': s.copy } })).toThrow(/\/sandbox\/data\.bin.*missing/);
  });

  test('a file of another size on the new host is an error naming it', async () => {
    const s = await snapshotAt(Math.floor(base.instructions * 0.5));
    fs.appendFileSync(path.join(s.copy, 'log.txt'), 'x');
    expect(() => WASI.restore(s.wasiState, { preopens: { '/sandbox': s.copy } })).toThrow(/\/sandbox\/log\.txt.*changed size/);
  });

  test('a preopen without a host directory is an error naming it', async () => {
    const s = await snapshotAt(Math.floor(base.instructions * 0.5));
    expect(() => WASI.restore(s.wasiState, { preopens: {} })).toThrow(/preopen '\/sandbox'/);
  });
});

describe('restore on the in-memory host', () => {
  function memFs(): MemoryFs {
    const fs = new MemoryFs();
    fs.mkdirp('/data');
    fs.writeFile('/data/input.txt', INPUT);
    fs.writeFile('/data/log.txt', 'existing log\n');
    return fs;
  }

  test('snapshot, clone the file system, restore, finish: same output and files', async () => {
    const full = memFs();
    const out = new OutputSink();
    const w0 = new WASI({ args: ARGS, preopens: { '/sandbox': '/data' }, host: memoryHost(full), stdout: out });
    const m0 = await Machine.instantiate(bytes, w0.getImports());
    await w0.start(m0);
    const total = m0.instructionCount;

    for (const f of [0.05, 0.33, 0.5, 0.8]) {
      const fsA = memFs();
      const outA = new OutputSink();
      const wasi = new WASI({ args: ARGS, preopens: { '/sandbox': '/data' }, host: memoryHost(fsA), stdout: outA });
      const m = await Machine.instantiate(bytes, wasi.getImports());
      m.begin('_start', []);
      m.step(Math.floor(total * f));
      const ms = structuredClone(m.snapshot());
      const ws = structuredClone(wasi.state());
      // The copy lives under another path on the new host: the preopen is remapped.
      const fsB = new MemoryFs();
      fsB.mkdirp('/elsewhere');
      const copy = fsA.clone();
      for (const [p, c] of Object.entries(copy.list('/data'))) {
        if (p.endsWith('/')) fsB.mkdirp('/elsewhere/' + p);
        else fsB.writeFile('/elsewhere/' + p, c as Uint8Array);
      }
      const outB = new OutputSink();
      const w2 = WASI.restore(ws, { preopens: { '/sandbox': '/elsewhere' }, host: memoryHost(fsB), stdout: outB });
      const m2 = await Machine.restore(bytes, ms, w2.getImports());
      expect(await w2.start(m2)).toBe(0);
      expect(outA.text() + outB.text()).toBe(out.text());
      expect(fsB.list('/elsewhere')).toEqual(full.list('/data'));
    }
  });

  test('a snapshot taken while blocked on stdin resumes as "about to read"', async () => {
    const stdin = new InputQueue();
    stdin.push('hello ');
    const out = new OutputSink();
    const wasi = new WASI({ args: ['stdin_echo'], stdin, stdout: out });
    const m = await Machine.instantiate(wasmBytes('stdin_echo'), wasi.getImports());
    m.begin('_start', []);
    let r = m.step(10_000_000);
    expect(r.suspended).toBe(true); // consumed "hello " and now waits for more
    const ms = structuredClone(m.snapshot());
    const ws = structuredClone(wasi.state());
    expect(ws.fds.find((f) => f.fd === 0)!.offset).toBe(6);

    const stdin2 = new InputQueue('world\n'); // the rest of the input, on the new host
    const out2 = new OutputSink();
    const w2 = WASI.restore(ws, { stdin: stdin2, stdout: out2 });
    const m2 = await Machine.restore(wasmBytes('stdin_echo'), ms, w2.getImports());
    expect(await w2.start(m2)).toBe(0);
    expect(out.text() + out2.text()).toBe('HELLO WORLD\nbytes=12 lines=1\n');
    r = m.step(0);
    expect(r.done).toBe(false);
  });
});
