/**
 * Multi-process migration tests: `mvvm serve` and `mvvm run --migrate-to` as child
 * processes on loopback (port 0), and a frame-aware relay between them that cuts, holds,
 * drops or corrupts chosen frames. Every child is killed by pid at the end (killAll).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Server, Socket, createServer, connect } from 'node:net';
import { FrameReader, FrameType, encodeFrame } from '@mvvm/migrate/protocol';
import { BIN, Result } from './cli-harness';

const children = new Set<ChildProcess>();

export interface Proc {
  child: ChildProcess;
  out: Buffer[];
  err: Buffer[];
  done: Promise<Result>;
  stderr(): string;
  stdout(): string;
}

export function spawnMvvm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Proc {
  const base = { ...process.env };
  delete base.MVVM_MIGRATION_TOKEN;
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...base, ...env } });
  children.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d) => out.push(d));
  child.stderr!.on('data', (d) => err.push(d));
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code: code ?? (signal ? 128 : -1) });
    }),
  );
  return { child, out, err, done, stderr: () => Buffer.concat(err).toString(), stdout: () => Buffer.concat(out).toString() };
}

/** Starts `mvvm serve --listen 127.0.0.1:0 ...` and resolves its port once it listens. */
export async function serve(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Proc & { port: number }> {
  const p = spawnMvvm(['serve', '--listen', '127.0.0.1:0', ...args], cwd, env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(p.stderr());
    if (m) return { ...p, port: Number(m[1]) };
    if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitFor(what: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function killAll(): void {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
}

/** What the relay does with a frame: forward it, or (then) stop the connection in one of these ways. */
export type Action = 'pass' | 'drop-and-cut' | 'pass-and-cut' | 'corrupt' | 'hold';
export type Rule = (f: { dir: 'up' | 'down'; type: FrameType; conn: number; index: number }) => Action;

export interface Relay {
  port: number;
  /** Resolves when a rule said 'hold' (the connection is frozen until release()). */
  held: Promise<void>;
  release(): void;
  /** Connections accepted so far. */
  connections: number;
  /** Later connections are refused (the target unreachable). */
  refuseNew: boolean;
  close(): Promise<void>;
}

/** A relay on 127.0.0.1:0 to `targetPort`, applying `rule` to each frame in either direction. */
export async function relay(targetPort: number, rule: Rule): Promise<Relay> {
  let onHold: () => void = () => undefined;
  const held = new Promise<void>((r) => (onHold = r));
  const sockets = new Set<Socket>();
  const state = { connections: 0, refuseNew: false };
  const server: Server = createServer((down) => {
    const conn = state.connections++;
    if (state.refuseNew) return void down.destroy();
    const up = connect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        down.destroy();
        up.destroy();
      });
    }
    let frozen = false;
    const pipe = (from: Socket, to: Socket, dir: 'up' | 'down') => {
      const reader = new FrameReader();
      let index = 0;
      from.on('data', (chunk: Buffer) => {
        if (frozen) return;
        let frames;
        try {
          frames = reader.push(new Uint8Array(chunk));
        } catch {
          return void to.destroy();
        }
        for (const f of frames) {
          const action = rule({ dir, type: f.type, conn, index: index++ });
          const bytes = encodeFrame(f.type, f.payload);
          if (action === 'hold') {
            frozen = true;
            onHold();
            return;
          }
          if (action === 'corrupt') bytes[bytes.length >> 1] ^= 0x40;
          if (action !== 'drop-and-cut') to.write(bytes);
          if (action === 'drop-and-cut' || action === 'pass-and-cut') {
            frozen = true;
            to.end(() => {
              down.destroy();
              up.destroy();
            });
            return;
          }
        }
      });
    };
    pipe(down, up, 'up');
    pipe(up, down, 'down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    held,
    release() {
      for (const s of sockets) s.destroy();
    },
    get connections() {
      return state.connections;
    },
    set refuseNew(v: boolean) {
      state.refuseNew = v;
    },
    get refuseNew() {
      return state.refuseNew;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** stderr without the CLI's own lines (`mvvm: ...`, `mvvm serve: ...`): the program's. */
export const programErr = (s: string) => s.split('\n').filter((l) => !l.startsWith('mvvm')).join('\n');
