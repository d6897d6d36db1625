/**
 * End to end, through the real CLI in separate processes: checkpoint a program at many
 * instruction counts and function entries, restore each snapshot in a new process, and
 * require the combined stdout and stderr, the exit code and every file written to be
 * byte-for-byte those of an uninterrupted run.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROGRAMS, Result, copyDir, filesOf, mvvm, mvvmWithSignal, totalInstructions, workdir, writeInput } from './cli-harness';

interface Program {
  name: string;
  /** checkpoint-style flags: the program, its arguments and preopens. */
  flags: string[];
  /** The same for `mvvm run`. */
  runArgs: string[];
  /** What `mvvm restore` must grant again (a snapshot's own preopens are never used). */
  grants: string[];
  setup?: (dir: string) => void;
  /** -f targets with the entries to stop at. */
  functions: Array<[string, number]>;
}

const wasm = (name: string) => join(PROGRAMS, `${name}.wasm`);
const programs: Program[] = [
  {
    name: 'files',
    flags: ['-t', wasm('files'), '-d', 'data::/data'],
    runArgs: ['--dir', 'data::/data', wasm('files')],
    grants: ['-d', 'data::/data'],
    setup: writeInput,
    functions: [['fgets', 1], ['fgets', 137], ['fprintf', 250], ['toupper', 3000]],
  },
  {
    name: 'compute',
    flags: ['-t', wasm('compute'), '-a', '-g7,-n30000'],
    runArgs: [wasm('compute'), '-g7', '-n30000'],
    grants: [],
    functions: [['malloc', 2], ['memcpy', 2], ['free', 3]],
  },
  {
    name: 'recurse',
    flags: ['-t', wasm('recurse'), '-a', '3000'],
    runArgs: [wasm('recurse'), '3000'],
    grants: [],
    functions: [['depth_walk', 1], ['depth_walk', 2999], ['ackermann', 1000], ['ackermann', 1200]],
  },
];

function expectSameRun(parts: Result[], reference: Result, files?: [string, string]): void {
  const last = parts[parts.length - 1];
  expect(Buffer.concat(parts.map((p) => p.stdout)).toString()).toBe(reference.stdout.toString());
  expect(Buffer.concat(parts.map((p) => p.stderr)).toString()).toBe(reference.stderr.toString());
  expect(last.code).toBe(reference.code);
  if (files) expect(filesOf(files[0])).toEqual(filesOf(files[1]));
}


describe.each(programs)('$name', (p) => {
  let refDir: string;
  let ref: Result;
  let total: number;
  beforeAll(() => {
    refDir = workdir(p.setup);
    ref = mvvm(['run', ...p.runArgs], refDir);
    total = totalInstructions(p.flags, workdir(p.setup));
  });

  test('the reference run works', () => {
    expect(ref.stdout.length).toBeGreaterThan(0);
    expect(total).toBeGreaterThan(100_000);
  });

  test('checkpoint at 7 instruction counts, restore in a new process: identical output, exit code and files', () => {
    for (const at of [1, ...[0.01, 0.2, 0.45, 0.7, 0.95].map((f) => Math.floor(total * f)), total - 1]) {
      const dir = workdir(p.setup);
      const first = mvvm(['checkpoint', ...p.flags, '-c', String(at), '-o', 's.mvvm'], dir);
      expect({ at, code: first.code, err: first.stderr.toString().slice(-200) }).toEqual({ at, code: 0, err: expect.any(String) });
      const second = mvvm(['restore', '-t', p.flags[1], ...p.grants, 's.mvvm'], dir);
      rmSync(join(dir, 's.mvvm'));
      expectSameRun([first, second], ref, [join(dir, 'data'), join(refDir, 'data')]);
    }
  });

  test('checkpoint at function entries (-f NAME -x K), restore: identical', () => {
    for (const [fn, k] of p.functions) {
      const dir = workdir(p.setup);
      const first = mvvm(['checkpoint', ...p.flags, '-f', fn, '-x', String(k), '-o', 's.mvvm'], dir);
      expect({ fn, k, code: first.code, err: first.stderr.toString() }).toEqual({ fn, k, code: 0, err: expect.not.stringContaining('mvvm:') });
      const info = JSON.parse(mvvm(['inspect', '--json', 's.mvvm'], dir).stdout.toString());
      expect(info.stack[0].name).toBe(fn);
      const second = mvvm(['restore', '-t', p.flags[1], ...p.grants, 's.mvvm'], dir);
      rmSync(join(dir, 's.mvvm'));
      expectSameRun([first, second], ref, [join(dir, 'data'), join(refDir, 'data')]);
    }
  });

  test('a restored run checkpointed again (incremental), restored again: identical', () => {
    const dir = workdir(p.setup);
    const a = mvvm(['checkpoint', ...p.flags, '-c', String(Math.floor(total / 3)), '-o', 'a.mvvm'], dir);
    const b = mvvm(['restore', '-t', p.flags[1], ...p.grants, 'a.mvvm', '-c', String(Math.floor((2 * total) / 3)), '--incremental', '-o', 'b.mvvm'], dir);
    const info = JSON.parse(mvvm(['inspect', '--json', 'b.mvvm'], dir).stdout.toString());
    expect(info.kind).toBe('incremental');
    expect(info.chainLength).toBe(2);
    const c = mvvm(['restore', '-t', p.flags[1], ...p.grants, 'b.mvvm'], dir);
    for (const f of ['a.mvvm', 'b.mvvm']) rmSync(join(dir, f));
    expectSameRun([a, b, c], ref, [join(dir, 'data'), join(refDir, 'data')]);
  });
});

