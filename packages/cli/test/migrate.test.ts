/**
 * Live migration through the real CLI in separate processes over loopback: programs moved
 * at several points are byte for byte an uninterrupted run (output, exit code, files);
 * chained hops; --ship-dir; and faults, each checked for "nothing lost, nothing twice".
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameType } from '@mvvm/migrate/protocol';
import { PROGRAMS, Result, filesOf, mvvm, totalInstructions, workdir, writeInput } from './cli-harness';
import { Proc, killAll, programErr, relay, serve, spawnMvvm, waitFor } from './migrate-harness';

const wasm = (name: string) => join(PROGRAMS, `${name}.wasm`);
const INSECURE = ['--insecure'];

interface Program {
  name: string;
  args: string[];
  /** checkpoint-style flags, to count instructions. */
  flags: string[];
  dirs: boolean;
}
const programs: Program[] = [
  { name: 'files', args: ['--dir', 'data::/data', wasm('files')], flags: ['-t', wasm('files'), '-d', 'data::/data'], dirs: true },
  { name: 'compute', args: [wasm('compute'), '-g7', '-n30000'], flags: ['-t', wasm('compute'), '-a', '-g7,-n30000'], dirs: false },
  { name: 'recurse', args: [wasm('recurse'), '3000'], flags: ['-t', wasm('recurse'), '-a', '3000'], dirs: false },
];

afterEach(killAll);

function reference(p: Program): { ref: Result; dir: string; total: number } {
  const dir = workdir(p.dirs ? writeInput : undefined);
  return { ref: mvvm(['run', ...p.args], dir), dir, total: totalInstructions(p.flags, workdir(p.dirs ? writeInput : undefined)) };
}

/** Source and target outputs, put together, are the reference's. */
function expectWhole(parts: Array<{ stdout: string; stderr: string }>, ref: Result): void {
  expect(parts.map((p) => p.stdout).join('')).toBe(ref.stdout.toString());
  expect(parts.map((p) => programErr(p.stderr)).join('')).toBe(programErr(ref.stderr.toString()));
}

const finished = async (p: Proc) => ({ ...(await p.done), stdout: p.stdout(), stderr: p.stderr() });

describe.each(programs)('$name', (p) => {
  test('moved at three points (serve prints the rest), and once with --follow: output, exit code and files as an uninterrupted run', async () => {
    const { ref, dir: refDir, total } = reference(p);
    expect(total).toBeGreaterThan(100_000);
    for (const [at, mode] of [[0.2, []], [0.5, []], [0.9, ['--no-precopy']]] as const) {
      const dir = workdir(p.dirs ? writeInput : undefined);
      const target = await serve([...INSECURE, '--once', ...(p.dirs ? ['--dir', `${join(dir, 'data')}::/data`] : [])], dir);
      const source = spawnMvvm(['run', '--migrate-to', `127.0.0.1:${target.port}`, ...INSECURE, '--after', String(Math.floor(total * at)), ...mode, '-v', ...p.args], dir);
      const s = await finished(source);
      if (/ended here during the transfer/.test(s.stderr)) {
        // Pre-copy lets the program run on: near its end it may finish before the hand-over.
        expect(s.code).toBe(ref.code);
        expectWhole([s], ref);
        continue;
      }
      const t = await finished(target);
      expect({ at, code: s.code, line: /migrated to .*downtime/.test(s.stderr) }).toEqual({ at, code: 0, line: true });
      expect(t.stderr).toMatch(/received .* rounds/);
      expect(t.code).toBe(ref.code);
      expectWhole([s, t], ref);
      if (p.dirs) expect(filesOf(join(dir, 'data'))).toEqual(filesOf(join(refDir, 'data')));
    }
    const dir = workdir(p.dirs ? writeInput : undefined);
    const target = await serve([...INSECURE, '--once', ...(p.dirs ? ['--dir', `${join(dir, 'data')}::/data`] : [])], dir);
    const source = spawnMvvm(['run', '--migrate-to', `127.0.0.1:${target.port}`, ...INSECURE, '--after', String(Math.floor(total / 3)), '--follow', '-v', ...p.args], dir);
    const s = await finished(source);
    if (/ended here during the transfer/.test(s.stderr)) process.kill(target.child.pid!, 'SIGKILL');
    await target.done;
    expect(s.code).toBe(ref.code);
    expect(s.stdout).toBe(ref.stdout.toString());
    expect(programErr(s.stderr)).toBe(programErr(ref.stderr.toString()));
    if (p.dirs) expect(filesOf(join(dir, 'data'))).toEqual(filesOf(join(refDir, 'data')));
  });
});

