/**
 * The target side: receive a program, validate everything and build the restored machine
 * before saying Ready; start it only once the source's Commit arrives. Before that, any
 * failure discards what was received and tells the source why.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Imports, Machine, entityTypes } from '@mvvm/interpreter';
import { PAGE, ResolvedSnapshot, applyStoredMemory, decodeSnapshot, prepareCodec, restoreGroup, snapshotBounds, restoreMachine, sameBytes, sha256 } from '@mvvm/snapshot';
import { WASI, WasiThreads, checkState, grantsAsked, nodeHost } from '@mvvm/wasi/node';
import { GatewayClientOptions, GatewayHost } from './gateway-host';
import {
  Channel,
  FrameType,
  Message,
  MigrationError,
  ProtocolError,
  RefusedError,
  decodeFile,
  decodeMessage,
  decodePages,
  encodeMessage,
  encodeOutput,
  fromHex,
  handshakeAsTarget,
  toHex,
  unexpected,
} from './protocol';
import { nodeCrypto } from './net';

/** A program received and committed: it is this host's to run now. */
export interface ReceivedProgram {
  id: string;
  /** Where it came from (address of the source). */
  from: string;
  program: string;
  module: Uint8Array;
  moduleHash: Uint8Array;
  /** The machine, or a threaded program's main thread. */
  machine: Machine;
  /** A wasi-threads program: every thread (the machine above is its thread 0). */
  threads: WasiThreads | null;
  wasi: WASI | null;
  /** Guest preopen -> host directory on this host (--dir grants and shipped directories). */
  preopens: Record<string, string>;
  /** With --follow on the source: the program's output goes back there; pass it on when forwarding the program again. */
  follow: { stdout(chunk: Uint8Array): void; stderr(chunk: Uint8Array): void } | null;
  stats: { rounds: number; bytes: number; pages: number; files: number; /** From the source's pause to the start here (measured on this host). */ downtimeMs: number };
  /** The gateway relay of its sockets (with ReceiveOptions.gateway and a program that listens). */
  gateway: GatewayHost | null;
  /** Call once the program ended here (with --follow, its exit code goes back to the source). */
  finished(code: number): void;
}

export interface ReceiveOptions {
  /** Accept wasi-threads programs (a thread group; default true). A host that runs single machines (the scheduler) says false: they are refused before Ready. */
  threads?: boolean;
  /** The shared secret; null only for --insecure on loopback (checked by the server). */
  token: Uint8Array | null;
  /** Guest preopen name -> host directory on this host (the target's own --dir grants). */
  dirs: Record<string, string>;
  /** A directory of modules by SHA-256 (`<hex>.wasm`): used instead of asking for the bytes; received modules are added. */
  moduleCache?: string;
  /** Where shipped directories are written (a fresh directory each), default the OS temp dir. */
  shipRoot?: string;
  /** Largest memory accepted, in 64 KiB pages (default 65536: 4 GiB). */
  maxPages?: number;
  /**
   * `mvvm gateway` fronting the programs received: their listening sockets are granted as
   * relayed by it, and their relayed connections re-attached there at the commit.
   */
  gateway?: Omit<GatewayClientOptions, 'program'>;
  timeoutMs?: number;
}

type Outcome = 'receiving' | 'pending' | 'committed' | 'aborted';

/** What became of each migration id (answers a source's Query after a lost acknowledgement). */
export class OutcomeTable {
  private readonly outcomes = new Map<string, { outcome: Outcome; abort?: () => void }>();
  get(id: string): Outcome | undefined {
    return this.outcomes.get(id)?.outcome;
  }
  set(id: string, outcome: Outcome, abort?: () => void): void {
    this.outcomes.set(id, { outcome, abort });
    if (this.outcomes.size > 10_000) this.outcomes.delete(this.outcomes.keys().next().value!);
  }
  /** A source asks: a migration still waiting for its Commit is aborted now (its source has given up on that connection). */
  decide(id: string): 'committed' | 'aborted' | 'unknown' {
    const e = this.outcomes.get(id);
    if (!e) return 'unknown';
    if (e.outcome === 'receiving' || e.outcome === 'pending') {
      e.abort?.();
      this.set(id, 'aborted');
      return 'aborted';
    }
    return e.outcome === 'committed' ? 'committed' : 'aborted';
  }
}

