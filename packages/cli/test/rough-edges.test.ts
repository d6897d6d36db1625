/**
 * The CLI's rough edges (issue 8), each through the real bin: the -a rule and `--`, -c/-f
 * beside --every, a checkpoint run that writes no snapshot, errors that name the file and
 * what it is not, exit codes in the low 8 bits, trap stacks with wasm byte offsets and
 * instruction names, inspect/debug positions and cosmetics, -f by a demangled C++ name,
 * and the progress bar on a terminal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wat } from '../../interpreter/test/helpers/wat';
import { BIN, PROGRAMS, mvvm, workdir } from './cli-harness';

const probe = join(PROGRAMS, 'probe.wasm');
const compute = join(PROGRAMS, 'compute.wasm');
let dir: string;
/** Byte offsets (in trap.wasm) of the instructions the trap test expects. */
let trapBytes: Uint8Array;

const argsOf = (stderr: Buffer) =>
  stderr
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('arg '))
    .map((l) => l.slice(4));

beforeAll(async () => {
  dir = workdir();
  trapBytes = await wat(`(module
    (func $divide (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
    (func $middle (param i32) (result i32) (call $divide (i32.const 10) (local.get 0)))
    (func $_Z7BrandesRK8CSRGraphIiiLb1EE (param i32) (result i32) (local.get 0))
    (func $_ZN1g7BrandesIfEET_RKNS_3CSRE (param i32) (result i32) (local.get 0))
    (func $_ZN5Graph10out_degreeEi (param i32) (result i32) (call $_Z7BrandesRK8CSRGraphIiiLb1EE (local.get 0)))
    (func (export "_start") (drop (call $_ZN5Graph10out_degreeEi (i32.const 1))) (drop (call $middle (i32.const 0)))))`);
  writeFileSync(join(dir, 'trap.wasm'), trapBytes);
  writeFileSync(
    join(dir, 'exit.wasm'),
    await wat(`(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32))) (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const -1))))`),
  );
  // Moves stdout to fd 5 and creates yosys.log in its preopen (fd 3), then loops: for inspect's fd names.
  writeFileSync(
    join(dir, 'fds.wasm'),
    await wat(`(module
      (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 16) "yosys.log")
      (func (export "_start")
        (if (call $renumber (i32.const 1) (i32.const 5)) (then unreachable))
        (if (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 9) (i32.const 1) (i64.const 0x42) (i64.const 0) (i32.const 0) (i32.const 0)) (then unreachable))
        (loop $l (br $l))))`),
  );
  writeFileSync(join(dir, 'deep.wasm'), await wat(`(module (func $down (call $down)) (func (export "_start") (call $down)))`));
  writeFileSync(join(dir, 'loop.wasm'), await wat(`(module (memory 1) (func (export "_start") (loop $l (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))) (br $l))))`));
});

describe('-a and --', () => {
  test('each -a is one argument, commas split, \\, keeps a comma, spaces do not split (with a warning); -- passes the rest verbatim', () => {
    const r = mvvm(['checkpoint', '-t', probe, '-a', 'one', '-a', 'x,y', '-a', 'a\\,b', '-a', '-g 12', '-c', '10', '-o', 'a.mvvm', '--continue', '--', '-n', '1,2', '--every'], dir);
    expect(r.code).toBe(0);
    expect(argsOf(r.stderr)).toEqual(['one', 'x', 'y', 'a,b', '-g 12', '-n', '1,2', '--every']);
    expect(r.stderr.toString()).toMatch(/mvvm: -a '-g 12' is one argument with spaces in it; for several, repeat -a/);
    expect(r.stdout.toString()).toBe('stdout line\n');
  });

  test('mvvm checkpoint -t P -- args... works with no -a at all', () => {
    const r = mvvm(['checkpoint', '-t', probe, '-c', '5', '-o', 'b.mvvm', '--continue', '--', '-g', '12'], dir);
    expect(r.code).toBe(0);
    expect(argsOf(r.stderr)).toEqual(['-g', '12']);
    expect(r.stderr.toString()).not.toMatch(/one argument with spaces/);
  });
});

