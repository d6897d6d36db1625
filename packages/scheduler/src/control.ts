/**
 * The daemon's control endpoint: HTTP with JSON bodies, on a unix socket (default, mode
 * 0600: only this user) or a loopback TCP port. When the daemon has a migration token,
 * every request must carry it as `Authorization: Bearer TOKEN`.
 *
 *   GET  /tasks                 -> { tasks: TaskRow[] }
 *   GET  /metrics               -> { sample, thresholds, intervalMs, monitorCpuPct, targets }
 *   POST /tasks                 { module, args?, env?, dirs?, to? } -> { id }
 *   POST /tasks/ID/pause|resume|kill             -> { task }
 *   POST /tasks/ID/migrate      { to: "HOST:PORT" } -> { task } once moved; 409 { error } if not
 *   GET  /watch                 -> NDJSON: { state } first, then { patches } per change (RFC 6902)
 *
 * Errors are { error: "one line" } with 400 (bad request), 401, 404 (no such task or
 * route) or 409 (the task cannot do that now).
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { connect } from 'node:net';
import { isLoopback } from '@mvvm/migrate';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, parseHostPort } from './config';
import type { Sample } from './monitor';
import { SchedulerError, WasmScheduler } from './scheduler';
import type { Thresholds, Target } from './config';

/** A unix socket path, or a loopback HOST:PORT. */
export type ControlAddress = { path: string } | { host: string; port: number };

/** `unix:PATH`, a path (contains "/"), or HOST:PORT on a loopback address. */
export function parseControl(text: string): ControlAddress {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  if (text.includes('/')) return { path: text };
  const a = parseHostPort(text, '--control');
  if (!isLoopback(a.host)) throw new ConfigError(`--control ${text}: the control endpoint listens on loopback only (127.0.0.1, ::1, localhost) or a unix socket`);
  return a;
}

export const describeControl = (c: ControlAddress) => ('path' in c ? `unix:${c.path}` : c.host.includes(':') ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`);

const launchBody = z.object({
  module: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  dirs: z.record(z.string(), z.string()).default({}),
  to: z.string().optional(),
}).strict();
const migrateBody = z.object({ to: z.string().min(1) }).strict();

const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface ControlContext {
  scheduler: WasmScheduler;
  metrics(): { sample: Sample | null; thresholds: Thresholds; intervalMs: number; monitorCpuPct: number | null; targets: Target[] };
  token: Uint8Array | null;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(400, 'request body over 1 MiB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) return resolve({});
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'the body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError(400, `bad request: ${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return r.data;
}

function authorized(req: IncomingMessage, token: Uint8Array | null): boolean {
  if (token === null) return true;
  const h = req.headers.authorization ?? '';
  const given = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '', 'utf8');
  return given.length === token.length && timingSafeEqual(given, token);
}

async function handle(ctx: ControlContext, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  if (!authorized(req, ctx.token)) throw new HttpError(401, 'the control endpoint needs the migration token (MVVM_MIGRATION_TOKEN)');
  const s = ctx.scheduler;
  const url = new URL(req.url ?? '/', 'http://control');
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/tasks') return { tasks: s.status() };
  if (method === 'GET' && url.pathname === '/metrics') return ctx.metrics();
  if (method === 'GET' && url.pathname === '/watch') {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(JSON.stringify({ state: s.table.state }) + '\n');
    const off = s.table.subscribe((patches) => res.write(JSON.stringify({ patches }) + '\n'));
    res.on('close', off);
    return undefined;
  }
  if (method === 'POST' && url.pathname === '/tasks') {
    const b = parse(launchBody, await readBody(req));
    const to = b.to === undefined ? undefined : parseHostPort(b.to, 'to');
    return { id: await s.launch({ module: b.module, args: b.args, env: b.env, dirs: b.dirs }, to) };
  }
  if (method === 'POST' && parts.length === 3 && parts[0] === 'tasks') {
    const [, id, action] = parts;
    if (!s.table.row(id)) throw new HttpError(404, `no task ${id}`);
    if (action === 'pause') s.pause(id);
    else if (action === 'resume') s.resume(id);
    else if (action === 'kill') s.kill(id);
    else if (action === 'migrate') {
      const b = parse(migrateBody, await readBody(req));
      await s.migrate(id, parseHostPort(b.to, 'to'));
    } else throw new HttpError(404, `no action ${action}`);
    return { task: s.table.row(id) };
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

export interface ControlServer {
  address: ControlAddress;
  close(): Promise<void>;
}

/** A unix socket left by a daemon that is gone is removed; one in use is an error. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
  if (alive) throw new ConfigError(`control socket ${path} is in use by another scheduler (give this one --control)`);
  unlinkSync(path);
}

export async function startControl(at: ControlAddress, ctx: ControlContext): Promise<ControlServer> {
  const server: Server = createServer((req, res) => {
    handle(ctx, req, res).then(
      (body) => {
        if (body === undefined) return; // a stream
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (e) => {
        const status = e instanceof HttpError ? e.status : e instanceof SchedulerError || e instanceof ConfigError ? 409 : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
      },
    );
  });
  if ('path' in at) await clearStaleSocket(at.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new ConfigError(`control endpoint ${describeControl(at)}: ${e.code ?? e.message}`)));
    if ('path' in at) server.listen(at.path, () => resolve());
    else server.listen(at.port, at.host, () => resolve());
  });
  let address: ControlAddress = at;
  if ('path' in at) chmodSync(at.path, 0o600);
  else {
    const a = server.address();
    if (a && typeof a === 'object') address = { host: at.host, port: a.port };
  }
  return {
    address,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
