/**
 * The `wasi` section of `npm run bench`: bench/wasi/fileio.wasm (a file-I/O-heavy WASI
 * program, see fileio.c) run in the same process
 *   - ours:       @mvvm/wasi's Node host (`WASI` from packages/wasi/src/node) + our Machine,
 *   - node:wasi:  Node's own WASI on V8's WebAssembly,
 *   - ours, with the replay log's `record` made a no-op on that run's log (A/B),
 * each on a fresh `fs.mkdtemp` directory preopened as /sandbox. Times are medians of
 * `reps` runs of `start()` (module compilation/instantiation excluded for both), after one
 * untimed warm-up run per engine that also counts the WASI calls (imports wrapped).
 *
 * The log's cost per call is measured directly too: the events one run recorded are
 * replayed into a fresh ReplayLog in a tight loop (ns per `record`), times the events a run
 * records, as ns per WASI call and as % of our run. The A/B difference is reported as well,
 * but it is within run-to-run noise.
 *
 * stdout (the checksum line) and the directory tree left behind must be identical for
 * every run of every engine; otherwise `ok` is false and the caller fails loudly.
 */
import { createHash } from 'crypto';
import { readTree as readTreeWith } from '../../packages/wasi/test/helpers';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HostFunction, Machine } from '@mvvm/interpreter';
import { ReplayLog, WASI } from '@mvvm/wasi/node';
import type { LogEvent } from '@mvvm/wasi/node';

export const WASI_PROGRAM = 'fileio';
export const WASI_DEFAULT_ROUNDS = 10;

export interface WasiBenchOptions {
  reps: number;
  rounds: number;
  /** Progress output (one line per phase). */
  progress?: (line: string) => void;
}

export interface WasiBenchResult {
  program: string;
  rounds: number;
  reps: number;
  /** The program's stdout under node:wasi (the checksum line). */
  stdout: string;
  checksum: string;
  /** WASI calls per run (our imports wrapped and counted), and per function. */
  wasiCalls: number;
  wasiCallsByName: Record<string, number>;
  /** The same count under node:wasi (its imports wrapped). */
  nodeWasiCalls: number;
  oursMs: number;
  nodeWasiMs: number;
  oursOverNodeWasi: number;
  /** Ours with ReplayLog.record a no-op on that run's log. */
  oursNoLogMs: number;
  /** Events recorded into the replay log per run. */
  logEvents: number;
  /** Tight-loop cost of one ReplayLog.record, replaying the events of a real run. */
  logNsPerEvent: number;
  /** logEvents * logNsPerEvent / wasiCalls. */
  logNsPerWasiCall: number;
  /** logEvents * logNsPerEvent as % of oursMs. */
  logPercentOfRun: number;
  /** (oursMs - oursNoLogMs) as % of oursMs: the A/B figure, noisy. */
  abPercentOfRun: number;
  stdoutAgrees: boolean;
  treesAgree: boolean;
  ok: boolean;
  problems: string[];
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6; // ms
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The directory tree with each file as its size and sha1 (the wasi tests' readTree). */
const readTree = (dir: string): Record<string, string> =>
  readTreeWith(dir, (b) => `${b.length} ${createHash('sha1').update(b).digest('hex')}`);

function treeDiff(a: Record<string, string>, b: Record<string, string>): string | undefined {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const bad = keys.filter((k) => a[k] !== b[k]);
  if (bad.length === 0) return undefined;
  return `${bad.length} entries differ, e.g. ` + bad.slice(0, 3).map((k) => `${k}: ${a[k] ?? '(missing)'} vs ${b[k] ?? '(missing)'}`).join('; ');
}

interface RunOutcome {
  ms: number;
  stdout: string;
  code: number;
  tree: Record<string, string>;
}

const mkdir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'mvvm-bench-wasi-'));

