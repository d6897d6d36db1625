/** A client of the daemon's control endpoint (control.ts): what `mvvm ps`, `launch`, `migrate`... use. */
import { request } from 'node:http';
import type { ControlAddress } from './control';
import { describeControl } from './control';
import type { JsonPatch, TableState } from './table';

export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}

export interface ClientOptions {
  at: ControlAddress;
  token?: Uint8Array | null;
}

function options(o: ClientOptions, method: string, path: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token) headers.authorization = `Bearer ${Buffer.from(o.token).toString('utf8')}`;
  return 'path' in o.at ? { socketPath: o.at.path, method, path, headers } : { host: o.at.host, port: o.at.port, method, path, headers };
}

function unreachable(o: ClientOptions, e: NodeJS.ErrnoException): ControlError {
  return new ControlError(`no scheduler at ${describeControl(o.at)} (${e.code ?? e.message}): start one with \`mvvm scheduler\`, or name its endpoint with --control`);
}

/** One request; resolves to the JSON answer, rejects with the endpoint's one-line error. */
export function call<T = unknown>(o: ClientOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(options(o, method, path), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: { error?: string };
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return reject(new ControlError(`the control endpoint answered ${res.statusCode} without JSON`));
        }
        if ((res.statusCode ?? 500) >= 400) reject(new ControlError(json.error ?? `HTTP ${res.statusCode}`));
        else resolve(json as T);
      });
    });
    req.on('error', (e) => reject(unreachable(o, e)));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * Follows the task table: `onState` with the whole table first, then after every batch of
 * patches (applied by the caller's `apply`), `onPatches` with the raw patches. Resolves
 * when the daemon closes the stream.
 */
export function watch(o: ClientOptions, on: { state(s: TableState): void; patches(p: JsonPatch[]): void }): { done: Promise<void>; stop(): void } {
  let stop = () => undefined as void;
  const done = new Promise<void>((resolve, reject) => {
    const req = request(options(o, 'GET', '/watch'), (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new ControlError(JSON.parse(Buffer.concat(chunks).toString() || '{}').error ?? `HTTP ${res.statusCode}`)));
        return;
      }
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        rest += c;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          const msg = JSON.parse(line) as { state?: TableState; patches?: JsonPatch[] };
          if (msg.state) on.state(msg.state);
          if (msg.patches) on.patches(msg.patches);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (e) => reject(unreachable(o, e)));
    req.end();
    stop = () => req.destroy();
  });
  return { done, stop: () => stop() };
}
