/**
 * `mvvm gateway`: a stable address in front of a server program that migrates. Clients
 * connect to the gateway; it relays each connection over the control connection of the
 * host the program runs on (gateway-host.ts). While the program moves it keeps every client
 * byte the guest has not acknowledged, holds the client open, and when the new host
 * re-attaches the connection (at the byte counts of the migrated WASI state) it resends
 * from there and splices the guest's output by offset: nothing lost, nothing twice.
 */
import { Server, Socket, createServer } from 'node:net';
import { Channel, FrameType, MigrationError, decodeGwData, decodeMessage, encodeGwData, encodeMessage, handshakeAsTarget } from './protocol';
import { Address, TlsFiles, checkInsecure, describe, listenChannels, nodeCrypto, parseAddress } from './net';

export interface GatewayOptions {
  /** Where clients connect (`HOST:PORT`; port 0: any free port). */
  listen: string | Address;
  /** Where hosts running the program connect (authenticated as migrations are). */
  control: string | Address;
  token: Uint8Array | null;
  /** No token: only with a loopback control address. */
  insecure?: boolean;
  tls?: TlsFiles;
  /** How long a client connection waits for a host to take it (or take it again). Default 60 s. */
  holdMs?: number;
  /** Client bytes kept per connection (not yet read by the guest) before the client is paused. Default 16 MiB. */
  maxBuffered?: number;
  /** One line per event worth a log (a host comes or goes, a connection moves). */
  log?: (line: string) => void;
}

export interface Gateway {
  /** The clients' address. */
  address: Address;
  /** The hosts' address. */
  control: Address;
  /** Client connections open now. */
  connections(): number;
  close(): Promise<void>;
}

interface Link {
  ch: Channel;
  peer: string;
  program: string;
  /** When it last said it listens (the newest listening link gets new connections); 0: not listening. */
  since: number;
}

interface Relay {
  id: number;
  socket: Socket;
  peer: string;
  /** Client bytes from offset `base` on, kept until the guest has read them. */
  buf: Uint8Array[];
  base: number;
  total: number;
  clientEnded: boolean;
  host: Link | null;
  accepted: boolean;
  /** Guest bytes written to the client so far, and chunks that came ahead of that offset. */
  delivered: number;
  early: Array<{ offset: number; bytes: Uint8Array }>;
  guestEndAt: number | null;
  hold: ReturnType<typeof setTimeout> | null;
}

