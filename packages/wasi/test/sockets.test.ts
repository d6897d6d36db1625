/** A guest TCP echo server on a preopened listening socket (Node host), driven by real clients. */
import * as net from 'node:net';
import { Machine } from '@mvvm/interpreter';
import { OutputSink, WASI } from '../src/node';
import { wasmBytes } from './helpers';

function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => {
      // Send in two parts with a pause: the guest's recv blocks (suspends) in between.
      s.write(payload.subarray(0, 10));
      setTimeout(() => s.end(payload.subarray(10)), 30);
    });
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

test('echo server: accept, recv (blocking), send, shutdown; the log keeps peers and byte counts', async () => {
  const out = new OutputSink();
  const wasi = new WASI({ args: ['echo_server', '2'], listen: [{ port: 0 }], stdout: out });
  const [{ fd, port }] = await wasi.listening();
  expect(fd).toBe(3);
  expect(wasi.state().fds.find((f) => f.fd === 3)).toMatchObject({ kind: 'listener', listen: { host: '127.0.0.1', port } });
  const m = await Machine.instantiate(wasmBytes('echo_server'), wasi.getImports());
  const done = wasi.start(m);
  const a = Buffer.from('hello over tcp, first client');
  const b = Buffer.alloc(5000, 'x');
  expect((await exchange(port, a)).toString()).toBe(a.toString());
  expect((await exchange(port, b)).equals(b)).toBe(true);
  expect(await done).toBe(0);
  expect(out.text()).toBe(`connection 0: echoed ${a.length} bytes\nconnection 1: echoed ${b.length} bytes\n`);
  const opens = wasi.recentEvents().filter((e) => e.op === 'open' && e.state.kind === 'socket');
  expect(opens).toHaveLength(2);
  expect(opens.every((e) => e.op === 'open' && /^127\.0\.0\.1:\d+$/.test(e.state.peer!))).toBe(true);
  const traffic = wasi.recentEvents().filter((e) => e.op === 'traffic');
  expect(traffic.map((e) => e.op === 'traffic' && [e.received, e.sent])).toEqual([
    [a.length, a.length],
    [b.length, b.length],
  ]);
  expect(wasi.recentEvents().filter((e) => e.op === 'shutdown')).toHaveLength(2);
  wasi.close();
});
