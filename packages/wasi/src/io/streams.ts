import { Errno, FileType } from '../constants';
import { fail } from '../errors';

/**
 * A byte stream behind an fd that is not a file: stdio, a TCP connection. Reads never
 * block: `read` returns null when no data is there yet and the caller suspends the machine
 * on `readable()`, then retries the call.
 */
export interface Stream {
  readonly filetype: FileType;
  /** Copies available bytes into dst: the count, 0 at end of stream, null when none yet. */
  read(dst: Uint8Array, peek?: boolean): number | null;
  /** Settles when read() would not return null. */
  readable(): Promise<void>;
  /** Bytes that read() would return now (poll_oneoff's nbytes). */
  available(): number;
  write(src: Uint8Array): number;
  /** sock_shutdown: SdFlags bits. */
  shutdown?(how: number): void;
  close(): void;
}

/** A connection accepted on a listening socket. */
export interface Connection extends Stream {
  readonly peer: string;
}

/** A listening TCP socket (Node host). */
export interface Listener {
  readonly address: { host: string; port: number };
  /** A connection waiting to be accepted, or null. */
  accept(): Connection | null;
  /** Connections waiting (poll_oneoff's readiness). */
  pending(): number;
  acceptable(): Promise<void>;
  close(): void;
}

/** Bytes received but not yet read, plus end-of-stream and waiters: shared by fd and socket input. */
export class Inbox {
  chunks: Uint8Array[] = [];
  ended = false;
  private waiters: (() => void)[] = [];

  push(b: Uint8Array): void {
    if (b.length > 0) this.chunks.push(b);
    this.wake();
  }
  end(): void {
    this.ended = true;
    this.wake();
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  available(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  take(dst: Uint8Array, peek: boolean): number | null {
    if (this.chunks.length === 0) return this.ended ? 0 : null;
    let n = 0;
    let i = 0;
    while (n < dst.length && i < this.chunks.length) {
      const c = this.chunks[i];
      const k = Math.min(c.length, dst.length - n);
      dst.set(c.subarray(0, k), n);
      n += k;
      if (peek) {
        if (k < c.length) break;
        i++;
      } else if (k === c.length) this.chunks.shift();
      else this.chunks[i] = c.subarray(k);
    }
    return n;
  }
  wait(): Promise<void> {
    if (this.chunks.length > 0 || this.ended) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
}

/** Input given up front or pushed later (stdin in a browser, in tests): push() and end(). */
export class InputQueue implements Stream {
  readonly filetype = FileType.CHARACTER_DEVICE;
  private readonly inbox = new Inbox();

  constructor(initial?: Uint8Array | string, ended = initial !== undefined) {
    if (initial !== undefined) this.push(initial);
    if (ended) this.end();
  }

  push(data: Uint8Array | string): void {
    this.inbox.push(typeof data === 'string' ? new TextEncoder().encode(data) : data.slice());
  }

  end(): void {
    this.inbox.end();
  }

  available(): number {
    return this.inbox.available();
  }

  read(dst: Uint8Array, peek = false): number | null {
    return this.inbox.take(dst, peek);
  }

  readable(): Promise<void> {
    return this.inbox.wait();
  }

  write(): number {
    fail(Errno.BADF);
  }

  close(): void {}
}

/** Output to a callback, or collected (`text()`, `bytes()`) when none is given. */
export class OutputSink implements Stream {
  readonly filetype = FileType.CHARACTER_DEVICE;
  private chunks: Uint8Array[] = [];
  constructor(private readonly onWrite?: (chunk: Uint8Array) => void) {}

  write(src: Uint8Array): number {
    const copy = src.slice();
    if (this.onWrite) this.onWrite(copy);
    else this.chunks.push(copy);
    return src.length;
  }

  bytes(): Uint8Array {
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  text(): string {
    return new TextDecoder().decode(this.bytes());
  }

  read(): number | null {
    fail(Errno.BADF);
  }
  readable(): Promise<void> {
    return Promise.resolve();
  }
  available(): number {
    return 0;
  }
  close(): void {}
}
