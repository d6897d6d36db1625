import type { HostFs } from './fs/types';
import type { Connection, Listener, Stream } from './io/streams';

/**
 * What a WASI instance uses of the machine it runs on. The in-memory host (memoryHost)
 * works anywhere; the Node host (node.ts, the only place with `node:` imports) adds real
 * files, host fds as stdio, and TCP listeners.
 */
export interface Host {
  fs: HostFs;
  /** A stream over a host file descriptor given as stdin/stdout/stderr (a number option). */
  fdStream?(fd: number, mode: 'read' | 'write'): Stream;
  /** A listening TCP socket (preopened listeners, wasmtime's --tcplisten). */
  listen?(host: string, port: number): Listener;
  /**
   * Fills `bytes` (at most 65,536) with cryptographically secure random bytes. Default:
   * WebCrypto's getRandomValues, which Node 18 has only as node:crypto's (the Node host's).
   */
  randomFill?(bytes: Uint8Array): void;
  /**
   * A restored state's accepted socket: a connection that goes on here from these byte
   * counts (a relay such as `mvvm gateway` can), or null (the connection is lost: reads see
   * the end, writes EPIPE). Without it every socket is lost on restore.
   */
  reattach?(socket: { fd: number; peer: string; received: number; sent: number }): Connection | null;
}
