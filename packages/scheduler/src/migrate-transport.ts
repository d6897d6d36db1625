/**
 * The scheduler's MigrationTransport over @mvvm/migrate: pre-copy live migration over TCP
 * (or TLS) with the two-phase hand-over, authenticated by the shared token
 * (MVVM_MIGRATION_TOKEN). migrateMachine runs the task itself during the pre-copy, so
 * the scheduler takes it out of its rotation at once (Departure.stop).
 */
import { MigrationServer, migrateMachine, startMigrationServer } from '@mvvm/migrate';
import type { TlsFiles } from '@mvvm/migrate';
import { formatEndpoint } from './transport';
import type { Arrival, Departure, Endpoint, Listening, MigrationTransport, SendReport } from './transport';

/** The task ended on the source while its memory was being pre-copied: nothing moved. */
export class TaskEndedError extends Error {
  constructor(readonly code: number) {
    super(`the task ended with code ${code} before the hand-over`);
    this.name = 'TaskEndedError';
  }
}

/** The commit was sent and not acknowledged: the task may run on the target; it must not run here. */
export class InDoubtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InDoubtError';
  }
}

export interface MigrateTransportOptions {
  /** The shared secret (loadToken()); null only with `insecure` on loopback. */
  token: Uint8Array | null;
  insecure?: boolean;
  tls?: TlsFiles;
  /** Guest preopen -> host directory granted to arriving tasks. */
  dirs?: Record<string, string>;
  moduleCache?: string;
  /** Pre-copy (default true); false: stop-and-copy. */
  precopy?: boolean;
  /** A migration this scheduler refused or that failed on its side: one line. */
  onRefused?: (line: string) => void;
}

export function migrateTransport(o: MigrateTransportOptions): MigrationTransport {
  return {
    async send(task: Departure, to: Endpoint): Promise<SendReport> {
      task.stop();
      const r = await migrateMachine({ machine: task.machine, wasi: task.wasi, module: task.bytes, to: formatEndpoint(to), token: o.token, tls: o.tls, precopy: o.precopy !== false, program: task.name });
      if (r.outcome === 'committed') return { downtimeMs: r.downtimeMs, bytesSent: r.bytes, rounds: r.rounds };
      if (r.outcome === 'ended') throw new TaskEndedError(r.code);
      if (r.outcome === 'in-doubt') throw new InDoubtError(r.reason);
      throw new Error(r.reason);
    },
    async listen(at: Endpoint, accept: (a: Arrival) => void): Promise<Listening> {
      const server: MigrationServer = await startMigrationServer({
        listen: at,
        token: o.token,
        insecure: o.insecure,
        tls: o.tls,
        dirs: o.dirs ?? {},
        moduleCache: o.moduleCache,
        threads: false, // a task is one Machine
        onReceived: (p) => accept({ name: p.program, bytes: p.module, machine: p.machine, wasi: p.wasi, from: p.from, downtimeMs: p.stats.downtimeMs, finished: (code) => p.finished(code) }),
        onRefused: (e, from, program) => o.onRefused?.(`refused a migration of ${program} from ${from}: ${e.message}`),
      });
      return { port: server.address.port, close: () => server.close() };
    },
  };
}
