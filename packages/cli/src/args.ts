/** Parsing of the option values shared by the commands (one meaning per flag). */

export class UsageError extends Error {}

export interface Preopen {
  host: string;
  guest: string;
}

/** `HOST[::GUEST]` as in wasmtime: the guest name defaults to the host path. */
export function parseDir(value: string): Preopen {
  const at = value.indexOf('::');
  const [host, guest] = at < 0 ? [value, value] : [value.slice(0, at), value.slice(at + 2)];
  if (!host || !guest) throw new UsageError(`--dir '${value}': expected HOST or HOST::GUEST`);
  return { host, guest };
}

/** `[HOST:]PORT` for --listen (HOST defaults to 127.0.0.1, as the WASI listen option). */
export function parseListen(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  const host = at < 0 ? '127.0.0.1' : value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(at < 0 ? value : value.slice(at + 1));
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen '${value}': expected [HOST:]PORT`);
  return { host, port };
}

export function parseEnv(value: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`--env '${value}': expected KEY=VALUE`);
  return [value.slice(0, at), value.slice(at + 1)];
}

/** MVVM's `-a -g20,-n1000`: one -a may carry several arguments split on commas (`\,` keeps a comma). */
export function splitArgs(value: string): string[] {
  return value.split(/(?<!\\),/).map((a) => a.replace(/\\,/g, ','));
}

export const collect = <T>(parse: (v: string) => T | T[]) => (value: string, previous: T[] = []): T[] => previous.concat(parse(value));

export function parseCount(value: string, what: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${what}: '${value}' is not a non-negative integer`);
  return n;
}
