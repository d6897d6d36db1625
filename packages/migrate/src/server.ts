/** A listener that receives migrations and hands each committed program to its owner. */
import type { Server } from 'node:net';
import { Address, TlsFiles, checkInsecure, listenChannels, parseAddress } from './net';
import { OutcomeTable, ReceiveOptions, ReceivedProgram, receiveProgram } from './target';

export interface MigrationServerOptions extends Omit<ReceiveOptions, 'token'> {
  /** `HOST:PORT` or an Address; port 0 picks a free port. Default 127.0.0.1:$MIGRATION_PORT or 9876. */
  listen?: string | Address;
  token: Uint8Array | null;
  /** Allow no token (only on a loopback address). */
  insecure?: boolean;
  tls?: TlsFiles;
  /** A committed program: run it (and call its finished()). */
  onReceived(p: ReceivedProgram): void;
  /** A migration that did not happen (refused, failed, aborted): one line's worth. */
  onRefused?(error: Error, from: string, program: string): void;
}

export interface MigrationServer {
  address: Address;
  server: Server;
  close(): Promise<void>;
}

export async function startMigrationServer(o: MigrationServerOptions): Promise<MigrationServer> {
  const at = typeof o.listen === 'object' ? o.listen : parseAddress(o.listen ?? `127.0.0.1:${process.env.MIGRATION_PORT ?? 9876}`);
  checkInsecure(o.token, at.host, o.insecure, 'mvvm serve');
  const table = new OutcomeTable();
  const { server, address } = await listenChannels(at, o.tls, (ch) => {
    receiveProgram(ch, o, table, (e, program) => o.onRefused?.(e, ch.peer, program)).then(
      (p) => {
        if (p) o.onReceived(p);
      },
      (e) => o.onRefused?.(e as Error, ch.peer, '?'),
    );
  });
  return {
    address,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