test('chained A -> B -> C -> A with --follow: the source sees one whole run and the exit code', async () => {
  const p = programs[1];
  const { ref, total } = reference(p);
  const dir = workdir();
  // Stop-and-copy hops: each move happens at its trigger (a pre-copy lets the program run on, and maybe end before a hop).
  const back = await serve([...INSECURE, '--once'], dir);
  const c = await serve([...INSECURE, '--once', '--no-precopy', '--migrate-to', `127.0.0.1:${back.port}`, '--after', String(Math.floor(total * 0.6))], dir);
  const b = await serve([...INSECURE, '--once', '--no-precopy', '--migrate-to', `127.0.0.1:${c.port}`, '--after', String(Math.floor(total * 0.4))], dir);
  const a = spawnMvvm(['run', '--migrate-to', `127.0.0.1:${b.port}`, ...INSECURE, '--after', String(Math.floor(total * 0.2)), '--no-precopy', '--follow', ...p.args], dir);
  const s = await finished(a);
  expect(s.code).toBe(ref.code);
  expect(s.stdout).toBe(ref.stdout.toString());
  expect(programErr(s.stderr)).toBe(programErr(ref.stderr.toString()));
  for (const hop of [b, c, back]) expect((await finished(hop)).stderr).toMatch(/received compute\.wasm/);
});

test('--ship-dir: a target without the files gets them (checksummed, in a fresh directory) and finishes the run there', async () => {
  const p = programs[0];
  const { ref, dir: refDir, total } = reference(p);
  const dir = workdir(writeInput);
  const shipRoot = join(dir, 'ship');
  mkdirSync(shipRoot);
  const target = await serve([...INSECURE, '--once', '--ship-root', shipRoot], workdir());
  const source = spawnMvvm(['run', '--migrate-to', `127.0.0.1:${target.port}`, ...INSECURE, '--after', String(Math.floor(total / 2)), '--no-precopy', '--ship-dir', '/data', '--follow', '-v', ...p.args], dir);
  const s = await finished(source);
  const t = await finished(target);
  expect(t.stderr).toMatch(/files shipped/);
  expect(s.code).toBe(ref.code);
  expect(s.stdout).toBe(ref.stdout.toString());
  const [fresh] = readdirSync(shipRoot);
  expect(filesOf(join(shipRoot, fresh))).toEqual(filesOf(join(refDir, 'data')));
});

