/**
 * The source side of a migration: offer the program, pre-copy memory while it keeps
 * running, pause, send the rest, and hand over in two phases (see README: the guarantee).
 */
import { gatewayOf } from './gateway-host';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { encodeSnapshot, isZeroPage, prepareCodec, sha256 } from '@mvvm/snapshot';
import { WasiExit } from '@mvvm/wasi';
import type { WASI, WasiThreads } from '@mvvm/wasi';
import {
  AuthError,
  Channel,
  ConnectionLostError,
  FrameType,
  MigrationError,
  PAGES_PER_FRAME,
  ProtocolError,
  RefusedError,
  decodeMessage,
  decodeOutput,
  encodeFile,
  encodeFrame,
  encodeMessage,
  encodePages,
  handshakeAsSource,
  toHex,
} from './protocol';
import { Address, TlsFiles, connectChannel, describe, nodeCrypto, parseAddress } from './net';

export interface FollowSink {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
}

export interface MigrateOptions {
  /** The machine, or a threaded program's main thread (with `threads`). */
  machine: Machine;
  /** A wasi-threads program: all its threads move (the shared memory is pre-copied as one memory). */
  threads?: WasiThreads | null;
  /** The program's WASI instance (null for a module without WASI imports). */
  wasi: WASI | null;
  /** The module's bytes (its SHA-256 names it to the target). */
  module: Uint8Array;
  /** Where to: `HOST:PORT` or an Address. */
  to: string | Address;
  /** The shared secret (loadToken()); null only for an --insecure loopback migration. */
  token: Uint8Array | null;
  /** Pre-copy memory while the program runs (default true); false: stop-and-copy. */
  precopy?: boolean;
  /**
   * Run the program during the pre-copy (default true). False: it stays paused from the
   * call on (one pre-copy round; the move then happens at an exact instruction).
   */
  keepRunning?: boolean;
  /** Stop pre-copying after this many rounds (default 30). */
  maxRounds?: number;
  /** Stop pre-copying once a round leaves at most this many dirty pages (default 16). */
  stopPages?: number;
  tls?: TlsFiles;
  /** Guest preopen names whose files travel with the program. */
  shipDirs?: string[];
  /** Stream the program's output back here after the hand-over; the result's `exitCode` then resolves to its exit code. */
  follow?: FollowSink;
  /** A name for logs (the module's file name). */
  program?: string;
  /** Progress while it runs (rounds, bytes). */
  onProgress?: (p: { phase: 'precopy' | 'paused'; round: number; bytes: number }) => void;
  /** Called with every instruction slice run during pre-copy (tests, benches). */
  onSlice?: (m: Machine) => void;
  /** How long to wait for the target's answers (default 30 s). */
  timeoutMs?: number;
}

export interface MigrationStats {
  rounds: number;
  /** Bytes sent to the target. */
  bytes: number;
  /** Pages sent, over all rounds. */
  pages: number;
  totalMs: number;
  /** From the pause on the source to the target's commit acknowledgement (the target starts right after sending it). */
  downtimeMs: number;
}

export type MigrationResult =
  | (MigrationStats & {
      outcome: 'committed';
      /** With `follow`: the program's exit code on its last host. */
      exitCode?: Promise<number>;
    })
  /** Not moved: the program is still here, paused, and may go on (`reason` says why). */
  | (MigrationStats & { outcome: 'failed'; reason: string; error: Error })
  /** The program ended on the source during pre-copy: nothing moved. */
  | (MigrationStats & { outcome: 'ended'; code: number })
  /**
   * The commit was sent but its acknowledgement never came and the target could not be
   * asked: the program may be running there. It must not go on here (it could run twice);
   * the caller keeps the state (e.g. writes a snapshot) for a person to decide.
   */
  | (MigrationStats & { outcome: 'in-doubt'; reason: string });

const SLICE = 200_000;
const now = () => performance.now();
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs the program between sends of the pre-copy; remembers an exit or a trap. */
class Runner {
  blocked = false;
  ended: number | null = null;
  constructor(
    private readonly m: Machine,
    private readonly onSlice: ((m: Machine) => void) | undefined,
    private readonly enabled: boolean,
    private readonly threads: WasiThreads | null = null,
  ) {}

