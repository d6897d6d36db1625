/**
 * In-process migration of a wasi-threads program over loopback: every thread and the shared
 * memory move (also with threads blocked in wait), the followed output is the uninterrupted
 * run's; a target that takes single machines only (the scheduler's) refuses it before Ready,
 * and the program goes on at the source.
 */
import { Machine } from '@mvvm/interpreter';
import { OutputSink, WASI, WasiThreads } from '@mvvm/wasi';
import { MigrationServer, ReceivedProgram, migrateMachine, startMigrationServer } from '../src';
import { prodCons, threadProgram } from '../../wasi/test/threads/programs';

const TOKEN = new TextEncoder().encode('test-token-0123456789');
const c = prodCons(2, 2, 300, 1);
const wasm = threadProgram(c.name);

async function started(out: OutputSink) {
  const wasi = new WASI({ args: [c.name, ...c.args], stdout: out, stderr: new OutputSink() });
  return { program: await WasiThreads.start(Machine.compile(wasm), wasi, { quantum: 300 }), wasi };
}

async function target(threads: boolean) {
  const received: ReceivedProgram[] = [];
  const refused: string[] = [];
  const server: MigrationServer = await startMigrationServer({
    listen: '127.0.0.1:0',
    dirs: {},
    token: TOKEN,
    threads,
    onReceived(p) {
      received.push(p);
      void p.threads!.run().then((code) => p.finished(code));
    },
    onRefused: (e) => refused.push(e.message),
  });
  return { server, received, refused };
}

test.each([true, false])('all threads move, waiting ones too (pre-copy %p): the output of an uninterrupted run', async (precopy) => {
  const t = await target(true);
  try {
    const out = new OutputSink();
    const { program, wasi } = await started(out);
    while (program.group.threads.length < 5 || !program.group.threads.some((x) => x.machine.thread.status === 'waiting')) program.step(100);
    const before = out.text();
    const followed: Uint8Array[] = [];
    const sink = { stdout: (b: Uint8Array) => followed.push(b), stderr: () => undefined };
    const r = await migrateMachine({ machine: program.main, threads: program, wasi, module: wasm, to: t.server.address, token: TOKEN, precopy, keepRunning: false, follow: sink });
    if (r.outcome !== 'committed') throw new Error(`not committed: ${JSON.stringify(r)}`);
    expect(await r.exitCode).toBe(0);
    expect(before + Buffer.concat(followed).toString()).toBe(c.expected);
    expect(t.received[0].threads!.group.threads).toHaveLength(5);
  } finally {
    t.server.close();
  }
});

test('a target for single machines refuses a threaded program before Ready; it goes on at the source', async () => {
  const t = await target(false);
  try {
    const out = new OutputSink();
    const { program, wasi } = await started(out);
    program.step(20_000);
    const r = await migrateMachine({ machine: program.main, threads: program, wasi, module: wasm, to: t.server.address, token: TOKEN, keepRunning: false });
    expect(r.outcome).toBe('failed');
    expect(t.refused.join('\n')).toMatch(/single-threaded programs only/);
    expect(await program.run()).toBe(0);
    expect(out.text()).toBe(c.expected);
  } finally {
    t.server.close();
  }
});