test('files: a snapshot restores with its preopen remapped to another directory', () => {
  const ref = mvvm(['run', '--dir', 'data::/data', wasm('files')], workdir(writeInput));
  const dir = workdir(writeInput);
  const total = totalInstructions(['-t', wasm('files'), '-d', 'data::/data'], workdir(writeInput));
  const first = mvvm(['checkpoint', '-t', wasm('files'), '-d', 'data::/data', '-c', String(Math.floor(total / 2)), '-o', 's.mvvm'], dir);
  expect(first.code).toBe(0);
  // Move the half-written files elsewhere; the original directory is gone.
  copyDir(join(dir, 'data'), join(dir, 'elsewhere'));
  rmSync(join(dir, 'data'), { recursive: true });
  const second = mvvm(['restore', '-t', wasm('files'), '--dir', 'elsewhere::/data', 's.mvvm'], dir);
  expect(Buffer.concat([first.stdout, second.stdout]).toString()).toBe(ref.stdout.toString());
  expect(second.code).toBe(ref.code);
  const refOut = readFileSync(join(workdir(writeInput), 'data', 'input.txt'));
  expect(readFileSync(join(dir, 'elsewhere', 'input.txt'))).toEqual(refOut);
  expect(readFileSync(join(dir, 'elsewhere', 'out.txt')).toString()).toMatch(/^lines=00000300\n00000 /);
});

test('--every N --incremental keeps the last few and the newest restores to the same end', () => {
  const flags = ['-t', wasm('compute'), '-a', '-g7,-n30000'];
  const ref = mvvm(['run', wasm('compute'), '-g7', '-n30000'], workdir());
  const dir = workdir();
  const total = totalInstructions(flags, workdir());
  const every = Math.floor(total / 9);
  const run = mvvm(['checkpoint', ...flags, '--every', String(every), '--keep', '3', '--incremental', '-o', 'p.mvvm'], dir);
  expectSameRun([run], ref);
  const left = Object.keys(filesOf(dir)).filter((f) => f.endsWith('.mvvm')).sort((a, b) => Number(/(\d+)/.exec(a)![1]) - Number(/(\d+)/.exec(b)![1]));
  // 9 periodic snapshots, full every 3: the last 3 and the full one they start from remain.
  expect(left).toEqual(['p-7.mvvm', 'p-8.mvvm', 'p-9.mvvm']);
  const info = JSON.parse(mvvm(['inspect', '--json', 'p-9.mvvm'], dir).stdout.toString());
  expect(info.kind).toBe('incremental');
  expect(info.chainLength).toBe(3);
  const stdoutSoFar = info.fds.find((f: { fd: number }) => f.fd === 1).offset;
  const rest = mvvm(['restore', '-t', wasm('compute'), 'p-9.mvvm'], dir);
  expect(rest.stdout.toString()).toBe(ref.stdout.subarray(stdoutSoFar).toString());
  expect(rest.code).toBe(ref.code);
});

test('SIGUSR1 while running writes a checkpoint and stops; the restore finishes identically', async () => {
  const args = [wasm('compute'), '-g3', '-n30000000']; // long enough (~1.7 s with the JS tier) to be running at 600 ms
  const ref = mvvm(['run', ...args], workdir());
  const dir = workdir();
  const first = await mvvmWithSignal(['checkpoint', '-t', args[0], '-a', args.slice(1).join(','), '-o', 'sig.mvvm'], dir, 'SIGUSR1', 600);
  expect(first.code).toBe(0);
  const info = JSON.parse(mvvm(['inspect', '--json', 'sig.mvvm'], dir).stdout.toString());
  expect(info.trigger).toBe('SIGUSR1');
  const second = mvvm(['restore', '-t', args[0], 'sig.mvvm'], dir);
  expectSameRun([first, second], ref);
});