  /** One slice of a threaded program: every thread, round-robin. */
  private stepThreads(p: WasiThreads): void {
    const { outcome, until } = p.step(SLICE);
    this.onSlice?.(this.m);
    if (outcome !== null) {
      if ('trap' in outcome) throw outcome.trap;
      this.ended = outcome.exitCode;
    } else if (until) {
      this.blocked = true;
      const clear = () => (this.blocked = false);
      Promise.resolve(until).then(clear, clear);
    }
  }

  /** Runs for about `ms` milliseconds (or until the program blocks or ends). */
  run(ms: number): void {
    if (!this.enabled || this.blocked || this.ended !== null) return;
    const until = now() + ms;
    if (this.threads) {
      do this.stepThreads(this.threads);
      while (now() < until && !this.blocked && this.ended === null);
      return;
    }
    do {
      let r;
      try {
        r = this.m.step(SLICE);
      } catch (e) {
        if (e instanceof WasiExit) {
          this.ended = e.code;
          return;
        }
        throw e;
      }
      this.onSlice?.(this.m);
      if (r.done) {
        this.ended = 0;
        return;
      }
      if (r.suspended) {
        this.blocked = true;
        const clear = () => (this.blocked = false);
        Promise.resolve(r.until).then(clear, clear);
        return;
      }
    } while (now() < until);
  }
}

/** Every file and directory under a preopen, relative paths (symlinks are refused: they may point anywhere). */
function walk(root: string, rel = ''): Array<{ path: string; kind: 'file' | 'dir' }> {
  const out: Array<{ path: string; kind: 'file' | 'dir' }> = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, path));
    if (st.isDirectory()) out.push({ path, kind: 'dir' }, ...walk(root, path));
    else if (st.isFile()) out.push({ path, kind: 'file' });
    else throw new MigrationError(`--ship-dir: ${join(root, path)} is neither a file nor a directory`);
  }
  return out;
}

function preopenHostDir(wasi: WASI, guest: string): string {
  for (const e of wasi.fds.entries.values()) if (e.kind === 'preopen' && e.preopen === guest && e.root !== undefined) return e.root;
  throw new MigrationError(`--ship-dir ${guest}: the program has no preopen of that name`);
}

/**
 * Moves a running program to another host. The program runs on during the pre-copy
 * (this function steps it between sends) and is paused for the rest. On 'committed' it
 * runs on the target and must not run here again; on 'failed' it is intact here.
 */