const now = () => performance.now();
const OUTPUT_CHUNK = 1 << 20;

/**
 * Handles one connection: a Query (answered from `table`) or a migration. Resolves to
 * the received program once committed, or null (a query, or a refused migration: the
 * reason is in the error given to `onRefused`).
 */
export async function receiveProgram(ch: Channel, o: ReceiveOptions, table: OutcomeTable, onRefused?: (e: Error, program: string) => void): Promise<ReceivedProgram | null> {
  const timeout = o.timeoutMs ?? 30_000;
  let program = '?';
  let id: string | null = null;
  let wasi: WASI | null = null;
  let gateway: GatewayHost | null = null;
  const shipped: string[] = [];
  try {
    await handshakeAsTarget(ch, { secret: o.token, crypto: nodeCrypto, timeoutMs: timeout });
    const first = await ch.next(timeout);
    if (first.type === FrameType.Query) {
      const q = decodeMessage(first, FrameType.Query);
      ch.send(encodeMessage(FrameType.Status, { id: q.id, outcome: table.decide(q.id) }));
      ch.close();
      return null;
    }
    const offer = decodeMessage(first, FrameType.Offer);
    program = offer.program;
    if (table.get(offer.id) !== undefined) throw new ProtocolError('a migration id seen before');
    id = offer.id;
    table.set(id, 'receiving', () => ch.destroy());
    const module = await obtainModule(ch, offer, o, timeout);
    await prepareCodec(); // not during the source's pause
    const bounds = await snapshotBounds(module); // what the state may hold for this module
    const compiled = Machine.compile(module);
    const declared = entityTypes(compiled.module).memories; // imported ones too: a wasi-threads program imports its shared memory
    const bound = Math.min(o.maxPages ?? 65536, declared[0]?.limits.max ?? 65536);
    if (offer.memories.length !== declared.length) throw new RefusedError(`the offer has ${offer.memories.length} memories, the module ${declared.length}`);

    // Memory arrives in pages (pre-copy rounds, then the last dirty pages).
    let memory = new Uint8Array(0);
    let memPages = 0;
    let rounds = 0;
    let pages = 0;
    let files = 0;
    let tPaused = 0;
    const shipDirs: Record<string, string> = {};
    let stateBytes: Uint8Array | null = null;
    while (stateBytes === null) {
      const f = await ch.next(timeout);
      switch (f.type) {
        case FrameType.Pages: {
          const p = decodePages(f.payload);
          if (p.memIndex >= declared.length) throw new ProtocolError(`pages for memory ${p.memIndex}, the module has ${declared.length}`);
          if (p.memPages > bound) throw new RefusedError(`the memory would have ${p.memPages} pages, over this target's limit of ${bound}`);
          if (p.memPages < memPages) throw new ProtocolError('the memory shrank');
          if (p.memPages * PAGE > memory.length) {
            const grown = new Uint8Array(Math.min(bound, Math.max(p.memPages, (2 * memory.length) / PAGE)) * PAGE);
            grown.set(memory);
            memory = grown;
          }
          memPages = p.memPages;
          p.forEach((page, bytes) => {
            memory.set(bytes, page * PAGE);
            pages++;
          });
          break;
        }
        case FrameType.Round: {
          const r = decodeMessage(f, FrameType.Round);
          rounds = r.round;
          ch.send(encodeMessage(FrameType.Round, r)); // taken in: the source may pause without a backlog here
          break;
        }
        case FrameType.Paused:
          decodeMessage(f, FrameType.Paused);
          tPaused = now();
          break;
        case FrameType.File: {
          const { header, contents } = decodeFile(f.payload);
          if (!offer.shipDirs.includes(header.dir)) throw new ProtocolError(`a file for '${header.dir}', which the offer does not ship`);
          if (!safeRelative(header.path)) throw new ProtocolError(`a shipped file with an unsafe path '${header.path}'`);
          if (toHex(await sha256(contents)) !== header.sha256) throw new ProtocolError(`shipped file ${header.path}: checksum mismatch`);
          if (!shipDirs[header.dir]) {
            shipDirs[header.dir] = mkdtempSync(join(o.shipRoot ?? tmpdir(), 'mvvm-shipped-'));
            shipped.push(shipDirs[header.dir]);
          }
          const at = join(shipDirs[header.dir], ...header.path.split('/'));
          if (header.kind === 'dir') mkdirSync(at, { recursive: true });
          else writeFileSync(at, contents, { flag: 'wx' }); // parents come first in the walk order
          files++;
          break;
        }
        case FrameType.State:
          stateBytes = f.payload;
          break;
        default:
          throw unexpected(f, 'memory pages or the state');
      }
    }
    for (const d of offer.shipDirs) if (!shipDirs[d]) {
      shipDirs[d] = mkdtempSync(join(o.shipRoot ?? tmpdir(), 'mvvm-shipped-'));
      shipped.push(shipDirs[d]);
    }

    // Validate and build everything, as a snapshot restore does, before saying Ready.
    const decoded = await decodeSnapshot(stateBytes, { bounds });
    if (decoded.group && o.threads === false) throw new RefusedError('this target takes single-threaded programs only, not a wasi-threads program');
    if (!sameBytes(decoded.header.moduleHash, fromHex(offer.moduleHash))) throw new RefusedError('the state belongs to another module than the one offered');
    if (decoded.machine.memories.length !== declared.length) throw new RefusedError('the state has another memory count than the module');
    const memories = decoded.machine.memories.map((sm) => {
      if (sm.pages < memPages || sm.pages > bound) throw new RefusedError(`the state's memory size (${sm.pages} pages) does not fit the pages received`);
      const data = memory.length >= sm.pages * PAGE ? memory.subarray(0, sm.pages * PAGE) : grow(memory, sm.pages * PAGE);
      applyStoredMemory(data, sm);
      return { pages: sm.pages, max: sm.max ?? undefined, data };
    });
    const resolved: ResolvedSnapshot = {
      state: { ...decoded.machine.state, memories },
      wasi: decoded.wasi,
      meta: decoded.meta,
      moduleHash: decoded.header.moduleHash,
      id: decoded.id,
      chain: [decoded],
    };
    const followed = offer.follow ? outputTo(ch) : null;
    const preopens = { ...o.dirs, ...shipDirs };
    let imports: Imports = {};
    if (decoded.wasi !== null && decoded.wasi !== undefined) {
      if (!offer.wasi) throw new ProtocolError('a WASI state for a program offered without one');
      const state = checkState(decoded.wasi);
      const listeners = grantsAsked(state).listeners.length;
      if (o.gateway && (listeners > 0 || state.fds.some((f) => f.kind === 'socket'))) gateway = new GatewayHost(nodeHost(), { ...o.gateway, program }, false);
      // Listening sockets are granted only through the gateway (nothing binds here).
      const listen = gateway ? Array.from({ length: listeners }, () => ({ port: 0 })) : [];
      wasi = WASI.restore(state, { preopens, listen, returnOnExit: true, ...(gateway ? { host: gateway.host } : {}), ...(followed ? { stdout: followed.stdout, stderr: followed.stderr } : {}) });
      imports = wasi.getImports();
    } else if (compiled.module.imports.some((i) => i.module === 'wasi_snapshot_preview1')) {
      throw new RefusedError('the program imports WASI but no WASI state came');
    }
    let machine: Machine;
    let threads: WasiThreads | null = null;
    if (decoded.group) {
      // A wasi-threads program: all its threads, on the shared memory just received.
      if (!wasi) throw new RefusedError('a threaded program came without a WASI state');
      const w = wasi;
      threads = await restoreGroup(module, { ...resolved, group: { ...decoded.group, memories: memories.map((m) => ({ ...m, shared: true })) } }, (g) => WasiThreads.restore(module, g, w));
      machine = threads.main;
    } else {
      machine = await restoreMachine(module, resolved, imports, { adoptMemory: true }); // the buffer was built for it
    }

    ch.send(encodeMessage(FrameType.Ready, { id }));
    table.set(id, 'pending', () => ch.destroy());
    const commit = await ch.next(timeout);
    if (table.get(id) !== 'pending') throw new MigrationError('aborted by a query from the source');
    if (commit.type === FrameType.Abort) throw new RefusedError(`the source aborted: ${decodeMessage(commit, FrameType.Abort).reason}`);
    if (decodeMessage(commit, FrameType.Commit).id !== id) throw new ProtocolError('a commit for another migration');
    table.set(id, 'committed');
    ch.send(encodeMessage(FrameType.Committed, { id }));
    gateway?.activate(); // from now on its connections go on here
    if (!offer.follow) ch.close();
    let done = false;
    return {
      id,
      from: ch.peer,
      program,
      module,
      moduleHash: decoded.header.moduleHash,
      machine,
      threads,
      wasi,
      preopens,
      follow: followed,
      stats: { rounds, bytes: ch.received, pages, files, downtimeMs: tPaused > 0 ? now() - tPaused : 0 },
      gateway,
      finished(code) {
        if (done) return;
        done = true;
        gateway?.close();
        if (!offer.follow) return;
        try {
          ch.send(encodeMessage(FrameType.Exit, { code }));
          ch.close();
        } catch {
          /* the source went away: nothing to tell */
        }
      },
    };
  } catch (e) {
    if (id !== null && table.get(id) !== 'committed') table.set(id, 'aborted');
    wasi?.close();
    gateway?.close();
    for (const d of shipped) rmSync(d, { recursive: true, force: true });
    const error = e instanceof Error ? e : new Error(String(e));
    try {
      if (!ch.isClosed) ch.send(encodeMessage(FrameType.Refuse, { reason: error.message }));
    } catch {
      /* gone */
    }
    ch.close();
    onRefused?.(error, program);
    return null;
  }
}

