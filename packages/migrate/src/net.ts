/**
 * The Node side of the transport: TCP or TLS sockets as Channels, the shared secret, and
 * the rule that an unauthenticated migration happens only over loopback with --insecure.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP, Server, Socket, connect as netConnect, createServer as netServer } from 'node:net';
import { TLSSocket, connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import { Channel, ConnectionLostError, MigrationCrypto, MigrationError } from './protocol';

export const nodeCrypto: MigrationCrypto = {
  async hmacSha256(key, data) {
    return new Uint8Array(createHmac('sha256', key).update(data).digest());
  },
  randomBytes: (n) => new Uint8Array(randomBytes(n)),
};

/** TLS files (PEM): our certificate and key, and the CA that signs the peer's. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

export interface Address {
  host: string;
  port: number;
}

/** `HOST:PORT`, `[v6]:PORT` or `PORT` (host 127.0.0.1). */
export function parseAddress(value: string, defaultPort = 9876): Address {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(value) ?? /^([^[\]]+:[^[\]]*)$/.exec(value);
  if (/^\d+$/.test(value)) return { host: '127.0.0.1', port: checkPort(Number(value), value) };
  if (!m) throw new MigrationError(`'${value}': expected HOST:PORT`);
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (!host) throw new MigrationError(`'${value}': expected HOST:PORT`);
  return { host, port: checkPort(port, value) };
}

function checkPort(port: number, value: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MigrationError(`'${value}': bad port`);
  return port;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/**
 * The shared secret: MVVM_MIGRATION_TOKEN, or the contents of `tokenFile` (trailing newline
 * dropped); null when neither is set. An empty or too-short token is refused.
 */
export function loadToken(tokenFile?: string, env: NodeJS.ProcessEnv = process.env): Uint8Array | null {
  let token: string | undefined;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new MigrationError(`cannot read --token-file ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else token = env.MVVM_MIGRATION_TOKEN;
  if (token === undefined) return null;
  if (token.length < 8) throw new MigrationError('the migration token is shorter than 8 characters');
  return new TextEncoder().encode(token);
}

/** No token: allowed only towards/on a loopback address with an explicit insecure flag. */
export function checkInsecure(token: Uint8Array | null, host: string, insecure: boolean | undefined, what: string): void {
  if (token !== null) return;
  if (insecure && isLoopback(host)) return;
  if (insecure) throw new MigrationError(`${what}: --insecure is only allowed on a loopback address (${host} is not): set MVVM_MIGRATION_TOKEN or --token-file`);
  throw new MigrationError(`${what}: no migration token: set MVVM_MIGRATION_TOKEN or --token-file (or --insecure, on loopback only)`);
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new MigrationError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Wraps a connected socket as a Channel. */
export function socketChannel(socket: Socket, peer: string): Channel {
  socket.setNoDelay(true);
  const ch = new Channel(
    {
      write: (bytes) => void socket.write(bytes),
      get bufferedAmount() {
        return socket.writableLength;
      },
      close: () => socket.end(),
      destroy: () => socket.destroy(),
    },
    peer,
  );
  socket.on('data', (d: Buffer) => ch.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  socket.on('drain', () => ch.drainAll());
  socket.on('error', (e) => ch.fail(new ConnectionLostError(`connection to ${peer}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
  socket.on('close', () => ch.fail());
  return ch;
}

export const describe = (a: Address) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/** Connects to a target (TLS when `tls` has a CA or a certificate). */
export function connectChannel(to: Address, tls?: TlsFiles, timeoutMs = 10_000): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const useTls = tls !== undefined && (tls.ca !== undefined || tls.cert !== undefined);
    const socket: Socket = useTls
      ? tlsConnect({ host: to.host, port: to.port, ca: readPem(tls!.ca, '--tls-ca'), cert: readPem(tls!.cert, '--tls-cert'), key: readPem(tls!.key, '--tls-key'), servername: isIP(to.host) ? undefined : to.host })
      : netConnect({ host: to.host, port: to.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectionLostError(`cannot connect to ${describe(to)}: timed out`));
    }, timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(new ConnectionLostError(`cannot connect to ${describe(to)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    };
    socket.once('error', fail);
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socketChannel(socket, describe(to)));
    });
  });
}

/** A TCP or TLS listener handing every connection to `onChannel`. */
export function listenChannels(at: Address, tls: TlsFiles | undefined, onChannel: (ch: Channel, socket: Socket) => void): Promise<{ server: Server; address: Address }> {
  const cert = readPem(tls?.cert, '--tls-cert');
  const key = readPem(tls?.key, '--tls-key');
  const ca = readPem(tls?.ca, '--tls-ca');
  if ((cert === undefined) !== (key === undefined)) throw new MigrationError('--tls-cert and --tls-key go together');
  const accept = (socket: Socket) => onChannel(socketChannel(socket, describe({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 })), socket);
  const server: Server = cert ? tlsServer({ cert, key, ca, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined }, (s: TLSSocket) => accept(s)) : netServer(accept);
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new MigrationError(`cannot listen on ${describe(at)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    server.listen(at.port, at.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : at.port;
      resolve({ server, address: { host: at.host, port } });
    });
  });
}