describe('triggers', () => {
  test('-c beside --every stops the run after the -c checkpoint; --continue keeps it going', () => {
    const d = workdir();
    const stop = mvvm(['checkpoint', '-t', compute, '-a', '-g3,-n30000', '--every', '100000', '-c', '250000', '-o', 'e.mvvm'], d);
    expect(stop.code).toBe(0);
    expect(readdirSync(d).sort()).toEqual(['data', 'e-1.mvvm', 'e-2.mvvm', 'e.mvvm']);
    const ended = JSON.parse(mvvm(['inspect', '--json', 'e.mvvm'], d).stdout.toString());
    expect(ended.instructionCount).toBe(250000);
    const full = mvvm(['run', compute, '-g3', '-n30000'], d).stdout.toString();
    expect(full.length).toBeGreaterThan(0);
    expect(full.startsWith(stop.stdout.toString())).toBe(true);
    expect(stop.stdout.length).toBeLessThan(full.length);
    const go = mvvm(['checkpoint', '-t', compute, '-a', '-g3,-n30000', '--every', '100000', '--keep', '1', '-c', '250000', '--continue', '-o', 'g.mvvm'], d);
    expect(go.code).toBe(mvvm(['run', compute, '-g3', '-n30000'], d).code);
    expect(go.stdout.toString()).toBe(full);
  });

  test('checkpoint with no trigger that runs to the end: warned (-v) and exit 3, no snapshot', () => {
    const d = workdir();
    const r = mvvm(['checkpoint', '-t', probe, '-o', 'n.mvvm', '-v'], d);
    expect(r.code).toBe(3);
    expect(r.stderr.toString()).toMatch(/no trigger given \(-c, -f, --every\): only SIGUSR1 or SIGINT will take a checkpoint/);
    expect(r.stderr.toString()).toMatch(/mvvm: no checkpoint taken: the program ended after \d+ instructions \(exit code 0\), and no trigger was given/);
    expect(existsSync(join(d, 'n.mvvm'))).toBe(false);
    expect(mvvm(['checkpoint', '--help'], d).stdout.toString()).toMatch(/Exit status 3/);
  });
});

