/**
 * An in-process MigrationTransport for the scheduler's unit tests: a task moves as a
 * snapshot (@mvvm/snapshot bytes) to another WasmScheduler of the same process, looked up
 * by "host:port" in a registry. A target that is not registered is "down" (send rejects).
 */
import { checkpoint, loadChain, moduleHash, restoreMachine } from '@mvvm/snapshot';
import { WASI, checkState } from '@mvvm/wasi/node';
import type { OutputOption } from '@mvvm/wasi/node';
import { formatEndpoint } from '../src/transport';
import type { Arrival, Departure, Endpoint, Listening, MigrationTransport, SendReport } from '../src/transport';

export class LocalNet {
  readonly listeners = new Map<string, (snapshot: Uint8Array, bytes: Uint8Array, name: string, from: string) => Promise<void>>();
  sends = 0;

  transport(self: string, o: { stdout?: OutputOption; stderr?: OutputOption; preopens?: Record<string, string> } = {}): MigrationTransport {
    const net = this;
    return {
      async send(task: Departure, to: Endpoint): Promise<SendReport> {
        net.sends++;
        const deliver = net.listeners.get(formatEndpoint(to));
        if (!deliver) throw new Error(`connect ECONNREFUSED ${formatEndpoint(to)}`);
        task.stop();
        const t0 = performance.now();
        const snap = await checkpoint(task.machine, { moduleHash: await moduleHash(task.bytes), wasi: task.wasi?.state() ?? null });
        await deliver(snap.bytes, task.bytes, task.name, self);
        return { downtimeMs: performance.now() - t0, bytesSent: snap.bytes.length };
      },
      async listen(at: Endpoint, accept: (a: Arrival) => void): Promise<Listening> {
        const key = formatEndpoint(at);
        net.listeners.set(key, async (snapshot, bytes, name, from) => {
          const resolved = await loadChain([snapshot]);
          const wasi = resolved.wasi ? WASI.restore(checkState(resolved.wasi), { preopens: o.preopens ?? {}, returnOnExit: true, stdout: o.stdout, stderr: o.stderr }) : null;
          const machine = await restoreMachine(bytes, resolved, wasi?.getImports() ?? {});
          accept({ name, bytes, machine, wasi, from });
        });
        return { port: at.port, close: async () => void net.listeners.delete(key) };
      },
    };
  }
}
