/**
 * In-process migrations over loopback (port 0): a real program moved at several points,
 * its followed output and exit code those of an uninterrupted run.
 */
import { MigrationServer, ReceivedProgram, startMigrationServer, migrateMachine } from '../src';
import { collector, runTo, startProgram } from './helpers';

const TOKEN = new TextEncoder().encode('test-token-0123456789');

let server: MigrationServer;
const received: ReceivedProgram[] = [];
const refused: string[] = [];

beforeAll(async () => {
  server = await startMigrationServer({
    listen: '127.0.0.1:0',
    dirs: {},
    token: TOKEN,
    onReceived(p) {
      received.push(p);
      void runTo(p.machine).then((code) => p.finished(code ?? 0));
    },
    onRefused: (e) => refused.push(e.message),
  });
});
afterAll(() => server.close());

async function reference(name: string, args: string[]): Promise<{ text: string; code: number | null; total: number }> {
  const c = collector();
  const p = await startProgram(name, args, c);
  const code = await runTo(p.machine);
  return { text: c.text(), code, total: p.machine.instructionCount };
}

describe.each([
  { name: 'compute', args: ['-g7', '-n30000'] },
  { name: 'recurse', args: ['300'] },
])('$name', ({ name, args }) => {
  test.each([0.1, 0.5, 0.9])('moved at %p of the run (paused), pre-copy and stop-and-copy: same output and exit code', async (at) => {
    const ref = await reference(name, args);
    for (const precopy of [true, false]) {
      const c = collector();
      const p = await startProgram(name, args, c);
      expect(await runTo(p.machine, Math.floor(ref.total * at))).toBeNull();
      const r = await migrateMachine({ machine: p.machine, wasi: p.wasi, module: p.bytes, to: server.address, token: TOKEN, precopy, keepRunning: false, follow: c.sink });
      if (r.outcome !== 'committed') throw new Error(`not committed: ${JSON.stringify(r)}`);
      expect(await r.exitCode).toBe(ref.code);
      expect(c.text()).toBe(ref.text);
      expect(r.bytes).toBeGreaterThan(0);
    }
  });
});

test('the program keeps running during the pre-copy: moved or finished at the source, the output is whole either way', async () => {
  const ref = await reference('compute', ['-g7', '-n30000']);
  const outcomes = new Set<string>();
  for (const at of [0.05, 0.3, 0.6]) {
    const c = collector();
    const p = await startProgram('compute', ['-g7', '-n30000'], c);
    await runTo(p.machine, Math.floor(ref.total * at));
    let slices = 0;
    const r = await migrateMachine({ machine: p.machine, wasi: p.wasi, module: p.bytes, to: server.address, token: TOKEN, follow: c.sink, onSlice: () => slices++ });
    outcomes.add(r.outcome);
    if (r.outcome === 'committed') expect(await r.exitCode).toBe(ref.code);
    else if (r.outcome === 'ended') expect(r.code).toBe(ref.code);
    else throw new Error(`${r.outcome}: ${JSON.stringify(r)}`);
    expect(slices).toBeGreaterThan(0);
    expect(c.text()).toBe(ref.text);
  }
});
