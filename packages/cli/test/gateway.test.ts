/**
 * `mvvm gateway`, `mvvm run --gateway` and `mvvm serve --gateway` as separate processes on
 * loopback (port 0): a client of the guest echo server keeps its connection while the
 * program moves from the `run` process to the `serve` process (SIGUSR2); what it gets back
 * is byte for byte what it sent. Every child is killed by pid at the end.
 */
import { join } from 'node:path';
import { echoClient } from '../../migrate/test/echo-client';
import { workdir } from './cli-harness';
import { killAll, serve, spawnMvvm, waitFor } from './migrate-harness';

const ECHO = join(__dirname, '..', '..', 'wasi', 'test', 'programs', 'echo_server.wasm');
const env = { MVVM_MIGRATION_TOKEN: 'gateway-cli-token-42' };

afterEach(killAll);

test('a client of a guest echo server keeps one unbroken stream while the program moves from `run` to `serve`', async () => {
  const dir = workdir();
  const gw = spawnMvvm(['gateway', '--listen', '127.0.0.1:0', '--control', '127.0.0.1:0'], dir, env);
  let clients = 0;
  let control = 0;
  await waitFor(() => {
    const m = /clients on 127\.0\.0\.1:(\d+), hosts on 127\.0\.0\.1:(\d+)/.exec(gw.stderr());
    if (m) [clients, control] = [Number(m[1]), Number(m[2])];
    return clients > 0 || gw.child.exitCode !== null;
  });
  expect(clients).toBeGreaterThan(0);
  const target = await serve(['--once', '--gateway', `127.0.0.1:${control}`], dir, env);
  const source = spawnMvvm(['run', '--gateway', `127.0.0.1:${control}`, '--migrate-to', `127.0.0.1:${target.port}`, '--follow', '-v', ECHO, '1'], dir, env);

  const client = echoClient(clients);
  const send = client.send;

  send(50_000);
  await waitFor(() => client.backBytes() === client.sentBytes()); // echoed by the program in the `run` process
  const pump = setInterval(() => send(2_000), 3);
  source.child.kill('SIGUSR2');
  try {
    await waitFor(() => /migrated to/.test(source.stderr()) || source.child.exitCode !== null);
  } finally {
    clearInterval(pump);
  }
  send(80_000);
  await waitFor(() => client.backBytes() === client.sentBytes()); // now echoed in the `serve` process
  client.socket.end();
  await waitFor(client.ended);
  const [s, t] = [await source.done, await target.done];

  const all = client.sent();
  expect(client.back().equals(all)).toBe(true);
  expect(source.stderr()).toMatch(/migrated to 127\.0\.0\.1:\d+: .*downtime/);
  expect(target.stderr()).toMatch(/received echo_server\.wasm/);
  expect(source.stdout()).toBe(`connection 0: echoed ${all.length} bytes\n`);
  expect([s.code, t.code]).toEqual([0, 0]);
  expect(gw.stderr()).toMatch(/connection #1 from .* re-attached on/);
  gw.child.kill('SIGTERM');
  expect((await gw.done).code).toBe(0);
  client.socket.destroy();
}, 120_000);