describe('errors name the file and what it is not', () => {
  test.each([
    ['a text file', () => writeFileSync(join(dir, 'x.txt'), 'hello\n'), 'x.txt', /^mvvm: x\.txt is not a WebAssembly module \(no \\0asm header\)\n$/],
    ['a truncated module', () => writeFileSync(join(dir, 'cut.wasm'), readFileSync(probe).subarray(0, 300)), 'cut.wasm', /^mvvm: cut\.wasm is not a well-formed WebAssembly module: truncated or corrupt \(300 bytes\): .*\n$/],
    ['an empty file', () => writeFileSync(join(dir, 'empty.wasm'), ''), 'empty.wasm', /^mvvm: empty\.wasm is not a WebAssembly module \(0 bytes\)\n$/],
  ])('%s', (_what, make, file, message) => {
    make();
    for (const args of [['run', file], ['checkpoint', '-t', file, '-c', '1']]) {
      const r = mvvm(args, dir);
      expect(r.code).toBe(1);
      expect(r.stderr.toString()).toMatch(message);
    }
  });

  test('--dir HOST:GUEST suggests ::, and --dir a:::/d is refused', () => {
    const one = mvvm(['run', '--dir', 'renum:/d', probe], dir);
    expect(one.code).toBe(1);
    expect(one.stderr.toString()).toBe('mvvm: --dir renum:/d: no such directory (for guest name /d, write renum::/d)\n');
    const three = mvvm(['run', '--dir', 'data:::/d', probe], dir);
    expect(three.code).toBe(1);
    expect(three.stderr.toString()).toBe("mvvm: --dir 'data:::/d': expected HOST or HOST::GUEST\n");
  });

  test('a missing incremental base names the file looked for', () => {
    const d = workdir();
    expect(mvvm(['checkpoint', '-t', compute, '-a', '-g3,-n30000', '--every', '100000', '--keep', '5', '--incremental', '-c', '250000', '-o', 'i.mvvm'], d).code).toBe(0);
    renameSync(join(d, 'i-1.mvvm'), join(d, 'moved.mvvm'));
    const r = mvvm(['restore', '-t', compute, 'i-2.mvvm'], d);
    expect(r.code).toBe(1);
    expect(r.stderr.toString()).toMatch(/^mvvm: i-2\.mvvm is incremental and its base [0-9a-f]{12} is missing: looked for \S*i-1\.mvvm: ENOENT/);
    const restored = mvvm(['restore', '-t', compute, 'i-2.mvvm', '--base', 'moved.mvvm'], d);
    expect(restored.stderr.toString()).toBe('seed 3\n'); // the program's own last line
    expect(restored.code).toBe(mvvm(['run', compute, '-g3', '-n30000'], d).code);
  });

  test('-f by a demangled C++ name: one match is taken, several are listed, none suggests', () => {
    const one = mvvm(['checkpoint', '-t', 'trap.wasm', '-f', 'out_degree', '-o', 'f.mvvm'], dir);
    expect(one.stderr.toString()).not.toMatch(/no function/);
    expect(JSON.parse(mvvm(['inspect', '--json', 'f.mvvm'], dir).stdout.toString()).stack[0].name).toBe('_ZN5Graph10out_degreeEi');
    const two = mvvm(['checkpoint', '-t', 'trap.wasm', '-f', 'Brandes'], dir);
    expect(two.code).toBe(1);
    expect(two.stderr.toString()).toMatch(/^mvvm: 'Brandes' names 2 functions: pick one by its name or index: _Z7BrandesRK8CSRGraphIiiLb1EE \(2\), _ZN1g7BrandesIfEET_RKNS_3CSRE \(3\)\n$/);
    const none = mvvm(['checkpoint', '-t', 'trap.wasm', '-f', 'brand'], dir);
    expect(none.code).toBe(1);
    expect(none.stderr.toString()).toMatch(/^mvvm: no function 'brand' in the module; did you mean Brandes = _Z7Brandes\S+ \(2\), g::Brandes = _ZN1g7Brandes\S+ \(3\)\n$/);
  });

  test('the exit status is the low 8 bits: proc_exit(-1) exits 255', () => {
    const r = mvvm(['run', 'exit.wasm'], dir);
    expect(r.code).toBe(255);
    const c = mvvm(['checkpoint', '-t', 'exit.wasm', '-c', '1000'], dir);
    expect(c.code).toBe(3);
    expect(c.stderr.toString()).toMatch(/\(exit code 255\)/);
  });
});