const CHUNK = 1 << 20;

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const control = typeof o.control === 'object' ? o.control : parseAddress(o.control);
  const clientsAt = typeof o.listen === 'object' ? o.listen : parseAddress(o.listen);
  checkInsecure(o.token, control.host, o.insecure, 'mvvm gateway');
  const holdMs = o.holdMs ?? 60_000;
  const maxBuffered = o.maxBuffered ?? 16 << 20;
  const log = o.log ?? (() => {});
  const links = new Set<Link>();
  const relays = new Map<number, Relay>();
  let nextId = 1;
  let order = 0;

  const current = (): Link | null => {
    let best: Link | null = null;
    for (const l of links) if (l.since > 0 && (!best || l.since > best.since)) best = l;
    return best;
  };

  const sendFrom = (r: Relay, l: Link, from: number) => {
    let at = r.base;
    for (const c of r.buf) {
      const end = at + c.length;
      if (end > from) {
        const part = c.subarray(Math.max(0, from - at));
        for (let i = 0; i < part.length; i += CHUNK) l.ch.send(encodeGwData(r.id, Math.max(from, at) + i, part.subarray(i, i + CHUNK)));
      }
      at = end;
    }
    if (r.clientEnded) l.ch.send(encodeMessage(FrameType.GwEnd, { conn: r.id, at: r.total }));
  };

  const hold = (r: Relay) => {
    r.host = null;
    if (r.hold) return;
    r.hold = setTimeout(() => {
      log(`connection #${r.id} from ${r.peer}: no host took it within ${holdMs} ms: closed`);
      drop(r);
    }, holdMs);
  };

  const drop = (r: Relay) => {
    if (r.hold) clearTimeout(r.hold);
    relays.delete(r.id);
    r.socket.destroy();
  };

  /** A connection no guest has accepted: to the current host, or held until there is one. */
  const assign = (r: Relay) => {
    const l = current();
    if (!l) return hold(r);
    if (r.hold) clearTimeout(r.hold);
    r.hold = null;
    r.host = l;
    l.ch.send(encodeMessage(FrameType.GwOpen, { conn: r.id, peer: r.peer }));
    sendFrom(r, l, r.base);
  };

  const trim = (r: Relay, upTo: number) => {
    while (r.buf.length > 0 && r.base + r.buf[0].length <= upTo) r.base += r.buf.shift()!.length;
    if (r.buf.length > 0 && r.base < upTo) {
      r.buf[0] = r.buf[0].subarray(upTo - r.base);
      r.base = upTo;
    }
    if (r.total - r.base <= maxBuffered && r.socket.isPaused()) r.socket.resume();
  };

  const deliver = (r: Relay, offset: number, bytes: Uint8Array) => {
    if (offset > r.delivered) {
      r.early.push({ offset, bytes: bytes.slice() });
      if (r.early.reduce((n, e) => n + e.bytes.length, 0) > maxBuffered) {
        log(`connection #${r.id}: a host's output skipped ahead by more than ${maxBuffered} bytes: closed`);
        drop(r);
      }
      return;
    }
    if (offset + bytes.length > r.delivered) {
      const fresh = bytes.subarray(r.delivered - offset);
      if (!r.socket.destroyed) r.socket.write(fresh.slice());
      r.delivered += fresh.length;
      const next = r.early.findIndex((e) => e.offset <= r.delivered);
      if (next >= 0) {
        const [e] = r.early.splice(next, 1);
        deliver(r, e.offset, e.bytes);
        return;
      }
    }
    if (r.guestEndAt !== null && r.delivered >= r.guestEndAt && !r.socket.destroyed) r.socket.end();
  };

  const onFrame = (l: Link, f: { type: FrameType; payload: Uint8Array }) => {
    switch (f.type) {
      case FrameType.GwListen: {
        const m = decodeMessage(f, FrameType.GwListen);
        l.program = m.program;
        if (m.listening && l.since === 0) log(`${l.peer}: ${m.program} listens there now`);
        l.since = m.listening ? ++order : 0;
        for (const id of m.release) {
          const r = relays.get(id);
          if (r && r.host === l && !r.accepted) assign(r);
        }
        if (m.listening) for (const r of relays.values()) if (!r.host && !r.accepted) assign(r);
        break;
      }
      case FrameType.GwAttach: {
        const m = decodeMessage(f, FrameType.GwAttach);
        const r = relays.get(m.conn);
        if (!r || m.received < r.base || m.received > r.total) {
          log(`${l.peer}: cannot re-attach connection #${m.conn} (${r ? `at byte ${m.received}, the gateway holds ${r.base}..${r.total}` : 'unknown or closed'})`);
          l.ch.send(encodeMessage(FrameType.GwEnd, { conn: m.conn, at: m.received }));
          break;
        }
        if (r.hold) clearTimeout(r.hold);
        r.hold = null;
        r.host = l;
        r.accepted = true;
        trim(r, m.received);
        log(`connection #${r.id} from ${r.peer}: re-attached on ${l.peer} at bytes ${m.received} in, ${m.sent} out`);
        sendFrom(r, l, m.received);
        break;
      }
      case FrameType.GwAck: {
        const m = decodeMessage(f, FrameType.GwAck);
        const r = relays.get(m.conn);
        if (!r || r.host !== l) break;
        if (m.received > r.total) throw new MigrationError(`an acknowledgement of byte ${m.received} of connection #${r.id}, which has ${r.total}`);
        r.accepted = true;
        trim(r, m.received);
        break;
      }
      case FrameType.GwData: {
        const d = decodeGwData(f.payload);
        const r = relays.get(d.conn);
        if (r) deliver(r, d.offset, d.bytes);
        break;
      }
      case FrameType.GwEnd: {
        const m = decodeMessage(f, FrameType.GwEnd);
        const r = relays.get(m.conn);
        if (!r || r.host !== l) break;
        r.guestEndAt = m.at;
        if (r.delivered >= m.at && !r.socket.destroyed) r.socket.end();
        break;
      }
      default:
        throw new MigrationError(`unexpected ${FrameType[f.type] ?? f.type} frame from a host`);
    }
  };

  const controlServer = await listenChannels(control, o.tls, (ch) => {
    void (async () => {
      const l: Link = { ch, peer: ch.peer, program: '?', since: 0 };
      try {
        await handshakeAsTarget(ch, { secret: o.token, crypto: nodeCrypto });
        links.add(l);
        for (;;) onFrame(l, await ch.next());
      } catch (e) {
        if (links.has(l) && !ch.isClosed) log(`${l.peer}: ${(e as Error).message}`);
        else if (!links.has(l)) log(`${ch.peer}: refused: ${(e as Error).message}`);
      } finally {
        ch.destroy();
        if (links.delete(l)) {
          log(`${l.peer}: host of ${l.program} gone`);
          for (const r of relays.values()) {
            if (r.host !== l) continue;
            if (r.accepted) hold(r); // its program may come back on another host
            else assign(r);
          }
        }
      }
    })();
  });

  const clients: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const r: Relay = { id: nextId++, socket, peer: describe({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }), buf: [], base: 0, total: 0, clientEnded: false, host: null, accepted: false, delivered: 0, early: [], guestEndAt: null, hold: null };
    relays.set(r.id, r);
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      const bytes = new Uint8Array(d.buffer, d.byteOffset, d.length).slice();
      r.buf.push(bytes);
      r.total += bytes.length;
      if (r.host) r.host.ch.send(encodeGwData(r.id, r.total - bytes.length, bytes));
      if (r.total - r.base > maxBuffered) socket.pause();
    });
    socket.on('end', () => {
      r.clientEnded = true;
      r.host?.ch.send(encodeMessage(FrameType.GwEnd, { conn: r.id, at: r.total }));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!r.clientEnded) r.host?.ch.send(encodeMessage(FrameType.GwEnd, { conn: r.id, at: r.total }));
      if (r.hold) clearTimeout(r.hold);
      relays.delete(r.id);
    });
    assign(r);
  });
  const address = await new Promise<Address>((resolve, reject) => {
    clients.once('error', (e) => reject(new MigrationError(`cannot listen on ${describe(clientsAt)}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    clients.listen(clientsAt.port, clientsAt.host, () => {
      const a = clients.address();
      resolve({ host: clientsAt.host, port: typeof a === 'object' && a ? a.port : clientsAt.port });
    });
  });

  return {
    address,
    control: controlServer.address,
    connections: () => relays.size,
    async close() {
      for (const r of relays.values()) drop(r);
      for (const l of links) l.ch.destroy();
      await Promise.all([new Promise<void>((res) => clients.close(() => res())), new Promise<void>((res) => controlServer.server.close(() => res()))]);
    },
  };
}
