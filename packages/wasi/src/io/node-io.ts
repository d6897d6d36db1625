import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import { Errno, FileType, SdFlags } from '../constants';
import { fail } from '../errors';
import { toFileStat } from '../fs/node-fs';
import { Inbox } from './streams';
import type { Connection, Listener, Stream } from './streams';

/**
 * The file type a host fd shows the guest as stdio. wasi-libc's isatty() is "a character
 * device without FD_SEEK/FD_TELL rights" (and stdio fds never have those), so
 * CHARACTER_DEVICE is kept for terminals only: a pipe or FIFO (no WASI type), or a
 * character device that is not a terminal (/dev/null), is UNKNOWN, as wasmtime reports
 * non-terminal stdio. Files and sockets keep their own type.
 */
export function stdioFiletype(fd: number): FileType {
  let ft: FileType;
  try {
    ft = toFileStat(fs.fstatSync(fd, { bigint: true })).filetype;
  } catch {
    return FileType.UNKNOWN; // a closed or odd fd: reads and writes will report the error
  }
  if (ft === FileType.CHARACTER_DEVICE && !tty.isatty(fd)) return FileType.UNKNOWN;
  return ft;
}

/**
 * A host fd used as stdio. Writes are synchronous (ordering with the guest is kept); reads
 * of anything but a regular file go through Node's asynchronous fs.read so the event loop
 * keeps running while the guest waits (the WASI call suspends the machine meanwhile).
 */
export class NodeFdStream implements Stream {
  readonly filetype: FileType;
  private inbox = new Inbox();
  private pending = false;
  private readonly regular: boolean;
  private position = 0;

  constructor(private readonly fd: number) {
    this.filetype = stdioFiletype(fd);
    this.regular = this.filetype === FileType.REGULAR_FILE;
  }

  read(dst: Uint8Array, peek = false): number | null {
    if (this.regular && this.inbox.chunks.length === 0) {
      // A file as stdin: never blocks, read it directly (our own position: the fd may be shared).
      const n = fs.readSync(this.fd, dst, 0, dst.length, this.position);
      if (!peek) this.position += n;
      else if (n > 0) this.inbox.push(dst.slice(0, n)), (this.position += n);
      return n;
    }
    const n = this.inbox.take(dst, peek);
    if (n === null) this.fill();
    return n;
  }

  private fill(): void {
    if (this.pending || this.inbox.ended) return;
    this.pending = true;
    const buf = Buffer.alloc(65536);
    fs.read(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.pending = false;
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') {
        setTimeout(() => this.fill(), 10);
        return;
      }
      if (err || n === 0) this.inbox.end();
      else this.inbox.push(new Uint8Array(buf.buffer, buf.byteOffset, n).slice());
    });
  }

  readable(): Promise<void> {
    if (this.regular) return Promise.resolve();
    this.fill();
    return this.inbox.wait();
  }

  available(): number {
    if (this.regular) {
      try {
        return Math.max(0, Number(fs.fstatSync(this.fd, { bigint: true }).size) - this.position);
      } catch {
        return 0;
      }
    }
    return this.inbox.available();
  }

  write(src: Uint8Array): number {
    let done = 0;
    while (done < src.length) {
      try {
        done += fs.writeSync(this.fd, src, done, src.length - done);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        // a non-blocking pipe that is full: keep the guest's write whole, as a terminal would
      }
    }
    return done;
  }

  close(): void {}
}

/** An accepted TCP connection: incoming data buffered until the guest reads it. */
class NodeConnection implements Connection {
  readonly filetype = FileType.SOCKET_STREAM;
  readonly peer: string;
  private inbox = new Inbox();
  private readShut = false;

  constructor(private readonly socket: net.Socket) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('data', (d: Buffer) => {
      if (!this.readShut) this.inbox.push(new Uint8Array(d.buffer, d.byteOffset, d.length).slice());
    });
    socket.on('end', () => this.inbox.end());
    socket.on('error', () => this.inbox.end());
    socket.on('close', () => this.inbox.end());
  }

  read(dst: Uint8Array, peek = false): number | null {
    return this.inbox.take(dst, peek);
  }
  readable(): Promise<void> {
    return this.inbox.wait();
  }
  available(): number {
    return this.inbox.available();
  }
  write(src: Uint8Array): number {
    if (this.socket.destroyed || !this.socket.writable) fail(Errno.PIPE);
    this.socket.write(src.slice());
    return src.length;
  }
  shutdown(how: number): void {
    if (how & SdFlags.RD) {
      this.readShut = true;
      this.inbox.end();
    }
    if (how & SdFlags.WR) this.socket.end();
  }
  close(): void {
    this.socket.end();
  }
}

/** A listening TCP server; connections queue until the guest accepts them. */
export class NodeListener implements Listener {
  private queue: NodeConnection[] = [];
  private waiters: (() => void)[] = [];
  readonly server: net.Server;
  readonly ready: Promise<void>;
  address: { host: string; port: number };

  constructor(host: string, port: number) {
    this.address = { host, port };
    this.server = net.createServer({ pauseOnConnect: false }, (s) => {
      this.queue.push(new NodeConnection(s));
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
    this.ready = new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address() as net.AddressInfo;
        this.address = { host, port: a.port };
        resolve();
      });
    });
  }

  accept(): Connection | null {
    return this.queue.shift() ?? null;
  }
  pending(): number {
    return this.queue.length;
  }
  acceptable(): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
  close(): void {
    this.server.close();
  }
}
