/**
 * The scheduler's view of a migration transport: the small interface it needs, so the
 * scheduler knows nothing of wire formats (`@mvvm/migrate` implements it in
 * migrate-transport.ts; tests may plug in their own).
 */
import type { Machine } from '@mvvm/interpreter';
import type { WASI } from '@mvvm/wasi/node';

export interface Endpoint {
  host: string;
  port: number;
}

export const formatEndpoint = (e: Endpoint) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

/** A task leaving this scheduler. */
export interface Departure {
  id: string;
  name: string;
  bytes: Uint8Array;
  machine: Machine;
  wasi: WASI | null;
  /**
   * Until stop() the scheduler keeps time-slicing the task (a pre-copy transport sends
   * pages meanwhile); stop() takes it out of the rotation (the machine is then between
   * slices, safe to snapshot). A transport that gives up after stop() must not touch the
   * machine again: the scheduler puts it back into the rotation when send() rejects.
   */
  stop(): void;
}

export interface SendReport {
  /** From stop() to the target's commit. */
  downtimeMs: number;
  bytesSent: number;
  /** Pre-copy rounds, when the transport has them. */
  rounds?: number;
}

/** A task arriving on this scheduler, restored and ready to step. */
export interface Arrival {
  name: string;
  bytes: Uint8Array;
  machine: Machine;
  wasi: WASI | null;
  /** Who sent it (HOST:PORT or the peer address). */
  from: string;
  /** As the target measured it. */
  downtimeMs?: number;
  /** Called once the task ended here (a source following its output learns the exit code). */
  finished?: (code: number) => void;
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

export interface MigrationTransport {
  /**
   * Moves the task to `to`. Resolves once the target has committed: the source must never
   * run the task again. Rejects (one-line message) when the target did not commit: the
   * task is still the source's and goes on running there.
   */
  send(task: Departure, to: Endpoint): Promise<SendReport>;
  /** Accepts migrations on host:port; each task restored here is handed to `accept`. */
  listen(at: Endpoint, accept: (task: Arrival) => void): Promise<Listening>;
}