/** One run of ours. `count` wraps the imports; `noLog` makes record a no-op; `events` captures them. */
async function runOurs(
  bytes: Uint8Array,
  args: string[],
  opts: { count?: Record<string, number>; noLog?: boolean; events?: LogEvent[] } = {},
): Promise<RunOutcome & { logEvents: number }> {
  const dir = mkdir();
  try {
    const chunks: Buffer[] = [];
    const wasi = new WASI({
      args,
      env: {},
      preopens: { '/sandbox': dir },
      stdin: '',
      stdout: (c) => chunks.push(Buffer.from(c)),
      stderr: (c) => process.stderr.write(c),
    });
    let imports = wasi.getImports();
    if (opts.count) {
      const counts = opts.count;
      const ns: Record<string, HostFunction> = {};
      for (const [name, h] of Object.entries(imports.wasi_snapshot_preview1)) {
        ns[name] = new HostFunction(h.type, (a, ctx) => {
          counts[name] = (counts[name] ?? 0) + 1;
          return h.fn(a, ctx);
        }, h.name);
      }
      imports = { wasi_snapshot_preview1: ns };
    }
    const log = wasi.log;
    const before = log.count;
    if (opts.noLog) log.record = (): void => {};
    if (opts.events) {
      const events = opts.events;
      const original = log.record.bind(log);
      log.record = (e: LogEvent): void => {
        events.push(e);
        original(e);
      };
    }
    const machine = await Machine.instantiate(bytes, imports);
    const t0 = now();
    const code = await wasi.start(machine);
    const ms = now() - t0;
    wasi.close();
    return { ms, code, stdout: Buffer.concat(chunks).toString('utf8'), tree: readTree(dir), logEvents: log.count - before };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One run under node:wasi (stdout through a file: node:wasi needs a host fd). */
async function runNodeWasi(module: WebAssembly.Module, args: string[], count?: Record<string, number>): Promise<RunOutcome> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { WASI: NodeWASI } = require('node:wasi') as typeof import('node:wasi');
  const dir = mkdir();
  const io = mkdir();
  const outPath = path.join(io, 'stdout');
  const fout = fs.openSync(outPath, 'w');
  try {
    const wasi = new NodeWASI({ version: 'preview1', args, env: {}, preopens: { '/sandbox': dir }, returnOnExit: true, stdout: fout, stderr: 2 });
    const imports = wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, (...a: unknown[]) => unknown> };
    if (count) {
      const ns = imports.wasi_snapshot_preview1;
      for (const [name, f] of Object.entries(ns)) {
        ns[name] = (...a: unknown[]) => {
          count[name] = (count[name] ?? 0) + 1;
          return f(...a);
        };
      }
    }
    const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
    const t0 = now();
    const code = wasi.start(instance) ?? 0;
    const ms = now() - t0;
    fs.closeSync(fout);
    return { ms, code, stdout: fs.readFileSync(outPath, 'utf8'), tree: readTree(dir) };
  } finally {
    try {
      fs.closeSync(fout);
    } catch {
      // already closed
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(io, { recursive: true, force: true });
  }
}

/**
 * ns per ReplayLog.record, replaying a real run's events into a fresh log. Offset events
 * (nearly all of them) are allocated in the loop as FdTable.setOffset does, so the figure
 * includes building the event object, not just the array write.
 */
function timeRecord(events: LogEvent[]): number {
  const samples: number[] = [];
  let sink = 0;
  for (let i = 0; i < 7; i++) {
    const log = new ReplayLog();
    const t0 = now();
    for (let j = 0; j < events.length; j++) {
      const e = events[j];
      log.record(e.op === 'offset' ? { op: 'offset', fd: e.fd, offset: e.offset } : e);
    }
    samples.push(((now() - t0) * 1e6) / events.length);
    sink += log.count;
  }
  if (sink !== 7 * events.length) throw new Error('record loop miscounted');
  return median(samples.slice(2)); // the first two warm the JIT
}

export async function runWasiBench(o: WasiBenchOptions): Promise<WasiBenchResult> {
  const say = o.progress ?? ((): void => {});
  const bytes = new Uint8Array(fs.readFileSync(path.join(__dirname, `${WASI_PROGRAM}.wasm`)));
  const module = await WebAssembly.compile(bytes);
  const args = [WASI_PROGRAM, String(o.rounds)];
  const problems: string[] = [];

  // Warm-up runs (untimed) that count calls, and capture our log's events.
  const oursCounts: Record<string, number> = {};
  const nodeCounts: Record<string, number> = {};
  const events: LogEvent[] = [];
  const ref = await runNodeWasi(module, args, nodeCounts);
  const warm = await runOurs(bytes, args, { count: oursCounts, events });
  const wasiCalls = Object.values(oursCounts).reduce((a, b) => a + b, 0);
  const nodeWasiCalls = Object.values(nodeCounts).reduce((a, b) => a + b, 0);
  say(`warm-up: ${wasiCalls} WASI calls (node:wasi: ${nodeWasiCalls}), ${warm.logEvents} log events, ours ${warm.ms.toFixed(0)} ms, node:wasi ${ref.ms.toFixed(0)} ms`);

  const all: Array<{ engine: string; r: RunOutcome }> = [
    { engine: 'ours (warm-up)', r: warm },
  ];
  const ours: number[] = [], noLog: number[] = [], node: number[] = [];
  for (let i = 0; i < o.reps; i++) {
    // Interleaved, so that drift (page cache, GC, thermal) hits every engine alike; the
    // with/without-log order alternates.
    const first = await runOurs(bytes, args, { noLog: i % 2 === 1 });
    const second = await runOurs(bytes, args, { noLog: i % 2 === 0 });
    const [a, b] = i % 2 === 0 ? [first, second] : [second, first];
    const c = await runNodeWasi(module, args);
    ours.push(a.ms);
    noLog.push(b.ms);
    node.push(c.ms);
    all.push({ engine: 'ours', r: a }, { engine: 'ours (no log)', r: b }, { engine: 'node:wasi', r: c });
    say(`run ${i + 1}/${o.reps}: ours ${a.ms.toFixed(0)} ms, ours without log ${b.ms.toFixed(0)} ms, node:wasi ${c.ms.toFixed(1)} ms`);
  }

  if (ref.code !== 0) problems.push(`node:wasi exit code ${ref.code}`);
  let stdoutAgrees = true, treesAgree = true;
  for (const { engine, r } of all) {
    if (r.code !== ref.code) problems.push(`${engine}: exit code ${r.code}, node:wasi ${ref.code}`);
    if (r.stdout !== ref.stdout) {
      stdoutAgrees = false;
      problems.push(`${engine}: stdout ${JSON.stringify(r.stdout)}, node:wasi ${JSON.stringify(ref.stdout)}`);
    }
    const d = treeDiff(r.tree, ref.tree);
    if (d) {
      treesAgree = false;
      problems.push(`${engine}: directory tree differs from node:wasi's: ${d}`);
    }
  }
  const callDiff = [...new Set([...Object.keys(oursCounts), ...Object.keys(nodeCounts)])].filter((k) => oursCounts[k] !== nodeCounts[k]);
  if (callDiff.length) say(`note: WASI call counts differ from node:wasi's for ${callDiff.map((k) => `${k} (${oursCounts[k] ?? 0} vs ${nodeCounts[k] ?? 0})`).join(', ')}`);

  const logNsPerEvent = timeRecord(events);
  const oursMs = median(ours);
  const oursNoLogMs = median(noLog);
  const nodeWasiMs = median(node);
  const logMsPerRun = (warm.logEvents * logNsPerEvent) / 1e6;
  const checksum = /checksum=([0-9a-f]+)/.exec(ref.stdout)?.[1] ?? '?';
  return {
    program: WASI_PROGRAM,
    rounds: o.rounds,
    reps: o.reps,
    stdout: ref.stdout.trim(),
    checksum,
    wasiCalls,
    wasiCallsByName: Object.fromEntries(Object.entries(oursCounts).sort((x, y) => y[1] - x[1])),
    nodeWasiCalls,
    oursMs,
    nodeWasiMs,
    oursOverNodeWasi: oursMs / nodeWasiMs,
    oursNoLogMs,
    logEvents: warm.logEvents,
    logNsPerEvent,
    logNsPerWasiCall: (logMsPerRun * 1e6) / wasiCalls,
    logPercentOfRun: (100 * logMsPerRun) / oursMs,
    abPercentOfRun: (100 * (oursMs - oursNoLogMs)) / oursMs,
    stdoutAgrees,
    treesAgree,
    ok: problems.length === 0,
    problems,
  };
}
