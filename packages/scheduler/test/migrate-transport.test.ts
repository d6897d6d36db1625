/**
 * WasmScheduler over @mvvm/migrate in one process, on loopback ephemeral ports: a move,
 * a refusal (wrong token) that leaves the task running here, and the retry that succeeds
 * once the target accepts.
 */
import { WasmScheduler } from '../src/scheduler';
import { migrateTransport } from '../src/migrate-transport';
import type { Listening } from '../src/transport';
import { Collector, TICKER, runAlone, until } from './helpers';

const enc = (s: string) => new TextEncoder().encode(s);

describe('migrateTransport', () => {
  const open: Array<{ s: WasmScheduler; l?: Listening }> = [];
  afterEach(async () => {
    for (const { s, l } of open.splice(0)) {
      s.close();
      await l?.close();
    }
  });

  async function target(token: string, log: string[]) {
    const transport = migrateTransport({ token: enc(token), onRefused: (l) => log.push(l) });
    const s = new WasmScheduler({ transport, log: (l) => log.push(l) });
    const l = await transport.listen({ host: '127.0.0.1', port: 0 }, (a) => s.adopt(a));
    open.push({ s, l });
    return { s, port: l.port };
  }

  test('a refused migration (wrong token) leaves the task running here; a retry to a target that accepts moves it', async () => {
    const args = ['40', '100000', '30'];
    const alone = await runAlone(TICKER, args);
    const logA: string[] = [];
    const logB: string[] = [];
    const logC: string[] = [];
    const a = new WasmScheduler({ transport: migrateTransport({ token: enc('the-right-token') }), log: (l) => logA.push(l), retryMs: { first: 100, max: 200 } });
    open.push({ s: a });
    const b = await target('another-token', logB);
    const out = new Collector();
    const id = await a.launch({ module: TICKER, args, stdout: out.write });
    await until(() => out.text().includes('tick 2 '));
    await expect(a.migrate(id, { host: '127.0.0.1', port: b.port })).rejects.toThrow(/migration of task 1 to 127\.0\.0\.1:\d+ failed: /);
    expect(a.table.row(id)!.state).toMatch(/running|blocked/);
    expect(a.table.row(id)!.retry).toMatchObject({ attempt: 2 });
    expect(b.s.status()).toEqual([]);
    await until(() => logB.length > 0, 5000);
    expect(logB[0]).toMatch(/^refused a migration of .* from 127\.0\.0\.1:\d+: /);
    // the user points it at a target that accepts: the retry to B is replaced
    const c = await target('the-right-token', logC);
    await a.migrate(id, { host: '127.0.0.1', port: c.port });
    expect(a.table.row(id)).toMatchObject({ state: 'moved', movedTo: `127.0.0.1:${c.port}`, retry: null });
    expect(logA.some((l) => new RegExp(`^sent task 1 to 127\\.0\\.0\\.1:${c.port} \\(downtime [\\d.]+ ms, [\\d.]+ MiB sent`).test(l))).toBe(true);
    const there = c.s.status()[0];
    expect(there.origin).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await c.s.wait(there.id)).exitCode).toBe(0);
    // the arrived task's stdout is the target process's own (migrate's restore); what ran here is a prefix of the whole
    expect(alone.stdout.startsWith(out.text())).toBe(true);
    expect(out.text().length).toBeLessThan(alone.stdout.length);
  });
});
