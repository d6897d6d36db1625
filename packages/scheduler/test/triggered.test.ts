/**
 * Triggered migration with fixture /proc and /sys trees, between schedulers of this
 * process joined by an in-process transport (local-transport.ts).
 */
import type { Target } from '../src/config';
import { SystemMonitor } from '../src/monitor';
import { WasmScheduler } from '../src/scheduler';
import { TriggerDetector } from '../src/trigger';
import { FakeHost, HostState } from './fixtures';
import { Collector, TICKER, runAlone, until } from './helpers';
import { LocalNet } from './local-transport';

const B: Target = { arch: 'x86_64', host: 'b', port: 2 };

async function pair(o: { k: number; cooldownMs: number; cacheMb?: number; tempC?: number }) {
  const net = new LocalNet();
  const logA: string[] = [];
  const logB: string[] = [];
  const outB = new Collector();
  const detector = new TriggerDetector({ thresholds: { cacheMb: o.cacheMb ?? 1000, tempC: o.tempC ?? 80, memoryPct: 85, psiPct: null }, samples: o.k, cooldownMs: o.cooldownMs });
  const a = new WasmScheduler({ address: 'a:1', transport: net.transport('a:1'), targets: [B], detector, log: (l) => logA.push(l), sliceInstructions: 20_000, retryMs: { first: 100, max: 400 } });
  const b = new WasmScheduler({ address: 'b:2', transport: net.transport('b:2', { stdout: outB.write }), log: (l) => logB.push(l), sliceInstructions: 20_000 });
  const listening = await b.o.transport!.listen({ host: 'b', port: 2 }, (arrival) => b.adopt(arrival));
  const host = new FakeHost({ cachedMb: 500, totalMb: 16000, availableMb: 12000 });
  const monitor = new SystemMonitor({ procRoot: host.proc, sysRoot: host.sys });
  let clock = 1_000_000;
  /** One monitor sample of the fixture tree in `state`, one (fake) second after the last. */
  const feed = (state: HostState) => {
    host.set({ totalMb: 16000, availableMb: 12000, ...state });
    return a.observe({ ...monitor.sample(), at: (clock += 1000) });
  };
  const done = async () => {
    a.close();
    b.close();
    await listening.close();
    host.remove();
  };
  return { net, a, b, logA, logB, outB, feed, done };
}

