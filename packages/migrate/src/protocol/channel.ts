/**
 * A Channel carries frames over a byte stream supplied by a Transport (a Node socket, a
 * WebSocket...). Incoming frames queue until next() takes them; a protocol error or the
 * end of the stream fails every waiting and later next().
 */
import { ConnectionLostError, MigrationError } from './errors';
import { Frame, FrameReader, HANDSHAKE_LIMITS } from './frames';

export interface Transport {
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet handed to the network. */
  readonly bufferedAmount: number;
  close(): void;
  /** Closes at once, dropping what is buffered (an abort). */
  destroy(): void;
}

/** Above this many buffered bytes a sender should wait (drained()). */
export const HIGH_WATER = 8 << 20;

export class Channel {
  /** Handshake frames only, until authenticated() (see HANDSHAKE_LIMITS). */
  private readonly reader = new FrameReader(HANDSHAKE_LIMITS, true);
  private readonly queue: Frame[] = [];
  private waiting: { resolve: (f: Frame) => void; reject: (e: Error) => void } | null = null;
  private drainWaiters: Array<() => void> = [];
  private error: MigrationError | null = null;
  /** Bytes written to the transport. */
  sent = 0;

  constructor(
    readonly transport: Transport,
    readonly peer: string,
  ) {}

  get received(): number {
    return this.reader.received;
  }

  get isClosed(): boolean {
    return this.error !== null;
  }

  /** The transport calls this with every chunk it receives. */
  receive(chunk: Uint8Array): void {
    this.deliver(() => this.reader.push(chunk));
  }

  /** The handshake authenticated the peer (or both sides agreed to run without a token). */
  authenticated(): void {
    this.deliver(() => this.reader.open());
  }

  private deliver(read: () => Frame[]): void {
    if (this.error) return;
    let frames: Frame[];
    try {
      frames = read();
    } catch (e) {
      this.fail(e as MigrationError);
      this.transport.destroy();
      return;
    }
    for (const f of frames) {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(f);
      } else this.queue.push(f);
    }
  }

  /** The transport calls this when the stream ended or failed. */
  fail(error: MigrationError = new ConnectionLostError(`the connection to ${this.peer} closed`)): void {
    if (this.error) return;
    this.error = error;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(error);
    }
    this.drainAll();
  }

  /** The transport calls this when its buffer emptied. */
  drainAll(): void {
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  send(frame: Uint8Array): void {
    if (this.error) throw this.error;
    this.sent += frame.length;
    this.transport.write(frame);
  }

  get congested(): boolean {
    return this.transport.bufferedAmount > HIGH_WATER;
  }

  /** Resolves once the transport's buffer is below HIGH_WATER (or the channel failed). */
  drained(): Promise<void> {
    if (!this.congested || this.error) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The next frame; rejects on a protocol error, the end of the stream or after `timeoutMs`. */
  next(timeoutMs = 0): Promise<Frame> {
    const f = this.queue.shift();
    if (f) return Promise.resolve(f);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          this.waiting = null;
          reject(new ConnectionLostError(`no answer from ${this.peer} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiting = {
        resolve: (fr) => {
          if (timer) clearTimeout(timer);
          resolve(fr);
        },
        reject: (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  close(): void {
    this.transport.close();
  }

  destroy(): void {
    this.fail(new ConnectionLostError('closed'));
    this.transport.destroy();
  }
}
