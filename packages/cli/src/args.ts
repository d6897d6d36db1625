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
  // `a:::/d` (three colons) would be host `a`, guest `:/d`: refused, as a typo more likely than a name.
  if (!host || !guest || host.endsWith(':') || guest.startsWith(':')) throw new UsageError(`--dir '${value}': expected HOST or HOST::GUEST`);
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

/**
 * The one rule for program arguments: each `-a` is one argument and may repeat; commas
 * split one `-a` into several (MVVM's `-a -g20,-n1000`; `\,` keeps a comma); spaces never
 * split (`-a "-g 12"` is the single argument `-g 12`, and says so on stderr, since it is
 * rarely what was meant); everything after `--` is passed verbatim.
 */
export function splitArgs(value: string, warn: (message: string) => void = (m) => void process.stderr.write(`mvvm: ${m}\n`)): string[] {
  const args = value.split(/(?<!\\),/).map((a) => a.replace(/\\,/g, ','));
  for (const a of args) {
    if (/\s/.test(a)) warn(`-a '${a}' is one argument with spaces in it; for several, repeat -a, separate them with commas or put them after --`);
  }
  return args;
}

export const collect = <T>(parse: (v: string) => T | T[]) => (value: string, previous: T[] = []): T[] => previous.concat(parse(value));

export function parseCount(value: string, what: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${what}: '${value}' is not a non-negative integer`);
  return n;
}
