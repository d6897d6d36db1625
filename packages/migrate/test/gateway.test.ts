/**
 * `mvvm gateway` in-process over loopback (port 0): a guest echo server keeps a client
 * connection while it migrates from host A to host B; the client sends before, during and
 * after the move and gets back exactly what it sent, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiExit, nodeHost } from '@mvvm/wasi/node';
import { GatewayHost, MigrationServer, ReceivedProgram, startGateway, startMigrationServer, migrateMachine, Gateway } from '../src';
import { echoClient } from './echo-client';
import { collector, runTo } from './helpers';

const TOKEN = new TextEncoder().encode('test-token-0123456789');
const ECHO = new Uint8Array(readFileSync(join(__dirname, '..', '..', 'wasi', 'test', 'programs', 'echo_server.wasm')));

let gateway: Gateway;
let server: MigrationServer;
const logs: string[] = [];
const received: ReceivedProgram[] = [];
const refused: string[] = [];

beforeAll(async () => {
  gateway = await startGateway({ listen: '127.0.0.1:0', control: '127.0.0.1:0', token: TOKEN, log: (l) => logs.push(l) });
  server = await startMigrationServer({
    listen: '127.0.0.1:0',
    dirs: {},
    token: TOKEN,
    gateway: { gateway: gateway.control, token: TOKEN },
    onReceived(p) {
      received.push(p);
      void runTo(p.machine).then((code) => {
        p.wasi?.close();
        p.finished(code ?? 0);
      });
    },
    onRefused: (e) => refused.push(e.message),
  });
});
afterAll(async () => {
  await server.close();
  await gateway.close();
});

/** Steps a machine in the background until it ends or pause() is called (then it is left for migrateMachine). */
function background(machine: Machine) {
  let stopping = false;
  let wake: (() => void) | null = null;
  const done = (async (): Promise<number | null> => {
    for (;;) {
      if (stopping) return null;
      let r;
      try {
        r = machine.step(100_000);
      } catch (e) {
        if (e instanceof WasiExit) return e.code;
        throw e;
      }
      if (r.done) return 0;
      if (r.suspended) await Promise.race([r.until, new Promise<void>((res) => (wake = res))]);
      else await new Promise((res) => setImmediate(res));
    }
  })();
  return {
    done,
    pause() {
      stopping = true;
      wake?.();
      return done;
    },
  };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a client connection survives the migration of the echo server A -> B: one unbroken stream, no byte lost or repeated', async () => {
  const c = collector();
  const hostA = new GatewayHost(nodeHost(), { gateway: gateway.control, token: TOKEN, program: 'echo_server' });
  const wasi = new WASI({ args: ['echo_server', '1'], listen: [{ port: 0 }], host: hostA.host, returnOnExit: true, stdout: c.sink.stdout, stderr: c.sink.stderr });
  const machine = await Machine.instantiate(ECHO, wasi.getImports());
  machine.begin('_start', []);
  const runner = background(machine);

  const client = echoClient(gateway.address.port);
  const send = client.send;

  // Before: the program runs on A and echoes.
  send(100_000);
  await until('the echo from host A', () => client.backBytes() === client.sentBytes());
  expect(client.back().equals(client.sent())).toBe(true);

  // During: the client keeps sending while the program is paused and moved.
  await runner.pause();
  send(5_000); // certainly in flight while nothing runs the program
  const pump = setInterval(() => send(3_000), 2);
  const duringFrom = client.sentBytes();
  let r;
  try {
    r = await migrateMachine({ machine, wasi, module: ECHO, to: server.address, token: TOKEN, follow: c.sink, program: 'echo_server' });
  } finally {
    clearInterval(pump);
  }
  expect(r.outcome).toBe('committed');
  expect(client.sentBytes()).toBeGreaterThan(duringFrom);
  wasi.close(); // A lets go: its relayed connection must not be closed by that
  hostA.close();

  // After: it runs on B now; more data, then the client ends and the guest finishes.
  send(200_000);
  await until('the echo from host B', () => client.backBytes() === client.sentBytes());
  client.socket.end();
  await until('the guest to end the connection', client.ended);
  const code = r.outcome === 'committed' ? await r.exitCode : null;

  const all = client.sent();
  expect(client.backBytes()).toBe(all.length);
  expect(client.back().equals(all)).toBe(true);
  expect(code).toBe(0);
  // The guest counted every byte once, on B (the output came back with --follow).
  expect(c.text()).toBe(`connection 0: echoed ${all.length} bytes\n`);
  expect(received).toHaveLength(1);
  expect(received[0].gateway).not.toBeNull();
  expect(logs.some((l) => /re-attached on/.test(l))).toBe(true);
  expect(refused).toEqual([]);
  client.socket.destroy();
}, 60_000);

test('a host with the wrong token cannot take connections from the gateway', async () => {
  const errors: string[] = [];
  const host = new GatewayHost(nodeHost(), { gateway: gateway.control, token: new TextEncoder().encode('another-token-000'), onError: (e) => errors.push(e.message) });
  host.host.listen!('127.0.0.1', 0);
  await until('the refusal', () => errors.length > 0);
  expect(errors[0]).toMatch(/failed authentication|wrong token/);
  host.close();
});

test('without a token the gateway needs --insecure and a loopback control address', async () => {
  await expect(startGateway({ listen: '127.0.0.1:0', control: '127.0.0.1:0', token: null })).rejects.toThrow(/no migration token/);
  await expect(startGateway({ listen: '127.0.0.1:0', control: '10.1.2.3:0', token: null, insecure: true })).rejects.toThrow(/only allowed on a loopback/);
});