describe('faults: nothing lost, nothing run twice', () => {
  const p = programs[1];
  let ref: Result;
  let total: number;
  beforeAll(() => ({ ref, total } = reference(p)));
  const run = (port: number, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    // Stop-and-copy: the hand-over happens exactly at the trigger (pre-copy lets the program run on, and maybe end).
    spawnMvvm(['run', '--migrate-to', `127.0.0.1:${port}`, '--after', String(Math.floor(total / 2)), '--no-precopy', '-v', ...extra, ...p.args], workdir(), env);

  test('a wrong token: the target refuses, the source finishes the program itself', async () => {
    const target = await serve([], workdir(), { MVVM_MIGRATION_TOKEN: 'the-right-token' });
    const s = await finished(run(target.port, [], { MVVM_MIGRATION_TOKEN: 'a-wrong-token!' }));
    expect(s.stderr).toMatch(/failed, the program goes on here: .*authentication/);
    expect(s.code).toBe(ref.code);
    expectWhole([s], ref);
    await waitFor(() => /refused/.test(target.stderr()));
    expect(target.stdout()).toBe('');
  });

  test('the same token on both sides works; no token at all is refused before anything runs', async () => {
    const env = { MVVM_MIGRATION_TOKEN: 'the-shared-token' };
    const target = await serve(['--once'], workdir(), env);
    const s = await finished(run(target.port, [], env));
    const t = await finished(target);
    expect(s.code).toBe(0);
    expectWhole([s, t], ref);
    const noToken = await finished(spawnMvvm(['serve', '--listen', '127.0.0.1:0'], workdir()));
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/no migration token/);
    const notLoopback = await finished(spawnMvvm(['serve', '--listen', '0.0.0.0:0', '--insecure'], workdir()));
    expect(notLoopback.stderr).toMatch(/only allowed on a loopback address/);
    const src = await finished(run(1));
    expect(src.code).toBe(1);
    expect(src.stdout).toBe('');
  });

  test('a corrupted frame: the target refuses (checksum), the source finishes the program', async () => {
    const target = await serve(INSECURE, workdir());
    const r = await relay(target.port, ({ dir, type }) => (dir === 'up' && type === FrameType.Pages ? 'corrupt' : 'pass'));
    const s = await finished(run(r.port, INSECURE));
    expect(s.stderr).toMatch(/goes on here/);
    expectWhole([s], ref);
    await waitFor(() => /refused compute.wasm .*checksum mismatch/.test(target.stderr()));
    expect(target.stdout()).toBe('');
    await r.close();
  });

  test('the target killed mid-transfer: the source finishes the program itself', async () => {
    const target = await serve(INSECURE, workdir());
    const r = await relay(target.port, ({ dir, type }) => (dir === 'up' && type === FrameType.Pages ? 'hold' : 'pass'));
    const source = run(r.port, INSECURE);
    await r.held;
    process.kill(target.child.pid!, 'SIGKILL');
    await target.done;
    r.release();
    const s = await finished(source);
    expect(s.stderr).toMatch(/goes on here/);
    expect(s.code).toBe(ref.code);
    expectWhole([s], ref);
    await r.close();
  });

  test('the source killed mid-transfer: nothing runs on the target', async () => {
    const target = await serve(INSECURE, workdir());
    const r = await relay(target.port, ({ dir, type }) => (dir === 'up' && type === FrameType.Pages ? 'hold' : 'pass'));
    const source = run(r.port, INSECURE);
    await r.held;
    process.kill(source.child.pid!, 'SIGKILL');
    await source.done;
    r.release();
    await waitFor(() => /refused/.test(target.stderr()));
    await new Promise((w) => setTimeout(w, 300));
    expect(target.stdout()).toBe('');
    expect(target.stderr()).not.toMatch(/received/);
    await r.close();
  });

  test('the Commit lost on the way: the target never starts it, the source asks, hears "aborted" and finishes it', async () => {
    const target = await serve(INSECURE, workdir());
    const r = await relay(target.port, ({ dir, type, conn }) => (conn === 0 && dir === 'up' && type === FrameType.Commit ? 'drop-and-cut' : 'pass'));
    const s = await finished(run(r.port, INSECURE));
    expect(s.stderr).toMatch(/lost around the commit .* did not take the program/);
    expect(r.connections).toBeGreaterThanOrEqual(2);
    expectWhole([s], ref);
    expect(target.stdout()).toBe('');
    await r.close();
  });

  test('the acknowledgement lost: the source asks, hears "committed" and stops; the program ran once, on the target', async () => {
    const target = await serve(INSECURE, workdir()); // stays up to answer the source's query
    const r = await relay(target.port, ({ dir, type, conn }) => (conn === 0 && dir === 'down' && type === FrameType.Committed ? 'drop-and-cut' : 'pass'));
    const s = await finished(run(r.port, INSECURE));
    expect(s.stderr).toMatch(/migrated to/);
    await waitFor(() => /ended with exit code/.test(target.stderr()));
    const t = { stdout: target.stdout(), stderr: target.stderr() };
    expect(s.code).toBe(0);
    expectWhole([s, t], ref);
    await r.close();
  });

  test('in doubt (commit sent, no answer, target unreachable): the source runs nothing more and keeps the state; it ran once in total', async () => {
    for (const lost of ['commit', 'ack'] as const) {
      const dir = workdir();
      const target = await serve([...INSECURE, '--once'], dir);
      const r = await relay(target.port, ({ dir: d, type, conn }) => {
        if (conn > 0) return 'pass';
        if (lost === 'commit' && d === 'up' && type === FrameType.Commit) return (r.refuseNew = true), 'drop-and-cut';
        if (lost === 'ack' && d === 'down' && type === FrameType.Committed) return (r.refuseNew = true), 'drop-and-cut';
        return 'pass';
      });
      const source = spawnMvvm(['run', '--migrate-to', `127.0.0.1:${r.port}`, '--after', String(Math.floor(total / 2)), '--no-precopy', ...INSECURE, ...p.args], dir);
      const s = await finished(source);
      expect(s.code).toBe(75);
      expect(s.stderr).toMatch(/not running the program here/);
      const snap = readdirSync(dir).find((f) => f.startsWith('mvvm-in-doubt-'));
      expect(snap).toBeDefined();
      if (lost === 'ack') {
        const t = await finished(target);
        expectWhole([s, t], ref); // it ran on the target, once
      } else {
        await new Promise((w) => setTimeout(w, 300));
        expect(target.stdout()).toBe(''); // nowhere yet: a person resumes the kept state
        const rest = mvvm(['restore', '-t', wasm('compute'), snap!], dir);
        expectWhole([s, { stdout: rest.stdout.toString(), stderr: rest.stderr.toString() }], ref);
      }
      await r.close();
    }
  });

  test('module cache: a target without the module gets the bytes; with it (or a damaged cached copy) it checks the hash', async () => {
    const dir = workdir();
    const cache = join(dir, 'cache');
    const sent: number[] = [];
    for (let i = 0; i < 2; i++) {
      const target = await serve([...INSECURE, '--once', '--module-cache', cache], dir);
      const s = await finished(run(target.port, INSECURE));
      await target.done;
      expect(s.code).toBe(0);
      sent.push(Number(/(\d+\.\d) KiB sent/.exec(s.stderr)![1]));
    }
    const size = require('node:fs').statSync(wasm('compute')).size / 1024;
    expect(sent[0] - sent[1]).toBeGreaterThan(size * 0.9);
    const [cached] = readdirSync(cache);
    writeFileSync(join(cache, cached), 'not the module');
    const target = await serve([...INSECURE, '--once', '--module-cache', cache], dir);
    const s = await finished(run(target.port, INSECURE));
    const t = await finished(target);
    expect(s.code).toBe(0);
    expectWhole([s, t], ref);
    expect(existsSync(join(cache, cached))).toBe(true);
  });
});
