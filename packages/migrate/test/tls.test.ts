/**
 * TLS: a migration over node:tls with the target's certificate checked against --tls-ca;
 * a source that trusts another CA refuses the target (and the program stays where it was).
 */
import { join } from 'node:path';
import { ReceivedProgram, migrateMachine, startMigrationServer } from '../src';
import { collector, runTo, startProgram } from './helpers';

const TLS = join(__dirname, 'tls');
const TOKEN = new TextEncoder().encode('tls-test-token-42');

test('over TLS with a trusted CA the program moves; with a plain connection or the wrong CA it does not', async () => {
  const got: ReceivedProgram[] = [];
  const server = await startMigrationServer({
    listen: '127.0.0.1:0',
    dirs: {},
    token: TOKEN,
    tls: { cert: join(TLS, 'server.pem'), key: join(TLS, 'server.key') },
    onReceived(p) {
      got.push(p);
      void runTo(p.machine).then((code) => p.finished(code ?? 0));
    },
  });
  try {
    const ref = collector();
    const r0 = await startProgram('compute', ['-g7', '-n30000'], ref);
    const code = await runTo(r0.machine);

    const plain = collector();
    const p1 = await startProgram('compute', ['-g7', '-n30000'], plain);
    await runTo(p1.machine, 500_000);
    const refused = await migrateMachine({ machine: p1.machine, wasi: p1.wasi, module: p1.bytes, to: server.address, token: TOKEN, keepRunning: false });
    expect(refused.outcome).toBe('failed');
    const wrongCa = await migrateMachine({ machine: p1.machine, wasi: p1.wasi, module: p1.bytes, to: server.address, token: TOKEN, keepRunning: false, tls: { ca: join(TLS, 'server.pem') } });
    expect(wrongCa.outcome).toBe('failed');
    expect(got).toHaveLength(0);

    const moved = await migrateMachine({ machine: p1.machine, wasi: p1.wasi, module: p1.bytes, to: server.address, token: TOKEN, keepRunning: false, tls: { ca: join(TLS, 'ca.pem') }, follow: plain.sink });
    if (moved.outcome !== 'committed') throw new Error(JSON.stringify(moved));
    expect(await moved.exitCode).toBe(code);
    expect(plain.text()).toBe(ref.text());
    expect(got).toHaveLength(1);
  } finally {
    await server.close();
  }
});
