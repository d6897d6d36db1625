/**
 * The host side of `mvvm gateway`: a guest's listening socket whose connections come from a
 * gateway (clients connect there, the gateway relays each connection over one authenticated
 * control connection per program), and accepted sockets that a migrated program re-attaches
 * on its new host at the exact byte offsets its WASI state recorded. See README.md, "Gateway".
 */
import { Errno, FileType, Inbox, SdFlags, WasiErrnoError } from '@mvvm/wasi';
import type { Connection, Host, Listener } from '@mvvm/wasi';
import { Channel, FrameType, MigrationError, decodeGwData, decodeMessage, encodeGwData, encodeMessage, handshakeAsSource } from './protocol';
import { Address, TlsFiles, checkInsecure, connectChannel, describe, nodeCrypto, parseAddress } from './net';

export interface GatewayClientOptions {
  /** The gateway's control address (`mvvm gateway --control`). */
  gateway: string | Address;
  token: Uint8Array | null;
  insecure?: boolean;
  tls?: TlsFiles;
  /** A name for the gateway's log. */
  program?: string;
  /** One line when the gateway cannot be reached or drops the connection. */
  onError?: (e: Error) => void;
}

const VIA = / via gateway #(\d+)$/;
/** The largest relay chunk (a GwData frame carries up to 1 MiB). */
const CHUNK = 1 << 20;

/**
 * The relay objects of one program on this host, behind one control connection. Created
 * active for a program that starts here; inactive for one being restored from a migration,
 * and activated at the commit (so a migration that fails never takes a connection away
 * from the source).
 */
export class GatewayHost {
  readonly host: Host;
  private ch: Channel | null = null;
  private queue: Uint8Array[] | null = [];
  private started = false;
  private closed = false;
  private readonly conns = new Map<number, GatewayConnection>();
  private readonly listeners: GatewayListener[] = [];
  private readonly gateway: Address;

  constructor(base: Host, private readonly o: GatewayClientOptions, active = true) {
    this.gateway = typeof o.gateway === 'object' ? o.gateway : parseAddress(o.gateway);
    checkInsecure(o.token, this.gateway.host, o.insecure, 'the gateway');
    this.host = {
      ...base,
      listen: () => {
        const l = new GatewayListener(this);
        this.listeners.push(l);
        if (this.started) this.send(encodeMessage(FrameType.GwListen, { program: this.o.program ?? '?', listening: true, release: [] }));
        return l;
      },
      reattach: (s) => {
        const m = VIA.exec(s.peer);
        if (!m) return base.reattach?.(s) ?? null;
        const c = new GatewayConnection(this, Number(m[1]), s.peer, s.received, s.sent);
        this.conns.set(c.id, c);
        if (this.started) this.send(encodeMessage(FrameType.GwAttach, { conn: c.id, received: s.received, sent: s.sent }));
        return c;
      },
    };
    if (active) this.activate();
  }

  /** Connects to the gateway, re-attaches the restored connections and announces the listeners. */
  activate(): void {
    if (this.started) return;
    this.started = true;
    for (const c of this.conns.values()) this.send(encodeMessage(FrameType.GwAttach, { conn: c.id, received: c.received, sent: c.sent }));
    if (this.listeners.length > 0) this.send(encodeMessage(FrameType.GwListen, { program: this.o.program ?? '?', listening: true, release: [] }));
    connectChannel(this.gateway, this.o.tls).then(
      async (ch) => {
        this.ch = ch;
        await handshakeAsSource(ch, { secret: this.o.token, crypto: nodeCrypto });
        for (const f of this.queue ?? []) ch.send(f);
        this.queue = null;
        await this.receive(ch);
      },
    ).catch((e: Error) => {
      this.ch?.destroy();
      if (!this.closed) this.o.onError?.(new MigrationError(`gateway ${describe(this.gateway)}: ${e.message}`));
      for (const c of this.conns.values()) c.lost();
    });
  }

  /**
   * The program has moved to another host (its migration committed): nothing here speaks
   * for its connections any more. Connections never accepted go back to the gateway.
   */
  moved(): void {
    for (const c of this.conns.values()) c.isMoved = true;
    for (const l of this.listeners) l.isMoved = true;
  }

  send(frame: Uint8Array): void {
    if (this.queue) this.queue.push(frame);
    else if (this.ch && !this.ch.isClosed) this.ch.send(frame);
  }

  private async receive(ch: Channel): Promise<void> {
    for (;;) {
      const f = await ch.next();
      switch (f.type) {
        case FrameType.GwOpen: {
          const m = decodeMessage(f, FrameType.GwOpen);
          const l = this.listeners.find((x) => !x.closed);
          if (!l) {
            this.send(encodeMessage(FrameType.GwListen, { program: this.o.program ?? '?', listening: false, release: [m.conn] }));
            break;
          }
          const c = new GatewayConnection(this, m.conn, `${m.peer} via gateway #${m.conn}`, 0, 0);
          this.conns.set(c.id, c);
          l.offer(c);
          break;
        }
        case FrameType.GwData: {
          const d = decodeGwData(f.payload);
          this.conns.get(d.conn)?.data(d.offset, d.bytes);
          break;
        }
        case FrameType.GwEnd: {
          const m = decodeMessage(f, FrameType.GwEnd);
          this.conns.get(m.conn)?.end(m.at);
          break;
        }
        default:
          throw new MigrationError(`the gateway sent an unexpected ${FrameType[f.type] ?? f.type} frame`);
      }
    }
  }