describe('triggered migration (fixture /proc, in-process transport)', () => {
  test('the page cache over the threshold for K samples moves the task, one spike does not; output as one uninterrupted run', async () => {
    const args = ['30', '100000', '20']; // sleeps: long enough whatever the tier's speed
    const alone = await runAlone(TICKER, args);
    const p = await pair({ k: 3, cooldownMs: 60_000 });
    const outA = new Collector();
    const id = await p.a.launch({ module: TICKER, args, stdout: outA.write });
    for (const cachedMb of [500, 2000, 500, 2000, 2000, 500, 1500]) expect(p.feed({ cachedMb })).toEqual([]);
    expect(p.net.sends).toBe(0);
    await until(() => outA.text().includes('tick 3 ')); // it is well under way
    expect(p.feed({ cachedMb: 1500 })).toEqual([]);
    const moves = p.feed({ cachedMb: 1600 });
    expect(moves).toEqual([{ id, target: B, why: expect.stringMatching(/MiB of memory/) }]);
    expect(p.logA).toContain('threshold exceeded: page cache (MiB) 1600 > 1000 for 3 samples');
    expect(p.logA).toContain(`checkpointing task ${id} for b:2`);
    expect((await p.a.wait(id)).state).toBe('moved');
    expect(p.a.table.row(id)!.movedTo).toBe('b:2');
    expect(p.logA.some((l) => /^sent task 1 to b:2 \(downtime [\d.]+ ms, [\d.]+ MiB sent, 0.1 MiB memory\)$/.test(l))).toBe(true);
    expect(p.logB).toContain('received task 1 (ticker.wasm) from a:1');
    const there = p.b.status()[0];
    expect(there.origin).toBe('a:1');
    expect((await p.b.wait(there.id)).exitCode).toBe(0);
    expect(outA.text().length).toBeGreaterThan(0);
    expect(p.outB.text().length).toBeGreaterThan(0);
    expect(outA.text() + p.outB.text()).toBe(alone.stdout);
    await p.done();
  });

  test('cooldown holds after a migration; the policy moves the largest task first', async () => {
    const p = await pair({ k: 2, cooldownMs: 5000 });
    const small = await p.a.launch({ module: TICKER, args: ['100000', '1000', '1'], stdout: () => undefined });
    const large = await p.a.launch({ module: TICKER, args: ['100000', '1000', '1', '32'], stdout: () => undefined });
    await until(() => p.a.status().every((r) => r.memoryBytes > 0) && p.a.table.row(large)!.memoryBytes > p.a.table.row(small)!.memoryBytes);
    expect(p.feed({ cachedMb: 1001 })).toEqual([]);
    expect(p.feed({ cachedMb: 1001 }).map((m) => m.id)).toEqual([large]); // 1 MiB over: the largest covers it
    await p.a.wait(large);
    for (let i = 0; i < 4; i++) expect(p.feed({ cachedMb: 5000 })).toEqual([]); // within 5 s of the trigger
    expect(p.feed({ cachedMb: 5000 }).map((m) => m.id)).toEqual([small]); // 5 s later, 2 samples over
    await p.a.wait(small);
    expect(p.b.status().map((r) => r.name)).toEqual(['ticker.wasm', 'ticker.wasm']);
    for (const r of p.b.status()) p.b.kill(r.id);
    await p.done();
  });

  test('the temperature trigger moves the busiest task', async () => {
    const p = await pair({ k: 2, cooldownMs: 0, tempC: 70 });
    const sleeper = await p.a.launch({ module: TICKER, args: ['100000', '10', '50'], stdout: () => undefined });
    const busy = await p.a.launch({ module: TICKER, args: ['100000', '100000', '0'], stdout: () => undefined });
    expect(p.feed({ cachedMb: 10, temps: [60, 75] })).toEqual([]);
    await new Promise((r) => setTimeout(r, 400)); // rates are measured between samples
    const moves = p.feed({ cachedMb: 10, temps: [61, 74] });
    expect(moves.map((m) => m.id)).toEqual([busy]);
    expect(p.logA).toContain('threshold exceeded: CPU temperature (°C) 74 > 70 for 2 samples');
    await p.a.wait(busy);
    expect(p.a.table.row(sleeper)!.state).not.toBe('moved');
    for (const r of p.b.status()) p.b.kill(r.id);
    await p.done();
  });

  test('a target that is down: the task keeps running, retries with backoff, and moves once the target appears', async () => {
    const args = ['40', '100000', '40'];
    const alone = await runAlone(TICKER, args);
    const p = await pair({ k: 1, cooldownMs: 0 });
    const outA = new Collector();
    const id = await p.a.launch({ module: TICKER, args, stdout: outA.write });
    const down = { host: 'c', port: 3 };
    await expect(p.a.migrate(id, down)).rejects.toThrow('migration of task 1 to c:3 failed: connect ECONNREFUSED c:3');
    const row = p.a.table.row(id)!;
    expect(row.state).toBe('running');
    expect(row.retry).toMatchObject({ target: 'c:3', attempt: 2 });
    expect(p.logA).toContain('migration of task 1 to c:3 failed: connect ECONNREFUSED c:3; task 1 keeps running here, retry in 0.1 s');
    const ticks = () => outA.text().split('\n').length;
    const before = ticks();
    await until(() => p.net.sends >= 3); // retried, backing off
    expect(ticks()).toBeGreaterThan(before); // and it ran meanwhile
    expect(p.logA.some((l) => l.includes('retry in 0.4 s'))).toBe(true);
    // the target appears: the next retry moves the task
    const c = new WasmScheduler({ address: 'c:3', transport: p.net.transport('c:3', { stdout: p.outB.write }), log: () => undefined });
    const l = await c.o.transport!.listen(down, (a) => c.adopt(a));
    expect((await p.a.wait(id)).movedTo).toBe('c:3');
    expect((await c.wait(c.status()[0].id)).exitCode).toBe(0);
    expect(outA.text() + p.outB.text()).toBe(alone.stdout);
    c.close();
    await l.close();
    await p.done();
  });
});
