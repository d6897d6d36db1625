/**
 * `mvvm run --threads=workers` through the real CLI: a wasi-threads program with every thread
 * on a worker thread gives V8's output and exit code, a trap in a thread is the CLI's trap
 * (exit 134, one line); what needs snapshots refuses the mode in one line.
 */
import { WABT_FEATURES, assemble, loadWabt } from '../../interpreter/test/helpers/wat';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvvm, workdir } from './cli-harness';
import { parallelSum, prodCons, runV8Threads, threadProgramPath, threadsWat } from '../../wasi/test/threads/programs';

describe('mvvm run --threads=workers', () => {
  test.each([parallelSum(3, 30000), prodCons(2, 2, 300, 1)].map((c) => [`${c.name} ${c.args.join(' ')}`, c] as const))('%s: the output of V8 with worker threads', (_, c) => {
    const r = mvvm(['run', '--threads=workers', threadProgramPath(c.name), ...c.args], workdir());
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe(c.expected);
    expect(r.stdout.toString()).toBe(runV8Threads(c.name, c.args).stdout);
    expect(r.code).toBe(0);
  });

  test('proc_exit and a trap in a spawned thread end the program', async () => {
    const dir = workdir();
    const wabt = await loadWabt();
    const write = (name: string, start: string) => {
      writeFileSync(join(dir, name), assemble(wabt, threadsWat(start), { ...WABT_FEATURES, threads: true }));
      return name;
    };
    const exit = mvvm(['run', '--threads', 'workers', write('exit.wasm', '(drop (call $spawn (i32.const 2))) (call $wait)')], dir);
    expect(exit.code).toBe(7);
    const trap = mvvm(['run', '--threads=workers', write('trap.wasm', '(drop (call $spawn (i32.const 1))) (call $wait)')], dir);
    expect(trap.code).toBe(134);
    expect(trap.stderr.toString()).toBe('mvvm: trap: unreachable\n');
  });

  test('checkpoint, --migrate-to and a program without threads refuse the mode in one line', () => {
    const wasm = threadProgramPath('parallel_sum');
    const dir = workdir();
    const cp = mvvm(['checkpoint', '--threads=workers', '-c', '1000', '-t', wasm], dir);
    expect(cp.code).toBe(1);
    expect(cp.stderr.toString()).toMatch(/^mvvm: checkpoint cannot be used with --threads=workers: [^\n]*\n$/);
    const mig = mvvm(['run', '--threads=workers', '--migrate-to', '127.0.0.1:1', wasm], dir);
    expect(mig.code).toBe(1);
    expect(mig.stderr.toString()).toMatch(/^mvvm: --migrate-to cannot be used with --threads=workers[^\n]*\n$/);
    const single = mvvm(['run', '--threads=workers', join(__dirname, '..', '..', 'wasi', 'test', 'programs', 'clock_random.wasm')], dir);
    expect(single.code).toBe(1);
    expect(single.stderr.toString()).toMatch(/is not a wasi-threads program/);
  });
});
