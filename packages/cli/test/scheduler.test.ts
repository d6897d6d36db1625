/**
 * `mvvm scheduler` daemons on loopback (ephemeral ports, unix control sockets in a temp
 * dir), driven by fixture /proc trees (--proc-root) and by the control commands. Every
 * daemon is killed by pid at the end of its test.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { JsonPatch, TableState } from '@mvvm/scheduler';
import { FakeHost } from '../../scheduler/test/fixtures';
import { BIN, filesOf, mvvm, workdir, writeInput } from './cli-harness';

const TICKER = join(__dirname, '..', '..', 'scheduler', 'test', 'programs', 'ticker.wasm');
const COMPUTE = join(__dirname, 'programs', 'compute.wasm');

interface Daemon {
  child: ChildProcess;
  port: number;
  control: string;
  out: () => string;
  err: () => string;
}

/** This environment without the variables the daemon reads (so the outer shell's cannot leak in). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MIGRATION_') || k === 'ARM_MIGRATION_HOST' || k.startsWith('MVVM_')) delete env[k];
  return env;
}

const running: ChildProcess[] = [];
const hosts: FakeHost[] = [];

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  for (const h of hosts.splice(0)) h.remove();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A daemon on 127.0.0.1 (port 0 unless given), its own fixture /proc, control socket in `dir`. */
async function daemon(dir: string, name: string, o: { args?: string[]; env?: Record<string, string>; port?: number; host?: FakeHost } = {}): Promise<Daemon> {
  const host = o.host ?? new FakeHost({ cachedMb: 100, totalMb: 16000, availableMb: 12000 });
  if (!o.host) hosts.push(host);
  const control = join(dir, `${name}.sock`);
  const child = spawn(
    process.execPath,
    [BIN, 'scheduler', '--insecure', '--listen', `127.0.0.1:${o.port ?? 0}`, '--control', control, '--proc-root', host.proc, '--sys-root', host.sys, ...(o.args ?? [])],
    {
      cwd: dir,
      env: { ...cleanEnv(), MIGRATION_MONITOR_INTERVAL_MS: '100', MIGRATION_CACHE_THRESHOLD_MB: '1000', MIGRATION_TRIGGER_SAMPLES: '3', MIGRATION_COOLDOWN_MS: '1000', ...o.env },
    },
  );
  running.push(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d) => out.push(d));
  child.stderr!.on('data', (d) => err.push(d));
  const d: Daemon = { child, port: 0, control, out: () => Buffer.concat(out).toString(), err: () => Buffer.concat(err).toString() };
  await until(`${name} to listen (stderr: ${d.err()})`, () => /accepting migrations on 127\.0\.0\.1:\d+/.test(d.err()) || child.exitCode !== null, 20_000);
  const m = /accepting migrations on 127\.0\.0\.1:(\d+)/.exec(d.err());
  if (!m) throw new Error(`${name} did not start: ${d.err()}`);
  d.port = Number(m[1]);
  return d;
}