function grow(memory: Uint8Array, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(memory.subarray(0, Math.min(memory.length, bytes)));
  return out;
}

function safeRelative(path: string): boolean {
  return path.length > 0 && !path.startsWith('/') && !path.includes('\0') && !path.includes('\\') && path.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

/** The program's stdout and stderr as Output frames to the source. */
function outputTo(ch: Channel): { stdout(chunk: Uint8Array): void; stderr(chunk: Uint8Array): void } {
  const send = (fd: 1 | 2) => (chunk: Uint8Array) => {
    if (ch.isClosed) return;
    for (let at = 0; at < chunk.length; at += OUTPUT_CHUNK) {
      try {
        ch.send(encodeOutput(fd, chunk.subarray(at, at + OUTPUT_CHUNK)));
      } catch {
        return; // the source went away: the program goes on
      }
    }
  };
  return { stdout: send(1), stderr: send(2) };
}

/** The module: from the cache when it holds one with this SHA-256, else asked for and checked. */
async function obtainModule(ch: Channel, offer: Message<FrameType.Offer>, o: ReceiveOptions, timeout: number): Promise<Uint8Array> {
  const cached = o.moduleCache ? join(o.moduleCache, `${offer.moduleHash}.wasm`) : null;
  if (cached && existsSync(cached)) {
    const bytes = new Uint8Array(readFileSync(cached));
    if (toHex(await sha256(bytes)) === offer.moduleHash) {
      ch.send(encodeMessage(FrameType.ModuleWant, { send: false }));
      return bytes;
    }
  }
  ch.send(encodeMessage(FrameType.ModuleWant, { send: true }));
  const f = await ch.next(timeout);
  if (f.type !== FrameType.Module) throw unexpected(f, 'the module');
  const bytes = f.payload.slice();
  if (toHex(await sha256(bytes)) !== offer.moduleHash) throw new RefusedError('the module bytes do not match the SHA-256 offered');
  if (cached) {
    Machine.compile(bytes); // only valid modules enter the cache
    mkdirSync(o.moduleCache!, { recursive: true });
    const temp = `${cached}.${process.pid}.tmp`;
    writeFileSync(temp, bytes);
    renameSync(temp, cached);
  }
  return bytes;
}