export async function migrateMachine(o: MigrateOptions): Promise<MigrationResult> {
  const t0 = now();
  const to = typeof o.to === 'string' ? parseAddress(o.to) : o.to;
  const m = o.machine;
  const mem = m.memory;
  const timeout = o.timeoutMs ?? 30_000;
  const stats: MigrationStats = { rounds: 0, bytes: 0, pages: 0, totalMs: 0, downtimeMs: 0 };
  let tPause = 0;
  let ch: Channel | null = null;
  const finish = () => {
    stats.totalMs = now() - t0;
    if (ch) stats.bytes = ch.sent;
    return stats;
  };
  const runner = new Runner(m, o.onSlice, o.keepRunning !== false, o.threads ?? null);
  const id = toHex(nodeCrypto.randomBytes(16));
  let commitSent = false;
  try {
    if (m.store.memories.length > 1) throw new MigrationError('a module with more than one memory cannot migrate yet');
    const moduleHash = await sha256(o.module);
    await prepareCodec(); // not during the pause
    ch = await connectChannel(to, o.tls);
    await handshakeAsSource(ch, { secret: o.token, crypto: nodeCrypto, timeoutMs: timeout });
    const shipDirs = o.shipDirs ?? [];
    if (shipDirs.length > 0 && !o.wasi) throw new MigrationError('--ship-dir needs a WASI program');
    const shipRoots = shipDirs.map((g) => preopenHostDir(o.wasi!, g));
    ch.send(
      encodeMessage(FrameType.Offer, {
        id,
        moduleHash: toHex(moduleHash),
        moduleSize: o.module.length,
        program: o.program ?? 'program.wasm',
        follow: o.follow !== undefined,
        precopy: o.precopy !== false,
        memories: mem ? [{ pages: mem.pages, max: mem.max ?? null }] : [],
        shipDirs,
        wasi: o.wasi !== null,
      }),
    );
    const want = decodeMessage(await ch.next(timeout), FrameType.ModuleWant);
    if (want.send) ch.send(encodeFrame(FrameType.Module, o.module));

    // Pre-copy: every non-zero page, then in rounds the pages written meanwhile.
    const sendPages = async (pages: ArrayLike<number>, live: boolean) => {
      for (let i = 0; i < pages.length; i += PAGES_PER_FRAME) {
        while (ch!.congested && !ch!.isClosed) {
          if (live) runner.run(2);
          await (live && !runner.blocked && runner.ended === null ? tick() : ch!.drained());
        }
        ch!.send(encodePages(0, mem!.pages, mem!.u8, pages, i, Math.min(i + PAGES_PER_FRAME, pages.length)));
        if (live) {
          await tick();
          runner.run(1);
        }
      }
      stats.pages += pages.length;
    };
    const nonZero = () => {
      const out: number[] = [];
      for (let p = 0; p < mem!.pages; p++) if (!isZeroPage(mem!.u8, p)) out.push(p);
      return out;
    };
    if (mem && o.precopy !== false) {
      const maxRounds = o.maxRounds ?? 30;
      const stop = o.stopPages ?? 16;
      mem.clearDirty();
      let pages = nonZero();
      let previous = Infinity;
      for (;;) {
        await sendPages(pages, true);
        stats.rounds++;
        ch.send(encodeMessage(FrameType.Round, { round: stats.rounds, pages: pages.length }));
        // The target echoes the Round once it has taken the pages in: until then the program
        // runs on (what it writes meanwhile goes in the next round, not into the pause).
        const echo = ch.next(timeout);
        let echoed = false;
        echo.then(() => (echoed = true), () => (echoed = true));
        while (!echoed && runner.ended === null) {
          runner.run(1);
          await tick();
        }
        if (decodeMessage(await echo, FrameType.Round).round !== stats.rounds) throw new ProtocolError('the target acknowledged another round');
        o.onProgress?.({ phase: 'precopy', round: stats.rounds, bytes: ch.sent });
        if (runner.ended !== null) break;
        const dirty = mem.dirtyPages();
        // Converged, not converging (the program writes as fast as we send), or enough rounds.
        if (dirty.length <= stop || stats.rounds >= maxRounds || (stats.rounds >= 3 && dirty.length >= previous)) break;
        previous = dirty.length;
        mem.clearDirty();
        pages = dirty;
      }
    }
    if (runner.ended !== null) {
      ch.send(encodeMessage(FrameType.Abort, { reason: 'the program ended on the source during the transfer' }));
      ch.close();
      return { ...finish(), outcome: 'ended', code: runner.ended };
    }

    // Paused from here: the rest of memory, the files, the machine and WASI states.
    tPause = now();
    ch.send(encodeMessage(FrameType.Paused, { rounds: stats.rounds }));
    o.onProgress?.({ phase: 'paused', round: stats.rounds, bytes: ch.sent });
    if (mem) await sendPages(o.precopy !== false ? mem.dirtyPages() : nonZero(), false);
    for (let i = 0; i < shipDirs.length; i++) {
      for (const f of walk(shipRoots[i])) {
        const contents = f.kind === 'file' ? new Uint8Array(readFileSync(join(shipRoots[i], f.path))) : new Uint8Array(0);
        ch.send(encodeFile({ dir: shipDirs[i], path: f.path, kind: f.kind, sha256: toHex(await sha256(contents)) }, contents));
        await ch.drained();
      }
    }
    ch.send(encodeFrame(FrameType.State, await encodeState(o.threads ?? m, o.wasi, moduleHash)));
    const ready = await ch.next(timeout);
    if (ready.type === FrameType.Refuse) throw new RefusedError(`${describe(to)} refused the program: ${decodeMessage(ready, FrameType.Refuse).reason}`);
    if (decodeMessage(ready, FrameType.Ready).id !== id) throw new ProtocolError('the target is ready for another migration');

    // Phase two. From the moment Commit is written, only the target's word decides.
    commitSent = true;
    ch.send(encodeMessage(FrameType.Commit, { id }));
    let committed = false;
    try {
      committed = decodeMessage(await ch.next(timeout), FrameType.Committed).id === id;
    } catch {
      committed = false;
    }
    if (!committed) {
      ch.destroy();
      const answer = await askOutcome(to, id, o, timeout);
      stats.downtimeMs = now() - tPause;
      if (answer === 'aborted') {
        if (mem) mem.dirty.fill(1, 0, mem.pages);
        return { ...finish(), outcome: 'failed', reason: `the connection to ${describe(to)} was lost around the commit and the target says it did not take the program`, error: new ConnectionLostError('lost around the commit') };
      }
      if (answer === 'committed') {
        gatewayOf(o.wasi)?.moved();
        return { ...finish(), outcome: 'committed', exitCode: o.follow ? Promise.reject(new ConnectionLostError(`the program runs on ${describe(to)}, its output cannot be followed (the connection was lost)`)) : undefined };
      }
      return { ...finish(), outcome: 'in-doubt', reason: `the commit was sent to ${describe(to)} but not acknowledged, and the target cannot be asked (${answer})` };
    }
    stats.downtimeMs = now() - tPause;
    gatewayOf(o.wasi)?.moved(); // its relayed connections go on at the target: nothing here closes them
    const result = { ...finish(), outcome: 'committed' as const, exitCode: o.follow ? follow(ch, o.follow) : undefined };
    if (!o.follow) ch.close();
    return result;
  } catch (e) {
    ch?.destroy();
    if (commitSent) throw e; // not reached: the commit path returns above
    if (mem) mem.dirty.fill(1, 0, mem.pages); // whatever was sent is void: every page counts as written again
    const error = e instanceof Error ? e : new Error(String(e));
    if (!(e instanceof MigrationError) && !isOurs(e)) throw e; // a trap of the program, a bug: not a migration failure
    if (tPause > 0) stats.downtimeMs = now() - tPause;
    return { ...finish(), outcome: 'failed', reason: error.message, error };
  }
}