/** `mvvm COMMAND --control SOCKET ARGS...` (options first: launch passes what follows the task to it). */
const ctl = (d: Daemon, command: string, ...args: string[]) => mvvm([command, '--control', d.control, ...args], '.');
const ticks = (s: string) => s.split('\n').filter((l) => l.startsWith('tick '));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('mvvm scheduler (daemons on loopback)', () => {
  test('bad environment values are refused at start-up with one line', () => {
    for (const [name, value, message] of [
      ['MIGRATION_TRIGGER_SAMPLES', 'three', 'mvvm: MIGRATION_TRIGGER_SAMPLES="three": expected an integer from 1 to 1000\n'],
      ['MIGRATION_TARGETS', 'arm64@pi:99999', "mvvm: MIGRATION_TARGETS: 'pi:99999': bad port\n"],
    ]) {
      const child = spawnSync(process.execPath, [BIN, 'scheduler', '--insecure', '--listen', '127.0.0.1:0'], { env: { ...cleanEnv(), [name]: value }, timeout: 20_000 });
      expect(child.stderr.toString()).toBe(message);
      expect(child.status).toBe(1);
    }
  });

  test('two schedulers exchange tasks automatically (fixture page cache over the threshold for K samples) and by `mvvm migrate`', async () => {
    const dir = workdir();
    const args1 = ['60', '150000', '50']; // sleeps: some seconds whatever the tier's speed
    const args2 = ['60', '150001', '50'];
    const ref = [...ticks(mvvm(['run', TICKER, ...args1], dir).stdout.toString()), ...ticks(mvvm(['run', TICKER, ...args2], dir).stdout.toString())];
    expect(ref).toHaveLength(120);
    const hostA = new FakeHost({ cachedMb: 100, totalMb: 16000, availableMb: 12000 });
    const hostB = new FakeHost({ cachedMb: 100, totalMb: 16000, availableMb: 12000 });
    hosts.push(hostA, hostB);
    const b = await daemon(dir, 'b', { host: hostB });
    const a = await daemon(dir, 'a', { host: hostA, args: ['--targets', `x86_64@127.0.0.1:${b.port}`, TICKER, ...args1] });
    // B's target is A, which it learns only now: B was started first. Launch B's task through the control endpoint.
    expect(ctl(b, 'launch', TICKER, ...args2).stdout.toString()).toBe('task 1\n');
    await until('ticks on A', () => ticks(a.out()).length >= 3);
    hostA.set({ cachedMb: 5000, totalMb: 16000, availableMb: 12000 });
    await until('A to send its task', () => /sent task 1 to 127\.0\.0\.1:\d+ \(downtime [\d.]+ ms/.test(a.err()));
    expect(a.err()).toMatch(/threshold exceeded: page cache \(MiB\) 5000 > 1000 for 3 samples/);
    expect(a.err()).toMatch(/checkpointing task 1 for 127\.0\.0\.1:\d+/);
    await until('B to receive it', () => /received task 2 \(ticker\.wasm\) from 127\.0\.0\.1:\d+/.test(b.err()));
    hostA.set({ cachedMb: 100, totalMb: 16000, availableMb: 12000 });
    // ...and back, by hand: B's task 1 (its own) to A
    const moved = ctl(b, 'migrate', '1', '--to', `127.0.0.1:${a.port}`);
    expect(moved.stderr.toString()).toBe('');
    expect(moved.stdout.toString()).toBe(`task 1: moved to 127.0.0.1:${a.port}\n`);
    await until('A to receive it', () => /received task 2 \(ticker\.wasm\) from/.test(a.err()));
    const psB = ctl(b, 'ps').stdout.toString();
    expect(psB).toMatch(new RegExp(`^1 +ticker\\.wasm +moved +127\\.0\\.0\\.1:${b.port} .*-> 127\\.0\\.0\\.1:${a.port}$`, 'm'));
    expect(psB).toMatch(/^2 +ticker\.wasm +(running|blocked|exited) .*from 127\.0\.0\.1:\d+/m);
    await until('both tasks to end', () => /task 2 exited with code 0/.test(a.err()) && /task 2 exited with code 0/.test(b.err()));
    const all = [...ticks(a.out()), ...ticks(b.out())];
    expect([...all].sort()).toEqual([...ref].sort()); // every line once: nothing lost, nothing run twice
    for (const one of [ref.slice(0, 60), ref.slice(60)]) {
      const mine = new Set(one);
      // on each host, a task's lines come in the program's order
      for (const out of [a.out(), b.out()]) {
        const seen = ticks(out).filter((l) => mine.has(l));
        expect(seen).toEqual(one.filter((l) => seen.includes(l)));
      }
    }
  });

  test('three schedulers: a chain A -> B -> C -> A by `mvvm migrate`, then the output is one uninterrupted run', async () => {
    const dir = workdir();
    const args = ['150', '100000', '20'];
    const ref = ticks(mvvm(['run', TICKER, ...args], dir).stdout.toString());
    const [a, b, c] = [await daemon(dir, 'a', { args: [TICKER, ...args] }), await daemon(dir, 'b'), await daemon(dir, 'c')];
    const hop = async (from: Daemon, id: string, to: Daemon, received: RegExp) => {
      await until('a few ticks', () => ticks(a.out() + b.out() + c.out()).length >= 5 + 10 * [a, b, c].indexOf(from));
      expect(ctl(from, 'migrate', id, '--to', `127.0.0.1:${to.port}`).code).toBe(0);
      await until('the hop', () => received.test(to.err()));
    };
    await hop(a, '1', b, /received task 1 /);
    await hop(b, '1', c, /received task 1 /);
    await hop(c, '1', a, /received task 2 /);
    await until('the end', () => /task 2 exited with code 0/.test(a.err()));
    const outs = [a.out(), b.out(), c.out()].map(ticks);
    for (const o of outs) expect(o.length).toBeGreaterThan(0);
    // A's output holds the first and last stretch; stitched in hop order it is the reference
    const firstA = outs[0].filter((l) => ref.indexOf(l) < ref.indexOf(outs[1][0]));
    const lastA = outs[0].slice(firstA.length);
    expect([...firstA, ...outs[1], ...outs[2], ...lastA]).toEqual(ref);
  });

  test('four tasks time-sliced in one daemon finish with the outputs of four separate runs; ps --watch follows the patches', async () => {
    const dir = workdir();
    const runs = [
      [COMPUTE, '-n40000', '-g1'],
      [COMPUTE, '-n30000', '-g2'],
      [TICKER, '30', '50000', '0'],
      [COMPUTE, '-n35000', '-g4'],
    ];
    const refs = runs.map((r) => mvvm(['run', ...r], dir));
    const d = await daemon(dir, 'd', { args: ['--output-dir', join(dir, 'out')] });
    const w = spawn(process.execPath, [BIN, 'ps', '--watch', '--json', '--control', d.control]);
    running.push(w);
    const watched: Buffer[] = [];
    w.stdout.on('data', (x) => watched.push(x));
    await until('the watch to start', () => Buffer.concat(watched).toString().startsWith('{"state":'));
    for (const r of runs) ctl(d, 'launch', ...r);
    await until('four exits', () => (d.err().match(/exited with code/g) ?? []).length === 4);
    const ps = ctl(d, 'ps').stdout.toString();
    expect(ps.split('\n')[0]).toMatch(/^ID +NAME +STATE +HOST +INSTRUCTIONS +MEMORY$/);
    runs.forEach((r, i) => {
      const id = String(i + 1);
      expect(readFileSync(join(dir, 'out', `task-${id}.stdout`), 'utf8')).toBe(refs[i].stdout.toString());
      expect(readFileSync(join(dir, 'out', `task-${id}.stderr`), 'utf8')).toBe(refs[i].stderr.toString());
      expect(ps).toMatch(new RegExp(`^${id} +${r[0] === TICKER ? 'ticker' : 'compute'}\\.wasm +exited .*exit ${refs[i].code}$`, 'm'));
    });
    expect(readdirSync(join(dir, 'out'))).toHaveLength(8);
    // the watcher's copy, built from the patches alone, is the daemon's table
    const now = JSON.parse(ctl(d, 'ps', '--json').stdout.toString());
    const { applyJsonPatches } = await import('@mvvm/scheduler');
    let lines: Array<{ state?: TableState; patches?: JsonPatch[] }> = [];
    const replay = () => {
      lines = Buffer.concat(watched).toString().trim().split('\n').map((l) => JSON.parse(l));
      let copy = lines[0].state!;
      for (const l of lines.slice(1)) copy = applyJsonPatches(copy, l.patches!);
      return Object.values(copy.tasks);
    };
    await until('the watcher to catch up', () => JSON.stringify(replay()) === JSON.stringify(now));
    expect(replay()).toEqual(now);
    expect(lines.some((l) => l.patches?.some((p) => p.path === '/tasks/3/state' && p.value === 'exited'))).toBe(true);
    // pause / resume / kill / metrics through the endpoint
    ctl(d, 'launch', TICKER, '100000', '100000', '0');
    expect(ctl(d, 'pause', '5').stdout.toString()).toBe('task 5: paused\n');
    expect(ctl(d, 'resume', '5').stdout.toString()).toMatch(/^task 5: (running|blocked)\n$/);
    expect(ctl(d, 'kill', '5').stdout.toString()).toBe('task 5: killed\n');
    const gone = ctl(d, 'kill', '9');
    expect([gone.code, gone.stderr.toString()]).toEqual([1, 'mvvm: no task 9\n']);
    const m = ctl(d, 'metrics').stdout.toString();
    expect(m).toMatch(/^last sample \(.*\): cache 100 MiB, temp n\/a, memory 25 % used, psi n\/a, cpu n\/a$/m);
    expect(m).toMatch(/^thresholds: page cache 1000 MiB, temperature 80 °C, memory 85 %, PSI off$/m);
  });

  test("a task's files live in its --dir preopens, as with mvvm run", async () => {
    const ref = workdir(writeInput);
    const dir = workdir(writeInput);
    const FILES = join(__dirname, 'programs', 'files.wasm');
    const alone = mvvm(['run', '--dir', 'data::/data', FILES], ref);
    const d = await daemon(dir, 'd', { args: ['--output-dir', join(dir, 'out')] });
    expect(mvvm(['launch', '--control', d.control, '--dir', 'data::/data', FILES], dir).stdout.toString()).toBe('task 1\n');
    await until('the exit', () => /task 1 exited with code/.test(d.err()));
    expect(filesOf(join(dir, 'data'))).toEqual(filesOf(join(ref, 'data')));
    expect(readFileSync(join(dir, 'out', 'task-1.stdout'), 'utf8')).toBe(alone.stdout.toString());
    expect(d.err()).toContain(`task 1 exited with code ${alone.code}`);
    const missing = mvvm(['launch', '--control', d.control, '--dir', 'nowhere::/data', FILES], dir);
    expect([missing.code, missing.stderr.toString()]).toEqual([1, expect.stringMatching(/^mvvm: .*nowhere.*\n$/)]);
  });

  test('a task whose target is down keeps running, retries with backoff, and migrates once the target appears', async () => {
    const dir = workdir();
    const args = ['400', '100000', '20'];
    const ref = ticks(mvvm(['run', TICKER, ...args], dir).stdout.toString());
    const port = await freePort();
    const hostA = new FakeHost({ cachedMb: 5000, totalMb: 16000, availableMb: 12000 }); // over the threshold from the start
    hosts.push(hostA);
    const a = await daemon(dir, 'a', { host: hostA, args: ['--targets', `127.0.0.1:${port}`, TICKER, ...args] });
    await until('two failed attempts', () => (a.err().match(/keeps running here, retry in/g) ?? []).length >= 2);
    expect(a.err()).toMatch(new RegExp(`migration of task 1 to 127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED.*; task 1 keeps running here, retry in 0\\.5 s`));
    expect(a.err()).toMatch(/retry in 1\.0 s/);
    const before = ticks(a.out()).length;
    await until('progress meanwhile', () => ticks(a.out()).length > before);
    expect(ctl(a, 'ps').stdout.toString()).toMatch(new RegExp(`^1 +ticker\\.wasm +(running|blocked) .*retry \\d+ to 127\\.0\\.0\\.1:${port}`, 'm'));
    const b = await daemon(dir, 'b', { port });
    await until('the move', () => /received task 1 /.test(b.err()), 40_000);
    await until('the end', () => /task 1 exited with code 0/.test(b.err()));
    expect([...ticks(a.out()), ...ticks(b.out())]).toEqual(ref);
  });
});
