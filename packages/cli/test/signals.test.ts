/**
 * Signals and temporary files, with real signals sent by pid to real `mvvm` processes:
 * SIGUSR1 never starts Node's inspector nor kills the CLI; a SIGTERM during a snapshot write
 * leaves no temporary file; one a SIGKILL left, or any stale one of our naming, is swept by
 * the next write into that directory, and nothing else is touched.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { wat } from '../../interpreter/test/helpers/wat';
import { BIN, PROGRAMS, mvvm, workdir } from './cli-harness';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(args: string[], cwd: string, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, ended, stderr: () => stderr, stdout: () => stdout };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(5)) if (what()) return true;
  return what();
}
const temps = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.mvvm-tmp'));

/** 64 MiB of non-zero memory and an endless loop: every snapshot is large, so writes take a while. */
let bigWasm: string;
let dir: string;
beforeAll(async () => {
  dir = workdir();
  bigWasm = join(dir, 'big.wasm');
  writeFileSync(
    bigWasm,
    await wat(`(module (memory (export "memory") 1024)
      (func (export "_start")
        (memory.fill (i32.const 0) (i32.const 7) (i32.const 67108864))
        (loop $l (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))) (br $l))))`),
  );
});

test('SIGUSR1 sent to a run, which takes no checkpoints, neither kills it nor opens the inspector', async () => {
  const compute = join(PROGRAMS, 'compute.wasm');
  const ref = mvvm(['run', compute, '-g3', '-n300000'], dir);
  const p = start(['run', compute, '-g3', '-n300000'], dir, ['--inspect-port=0']);
  // Once the program runs (its first output), three times while it works.
  expect(await until(() => p.stdout().length > 0, 20_000)).toBe(true);
  for (let i = 0; i < 3; i++, await sleep(20)) p.child.kill('SIGUSR1');
  expect(await p.ended).toEqual({ code: ref.code, signal: null });
  expect(p.stdout()).toBe(ref.stdout.toString());
  expect(p.stderr()).toBe(ref.stderr.toString());
});

test('an inspector a SIGUSR1 opened while Node started is closed by the first line of the bin', async () => {
  // A preload raises SIGUSR1 before the bin runs (Node's own handler starts the inspector, on an ephemeral port here).
  const preload = join(dir, 'usr1-preload.js');
  writeFileSync(
    preload,
    `process.kill(process.pid, 'SIGUSR1');
     const t0 = Date.now();
     while (require('node:inspector').url() === undefined && Date.now() - t0 < 5000) require('node:child_process').spawnSync('sleep', ['0.01']);`,
  );
  const p = start(['checkpoint', '-t', bigWasm, '-c', '1000000000000', '-o', 'never.mvvm'], dir, ['--inspect-port=0', '-r', preload]);
  expect(await until(() => /closed the inspector/.test(p.stderr()), 10_000)).toBe(true);
  const port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\//.exec(p.stderr())?.[1]);
  expect(port).toBeGreaterThan(0);
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  // Still running (the endless loop), and still owning SIGUSR1: a checkpoint, not a death.
  p.child.kill('SIGUSR1');
  const end = await p.ended;
  expect(end).toEqual({ code: 0, signal: null });
  expect(readdirSync(dir)).toContain('never.mvvm');
});

test('SIGTERM during a snapshot write removes its temporary file and ends the process by SIGTERM', async () => {
  const out = workdir();
  let interruptedWrites = 0;
  for (let attempt = 0; attempt < 12 && interruptedWrites < 2; attempt++) {
    const p = start(['checkpoint', '-t', bigWasm, '--every', '1000', '--keep', '2', '-o', 'p.mvvm', '-v'], out);
    // Wait for a temporary file to appear (a write under way), then signal at once.
    expect(await until(() => temps(out).length > 0, 20_000)).toBe(true);
    p.child.kill('SIGTERM');
    const end = await p.ended;
    expect(end.signal).toBe('SIGTERM');
    if (/SIGTERM while writing/.test(p.stderr())) interruptedWrites++;
    expect(temps(out)).toEqual([]);
  }
  expect(interruptedWrites).toBeGreaterThan(0);
});

test('a temporary file a SIGKILL left is swept by the next write there; others of our naming only when stale', async () => {
  const out = workdir();
  const p = start(['checkpoint', '-t', bigWasm, '--every', '1000', '-o', 'p.mvvm'], out);
  expect(await until(() => temps(out).length > 0, 20_000)).toBe(true);
  p.child.kill('SIGKILL');
  await p.ended;
  const left = temps(out);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a pid that no longer runs
  const host = hostname();
  const names = {
    deadWriter: `.q.mvvm.${host}.${dead}.abc0.mvvm-tmp`,
    liveWriter: `.q.mvvm.${host}.${process.pid}.abc1.mvvm-tmp`,
    liveButOld: `.q.mvvm.${host}.${process.pid}.abc2.mvvm-tmp`,
    otherHost: `.q.mvvm.elsewhere.example.${dead}.abc3.mvvm-tmp`,
    notOurs: `.q.mvvm.${dead}.tmp`,
  };
  for (const n of Object.values(names)) writeFileSync(join(out, n), 'x');
  const hoursAgo = Date.now() / 1000 - 2 * 3600;
  utimesSync(join(out, names.liveButOld), hoursAgo, hoursAgo);
  const r = mvvm(['checkpoint', '-t', join(PROGRAMS, 'compute.wasm'), '-a', '-g3,-n3000', '-c', '1000', '-o', 'q.mvvm'], out);
  expect(r.code).toBe(0);
  const after = readdirSync(out);
  for (const n of left) expect(after).not.toContain(n);
  expect(after).not.toContain(names.deadWriter);
  expect(after).not.toContain(names.liveButOld);
  expect(after).toEqual(expect.arrayContaining([names.liveWriter, names.otherHost, names.notOurs, 'q.mvvm']));
}, 60_000);