describe('wasm positions', () => {
  /** Byte offsets of the instructions with this opcode inside trap.wasm's code section. */
  const offsetsOf = (opcode: number, after: number) => [...trapBytes.keys()].filter((i) => i > after && trapBytes[i] === opcode);

  test('a trap prints the wasm call stack: names, byte offsets, instruction names', () => {
    const r = mvvm(['run', 'trap.wasm'], dir);
    expect(r.code).toBe(134);
    const lines = r.stderr.toString().trimEnd().split('\n');
    expect(lines[0]).toBe('mvvm: trap: integer divide by zero');
    expect(lines.slice(1).map((l) => l.replace(/0x[0-9a-f]+/, 'OFF'))).toEqual(['    at divide (func 0, OFF i32.div_s)', '    at middle (func 1, OFF call)', '    at _start (func 5, OFF call)']);
    // The offsets are those of the instructions named: i32.div_s is 0x6d in the module's bytes.
    const offsets = lines.slice(1).map((l) => parseInt(/0x([0-9a-f]+)/.exec(l)![1], 16));
    expect(trapBytes[offsets[0]]).toBe(0x6d);
    expect(trapBytes[offsets[1]]).toBe(0x10);
    expect(trapBytes[offsets[2]]).toBe(0x10);
    expect(trapBytes[offsets[2] + 1]).toBe(1); // _start's second call: to middle (func 1)
    expect(offsetsOf(0x6d, 8)).toContain(offsets[0]);
  });

  test('a trap in a deep recursion prints the innermost and outermost frames with a count between', () => {
    const r = mvvm(['run', 'deep.wasm'], dir);
    expect(r.code).toBe(134);
    const lines = r.stderr.toString().trimEnd().split('\n');
    expect(lines[0]).toBe('mvvm: trap: call stack exhausted');
    expect(lines).toHaveLength(1 + 40 + 1);
    expect(lines[1]).toMatch(/^ {4}at down \(func 0, 0x[0-9a-f]+ call\)$/);
    expect(lines[36]).toMatch(/^ {4}\.\.\. \d+ more frames \.\.\.$/);
    expect(lines[lines.length - 1]).toMatch(/^ {4}at _start \(func 1, 0x[0-9a-f]+ call\)$/);
  });

  test('inspect (from the snapshot, and with -t) and debug show byte offsets and instruction names', () => {
    expect(mvvm(['checkpoint', '-t', 'trap.wasm', '-f', 'divide', '-o', 'd.mvvm'], dir).code).toBe(0);
    const text = mvvm(['inspect', 'd.mvvm'], dir).stdout.toString();
    expect(text).toMatch(/state\s+running, \d+ instructions, 3 frames/);
    const stack = text.split('\n').filter((l) => /^ {2}#\d/.test(l));
    expect(stack.map((l) => l.replace(/0x[0-9a-f]+/, 'OFF'))).toEqual(['  #0 divide (func 0, OFF local.get)', '  #1 middle (func 1, OFF call)', '  #2 _start (func 5, OFF call)']);
    const withModule = mvvm(['inspect', 'd.mvvm', '-t', 'trap.wasm'], dir).stdout.toString().split('\n').filter((l) => /^ {2}#\d/.test(l));
    expect(withModule).toEqual(stack);
    const dbg = mvvm(['debug', '-t', 'trap.wasm'], dir, 'to divide\nstack\ncontinue\n');
    const out = dbg.stdout.toString();
    expect(out).toMatch(/stopped at instruction \d+ in divide \(func 0, 0x[0-9a-f]+ local\.get\), depth 3/);
    expect(out).toMatch(/error: integer divide by zero\n {2}#0 divide \(func 0, 0x[0-9a-f]+ i32\.div_s\)\n {2}#1 middle/);
    expect(dbg.code).toBe(134);
  });

  test('inspect: "1 frame", and a stdio fd moved off 0-2 keeps its stream name', () => {
    const one = mvvm(['checkpoint', '-t', 'loop.wasm', '-c', '10', '-o', 'l.mvvm'], dir);
    expect(one.code).toBe(0);
    expect(mvvm(['inspect', 'l.mvvm'], dir).stdout.toString()).toMatch(/state\s+running, 10 instructions, 1 frame\n/);
    const d = workdir();
    const fds = mvvm(['checkpoint', '-t', join(dir, 'fds.wasm'), '-d', 'data::/', '-c', '1000', '-o', 'fds.mvvm'], d);
    expect(fds.code).toBe(0);
    const lines = mvvm(['inspect', 'fds.mvvm'], d).stdout.toString().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}5 stdio +<stdout> +written 0 bytes$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}3 preopen +\/$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}\d file +\/yosys\.log +offset 0, size 0$/));
  });
});

// util-linux's `script` gives the CLI a terminal; without it there is none to test with.
const haveScript = spawnSync('script', ['--version']).status === 0;
(haveScript ? test : test.skip)('progress towards the trigger on a terminal (and none when stderr is not one)', () => {
  // The interpreter alone: the JS tier runs this loop's 600M instructions before any progress shows.
  const args = ['checkpoint', '--tier', 'interpreter', '-t', 'loop.wasm', '-c', '600000000', '-o', 'p.mvvm'];
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8' });
  expect(tty.status).toBe(0);
  expect(tty.stdout).toMatch(/mvvm: \[[^\]]*\] \d+% [\d,]+ of 600,000,000 instructions, towards after 600000000 instructions/);
  const piped = mvvm(args, dir);
  expect(piped.code).toBe(0);
  expect(piped.stderr.toString()).toBe('');
}, 60_000);
