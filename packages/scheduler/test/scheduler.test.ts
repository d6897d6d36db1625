import { join } from 'node:path';
import { applyJsonPatches, JsonPatch, TableState } from '../src/table';
import { WasmScheduler } from '../src/scheduler';
import { COMPUTE, Collector, TICKER, runAlone, sleep, until } from './helpers';

const quiet = () => undefined;

describe('WasmScheduler time-slicing', () => {
  test('four tasks time-sliced in one scheduler give the outputs and exit codes of four separate runs', async () => {
    const runs = [
      [COMPUTE, ['-n30000', '-g1']],
      [COMPUTE, ['-n20000', '-g7']],
      [TICKER, ['40', '20000', '0']],
      [COMPUTE, ['-n25000', '-g3']],
    ] as const;
    const alone = await Promise.all(runs.map(([p, a]) => runAlone(p, [...a])));
    const s = new WasmScheduler({ log: quiet, sliceInstructions: 20_000 });
    const outs = runs.map(() => ({ out: new Collector(), err: new Collector() }));
    const ids = await Promise.all(runs.map(([p, a], i) => s.launch({ module: p, name: 'prog', args: [...a], stdout: outs[i].out.write, stderr: outs[i].err.write })));
    const rows = await Promise.all(ids.map((id) => s.wait(id)));
    rows.forEach((row, i) => {
      expect(row.state).toBe('exited');
      expect(row.exitCode).toBe(alone[i].code);
      expect(outs[i].out.text()).toBe(alone[i].stdout);
      expect(outs[i].err.text()).toBe(alone[i].stderr);
    });
    expect(alone[0].stdout).toMatch(/primes up to 30000/);
    expect(alone[2].stdout.split('\n')).toHaveLength(41);
    // interleaved: many more slices than tasks
    expect(s.stats.slices).toBeGreaterThan(4 * 10);
    s.close();
  });

  test('every runnable task makes progress; none waits for another to finish', async () => {
    const s = new WasmScheduler({ log: quiet, sliceInstructions: 50_000 });
    const ids = await Promise.all([0, 1, 2, 3].map(() => s.launch({ module: TICKER, args: ['1000', '1000000', '0'], stdout: quiet })));
    await until(() => s.status().every((r) => r.instructions > 1_000_000));
    expect(s.status().map((r) => r.state)).toEqual(['running', 'running', 'running', 'running']);
    // fair: the most advanced task is not far ahead of the least (one round is 4 slices)
    const counts = s.status().map((r) => r.instructions);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThan(Math.max(...counts) / 2);
    for (const id of ids) s.kill(id);
    expect(s.status().map((r) => r.state)).toEqual(['killed', 'killed', 'killed', 'killed']);
    s.close();
  });

  test('a task blocked in a sleep costs nothing: no slices while it waits, the others run', async () => {
    const s = new WasmScheduler({ log: quiet, sliceInstructions: 10_000 });
    const sleeper = await s.launch({ module: TICKER, args: ['3', '10', '300'], stdout: quiet });
    await until(() => s.table.row(sleeper)!.state === 'blocked');
    const before = s.stats.slices;
    await sleep(200);
    expect(s.stats.slices - before).toBeLessThanOrEqual(1);
    const busy = await s.launch({ module: TICKER, args: ['3', '200000', '0'], stdout: quiet });
    await until(() => s.table.row(busy)!.state !== 'running' || s.slicesOf(busy) > 100);
    // the busy task had 100 slices while the sleeper, in its sleep, had about none
    expect(s.slicesOf(sleeper)).toBeLessThanOrEqual(3);
    expect((await s.wait(busy)).state).toBe('exited');
    expect((await s.wait(sleeper)).exitCode).toBe(0);
    s.close();
  });

  test('pause and resume; a paused task runs no instructions', async () => {
    const s = new WasmScheduler({ log: quiet, sliceInstructions: 50_000 });
    const id = await s.launch({ module: TICKER, args: ['1000', '1000000', '0'], stdout: quiet });
    await until(() => s.table.row(id)!.instructions > 0);
    s.pause(id);
    await sleep(300);
    const paused = s.table.row(id)!.instructions;
    expect(s.table.row(id)!.state).toBe('paused');
    await sleep(300);
    expect(s.table.row(id)!.instructions).toBe(paused);
    s.resume(id);
    await until(() => s.table.row(id)!.instructions > paused);
    expect(s.table.row(id)!.state).toBe('running');
    s.kill(id);
    expect(() => s.kill(id)).toThrow('task 1 is killed');
    expect(() => s.pause('99')).toThrow('no task 99');
    s.close();
  });

  test('a trapping task is reported with its trap, and the others go on', async () => {
    // (module (func (export "_start") unreachable))
    const trap = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 10, 1, 6, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0, 0, 10, 5, 1, 3, 0, 0, 0x0b]);
    const log: string[] = [];
    const s = new WasmScheduler({ log: (l) => log.push(l) });
    const ok = await s.launch({ module: TICKER, args: ['3', '1000', '0'], stdout: quiet });
    const bad = await s.launch({ module: trap, name: 'trap.wasm' });
    expect(await s.wait(bad)).toMatchObject({ state: 'trapped', error: expect.stringMatching(/^trap: unreachable/) });
    expect(log.some((l) => /^task 2 failed: trap: unreachable/.test(l))).toBe(true);
    expect((await s.wait(ok)).exitCode).toBe(0);
    s.close();
  });

  test('a module that cannot be read is refused, and the table streams every change as JSON patches', async () => {
    const s = new WasmScheduler({ log: quiet });
    let copy: TableState = { tasks: {} };
    const seen: JsonPatch[] = [];
    s.table.subscribe((p) => {
      seen.push(...p);
      copy = applyJsonPatches(copy, p);
    });
    await expect(s.launch({ module: '/nonexistent.wasm' })).rejects.toThrow('cannot read /nonexistent.wasm: ENOENT');
    const id = await s.launch({ module: TICKER, args: ['2', '10', '0'], stdout: quiet });
    await s.wait(id);
    expect(copy).toEqual(s.table.state);
    expect(seen[0]).toMatchObject({ op: 'add', path: `/tasks/${id}` });
    expect(seen).toContainEqual({ op: 'replace', path: `/tasks/${id}/state`, value: 'exited' });
    s.close();
  });
});

test('a wasi-threads program is refused as a task with one line (a task is one Machine)', async () => {
  const s = new WasmScheduler({ log: quiet });
  const threaded = join(__dirname, '..', '..', 'wasi', 'test', 'programs', 'threads', 'mutex_counter.wasm');
  await expect(s.launch({ module: threaded, stdout: quiet })).rejects.toThrow(/mutex_counter.wasm is a wasi-threads program/);
  s.close();
});