  release(ids: number[]): void {
    for (const id of ids) this.conns.delete(id);
    this.send(encodeMessage(FrameType.GwListen, { program: this.o.program ?? '?', listening: false, release: ids }));
  }

  forget(id: number): void {
    this.conns.delete(id);
  }

  /** Closes the control connection (after the program ended or moved). */
  close(): void {
    this.closed = true;
    this.ch?.close();
    if (this.queue) this.queue = [];
  }
}

/** A guest's listening socket fed by the gateway. */
class GatewayListener implements Listener {
  readonly gateway: GatewayHost;
  readonly address = { host: 'gateway', port: 0 };
  private readonly waiting: GatewayConnection[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  isMoved = false;

  constructor(private readonly gw: GatewayHost) {
    this.gateway = gw;
  }

  offer(c: GatewayConnection): void {
    this.waiting.push(c);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  accept(): Connection | null {
    const c = this.waiting.shift() ?? null;
    if (c) this.gw.send(encodeMessage(FrameType.GwAck, { conn: c.id, received: 0 })); // accepted: it moves with the program now
    return c;
  }
  pending(): number {
    return this.waiting.length;
  }
  acceptable(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Connections the guest never accepted go back to the gateway (the next host takes them).
    this.gw.release(this.waiting.splice(0).map((c) => c.id));
  }
}

/** An accepted socket relayed by the gateway; byte offsets make the relay exact across hosts. */
class GatewayConnection implements Connection {
  get gateway(): GatewayHost {
    return this.gw;
  }
  readonly filetype = FileType.SOCKET_STREAM;
  private readonly inbox = new Inbox();
  /** Offset of the next byte from the client (received + what the inbox holds). */
  private next: number;
  private endAt: number | null = null;
  private wrShut = false;
  private ackPending = false;
  private gone = false;
  isMoved = false;

  constructor(private readonly gw: GatewayHost, readonly id: number, readonly peer: string, public received: number, public sent: number) {
    this.next = received;
  }

  data(offset: number, bytes: Uint8Array): void {
    if (offset > this.next || this.inbox.ended) return; // never from one ordered stream
    const fresh = bytes.subarray(this.next - offset);
    if (fresh.length === 0) return;
    this.inbox.push(fresh.slice());
    this.next += fresh.length;
    if (this.endAt !== null && this.next >= this.endAt) this.inbox.end();
  }
  end(at: number): void {
    this.endAt = at;
    if (this.next >= at) this.inbox.end();
  }
  /** The gateway cannot be reached: the guest sees the end and EPIPE. */
  lost(): void {
    this.gone = true;
    this.inbox.end();
  }

  read(dst: Uint8Array, peek = false): number | null {
    const n = this.inbox.take(dst, peek);
    if (n !== null && n > 0 && !peek) {
      this.received += n;
      if (!this.ackPending) {
        this.ackPending = true;
        setImmediate(() => {
          this.ackPending = false;
          if (!this.isMoved) this.gw.send(encodeMessage(FrameType.GwAck, { conn: this.id, received: this.received }));
        });
      }
    }
    return n;
  }
  readable(): Promise<void> {
    return this.inbox.wait();
  }
  available(): number {
    return this.inbox.available();
  }
  write(src: Uint8Array): number {
    if (this.gone || this.wrShut) throw new WasiErrnoError(Errno.PIPE, 'the gateway connection is closed');
    for (let at = 0; at < src.length; at += CHUNK) {
      const part = src.subarray(at, Math.min(src.length, at + CHUNK));
      this.gw.send(encodeGwData(this.id, this.sent, part));
      this.sent += part.length;
    }
    return src.length;
  }
  shutdown(how: number): void {
    if (how & SdFlags.RD) this.inbox.end();
    if (how & SdFlags.WR && !this.wrShut) {
      this.wrShut = true;
      if (!this.isMoved) this.gw.send(encodeMessage(FrameType.GwEnd, { conn: this.id, at: this.sent }));
    }
  }
  close(): void {
    if (this.isMoved) return; // it goes on elsewhere
    this.shutdown(SdFlags.WR);
    this.gw.forget(this.id);
  }
}

/** The gateway relay a WASI instance's sockets use, if any (a migration tells it when the program has moved). */
export function gatewayOf(wasi: { fds: { entries: Map<number, { listener?: unknown; conn?: unknown }> } } | null): GatewayHost | null {
  for (const e of wasi?.fds.entries.values() ?? []) {
    const x = e.listener ?? e.conn;
    if (x instanceof GatewayListener || x instanceof GatewayConnection) return x.gateway;
  }
  return null;
}