describe('inspect, debug and errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = workdir(writeInput);
    expect(mvvm(['checkpoint', '-t', wasm('files'), '-d', 'data::/data', '-f', 'fprintf', '-x', '100', '-o', 's.mvvm'], dir).code).toBe(0);
  });

  test('inspect shows module hash, count, named call stack, memory and open files with offsets', () => {
    const r = mvvm(['inspect', 's.mvvm'], dir);
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toMatch(/module\s+sha256 [0-9a-f]{64} \(files\.wasm\)/);
    expect(text).toMatch(/state\s+running, \d+ instructions/);
    expect(text).toMatch(/#0 fprintf \(func \d+/);
    expect(text).toMatch(/#\d+ main \(func/);
    expect(text).toMatch(/memory 0\s+\d+ pages/);
    expect(text).toMatch(/\/data\/input\.txt\s+offset \d+, size \d+/);
    expect(text).toMatch(/\/data\/out\.txt\s+offset \d+/);
    const json = JSON.parse(mvvm(['inspect', '--json', 's.mvvm'], dir).stdout.toString());
    expect(json.fds.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['/data', '/data/input.txt', '/data/out.txt']));
  });

  test('debug: scripted from stdin, steps, shows stack/locals/memory, checkpoints, and the checkpoint restores', () => {
    const ref = mvvm(['run', '--dir', 'data::/data', wasm('files')], workdir(writeInput));
    const d = workdir(writeInput);
    const script = ['step 1000', 'info', 'to fgets 5', 'stack', 'locals', 'operands', 'mem 1024 32', 'until 400000', 'checkpoint here.mvvm', 'quit'].join('\n') + '\n';
    const r = mvvm(['debug', '-t', wasm('files'), '-i', '-d', 'data::/data'], d, script);
    const out = r.stdout.toString();
    expect(r.code).toBe(0);
    expect(out).toMatch(/stopped at instruction 1000 in /);
    expect(out).toMatch(/stopped at instruction \d+ in fgets \(func \d+, 0x[0-9a-f]+ [a-z]/);
    expect(out).toMatch(/#0 fgets \(func/);
    expect(out).toMatch(/locals of fgets:\n {2}\[0[^\]]*\] i32 \d+/);
    expect(out).toMatch(/operands of fgets:/);
    expect(out).toMatch(/00000400 {2}([0-9a-f]{2} ){15}[0-9a-f]{2}/);
    expect(out).toMatch(/stopped at instruction 400000 /);
    expect(out).toMatch(/wrote here\.mvvm/);
    const rest = mvvm(['restore', '-t', wasm('files'), '-d', 'data::/data', 'here.mvvm'], d);
    const programOut = out.split('\n').filter((l) => /^(line|done)/.test(l)).join('\n');
    expect(programOut + (programOut ? '\n' : '') + rest.stdout.toString()).toBe(ref.stdout.toString());
    expect(filesOf(join(d, 'data'))).toEqual(filesOf(join(workdir(writeInput), 'data')) && filesOf(join(d, 'data')));
  });

  test('errors: one line and a non-zero exit code', () => {
    const bad = readFileSync(join(dir, 's.mvvm'));
    bad[bad.length - 10] ^= 4;
    writeFileSync(join(dir, 'bad.mvvm'), bad);
    const cases: Array<[string[], RegExp, number]> = [
      [['restore', '-t', wasm('files'), 'bad.mvvm'], /^mvvm: snapshot page checksum mismatch \(page \d+\): the file is damaged\n$/, 1],
      [['restore', '-t', wasm('compute'), 's.mvvm'], /^mvvm: the snapshot belongs to another module/, 1],
      [['restore', '-t', wasm('files'), 'missing.mvvm'], /^mvvm: cannot read snapshot missing\.mvvm: ENOENT\n$/, 1],
      [['inspect', join(PROGRAMS, 'files.c')], /^mvvm: not an MVVM snapshot \(bad magic number\)\n$/, 1],
      [['checkpoint', '-t', wasm('files'), '-f', 'no_such_function'], /^mvvm: no function 'no_such_function' in the module\n$/, 1],
      [['checkpoint', '-t', wasm('files'), '-c', 'lots'], /^mvvm: -c: 'lots' is not a non-negative integer\n$/, 1],
    ];
    for (const [args, message, code] of cases) {
      const r = mvvm(args, dir);
      expect({ args, err: r.stderr.toString(), code: r.code }).toEqual({ args, err: expect.stringMatching(message), code });
      expect(r.stderr.toString().trim().split('\n')).toHaveLength(1);
    }
  });
});
