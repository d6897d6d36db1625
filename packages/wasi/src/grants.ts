/**
 * What a WASI state asks of the host it is restored on — preopened directories (by guest
 * name) and listening sockets — against what the restoring user granted. A state never
 * decides this itself: WASI.restore refuses, before opening anything, a state that asks
 * for more; the CLI prints what a snapshot asks for.
 */
import type { WasiState } from './wasi';

export interface GrantsAsked {
  /** Guest names of the preopens the state's fds live under, in fd order, each once. */
  preopens: string[];
  /** The state's listening sockets, in fd order (matched in order with the user's `listen`). */
  listeners: Array<{ fd: number; had: string | null }>;
}

export function grantsAsked(state: WasiState): GrantsAsked {
  const preopens: string[] = [];
  const listeners: GrantsAsked['listeners'] = [];
  for (const s of state.fds) {
    if (s.preopen !== undefined && !preopens.includes(s.preopen)) preopens.push(s.preopen);
    if (s.kind === 'listener') listeners.push({ fd: s.fd, had: s.listen ? `${s.listen.host}:${s.listen.port}` : null });
  }
  return { preopens, listeners };
}

const listenerText = (l: GrantsAsked['listeners'][number]) => `a listening socket (fd ${l.fd}${l.had ? `, it had ${l.had}` : ''})`;

/** One line: "preopens '/data', '/tmp' and a listening socket (fd 5, it had 0.0.0.0:80)". */
export function describeGrants(asked: GrantsAsked): string {
  const parts = [...(asked.preopens.length > 0 ? [`${asked.preopens.length === 1 ? 'preopen' : 'preopens'} ${asked.preopens.map((p) => `'${p}'`).join(', ')}`] : []), ...asked.listeners.map(listenerText)];
  return parts.length === 0 ? 'no preopens and no listeners' : parts.join(' and ');
}

/** What the state asks for beyond `preopens` (by guest name) and `listen` (by count), as one line, or null. */
export function ungranted(asked: GrantsAsked, preopens: Record<string, string>, listen: readonly unknown[]): string | null {
  const missing: GrantsAsked = {
    preopens: asked.preopens.filter((p) => !Object.prototype.hasOwnProperty.call(preopens, p)),
    listeners: asked.listeners.slice(listen.length),
  };
  if (missing.preopens.length === 0 && missing.listeners.length === 0) return null;
  return `the snapshot asks for ${describeGrants(missing)}, not granted on this host (options.preopens / options.listen; mvvm restore --dir HOST::GUEST / --listen HOST:PORT)`;
}