const isOurs = (e: unknown) => e instanceof Error && ['SnapshotError', 'ConnectionLostError'].includes(e.name);

/**
 * The machine (without memory contents: those went as pages) and the WASI state, as a
 * snapshot-format body; a threaded program's whole group (format version 3).
 */
async function encodeState(m: Machine | WasiThreads, wasi: WASI | null, moduleHash: Uint8Array): Promise<Uint8Array> {
  // The pages went already (no dirty page is listed): the state shares memory rather than copy it.
  const threaded = !(m instanceof Machine);
  const mems = (threaded ? m.main : m).store.memories;
  const content = threaded ? { group: m.snapshot() } : { state: m.snapshot({ shareMemory: true }) };
  const encoded = await encodeSnapshot({ ...content, wasi: wasi?.state() ?? null, meta: {} }, { moduleHash, base: { id: PRECOPIED, dirty: mems.map(() => []) } });
  return encoded.bytes;
}

/** The 'base' of the state's snapshot body: the pages pre-copied before it (not a snapshot id). */
const PRECOPIED = new Uint8Array(32).fill(0x50);

/** Streams the target's Output frames to `sink` until its Exit. */
async function follow(ch: Channel, sink: FollowSink): Promise<number> {
  try {
    for (;;) {
      const f = await ch.next();
      if (f.type === FrameType.Output) {
        const { fd, bytes } = decodeOutput(f.payload);
        (fd === 1 ? sink.stdout : sink.stderr)(bytes);
      } else if (f.type === FrameType.Exit) {
        return decodeMessage(f, FrameType.Exit).code;
      } else throw new ProtocolError(`unexpected ${FrameType[f.type]} frame while following the output`);
    }
  } finally {
    ch.close();
  }
}

/** Asks the target what became of migration `id` (a few attempts over ~10 s). */
async function askOutcome(to: Address, id: string, o: MigrateOptions, timeout: number): Promise<'committed' | 'aborted' | string> {
  let last = 'no answer';
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 500 * attempt));
    let ch: Channel | null = null;
    try {
      ch = await connectChannel(to, o.tls, 3000);
      await handshakeAsSource(ch, { secret: o.token, crypto: nodeCrypto, timeoutMs: Math.min(timeout, 5000) });
      ch.send(encodeMessage(FrameType.Query, { id }));
      const s = decodeMessage(await ch.next(5000), FrameType.Status);
      if (s.id !== id) throw new ProtocolError('status of another migration');
      if (s.outcome !== 'unknown') return s.outcome;
      return 'the target does not know the migration (was it restarted?)';
    } catch (e) {
      last = (e as Error).message;
      if (e instanceof AuthError) return last;
    } finally {
      ch?.destroy();
    }
  }
  return last;
}
