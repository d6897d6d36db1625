/**
 * `npm run bench`: times the compute kernels in bench/kernels/*.wasm in
 *   - our interpreter (@mvvm/interpreter's Machine), reporting instructions/second,
 *   - V8's own WebAssembly (same process),
 *   - wabt's `wasm-interp` (subprocess, when it is on PATH),
 * checks that every engine returns the same checksum, and prints a table plus the
 * geometric means of ours/V8 and ours/wasm-interp.
 *
 * Options:
 *   --json            also print one machine-readable JSON line at the end
 *   --only=a,b        run only the named kernels (`wasi` names the wasi section: --only=wasi
 *                     runs just that, --only=fib,wasi both)
 *   --reps=N          timed repetitions per engine (median is reported; default 3)
 *   --clock=cpu       time the kernels (ours, V8) by this process's CPU time instead of wall
 *                     time: steadier on a shared, busy machine (wasm-interp stays wall time)
 *   --scale=X         multiply every kernel's n by X (e.g. 0.1 for a quick smoke run)
 *   --no-ours         skip our interpreter
 *   --no-tier         skip the JS tier column (ours with { tier: 'auto' }; "ours" is { tier: 'interpreter' })
 *   --no-wasm-interp  skip wasm-interp
 *   --interpreter=F   import Machine from module file F instead of @mvvm/interpreter
 *   --keep-tmp        keep the generated wasm-interp modules (for debugging)
 *   --no-wasi         skip the wasi section
 *   --no-snapshot     skip the snapshot section (encode/decode MB/s vs a copy, checkpoint/restore time and size; `snapshot` in --only)
 *   --wasi-rounds=N   rounds of bench/wasi/fileio.wasm (default 10, times --scale)
 *   --no-deterministic skip the deterministic-NaN section (float kernels with the mode on vs off)
 *   --no-startup      skip the start-up section (`mvvm run` vs node:wasi as processes: empty
 *                     program, a generated 34,000-function module, memory growth)
 *   --grow-steps=N    64 MiB memory.grow steps in the start-up section (default 16; 63 = 4 GiB)
 *   --no-simd         skip the SIMD section (the same C kernels built with and without
 *                     -msimd128: ours, the JS tier and V8 on each build; `simd` in --only)
 *   --no-migrate      skip the migration section (bench/migrate: pre-copy vs stop-and-copy
 *                     over loopback, 1/16/64/256 MiB, low and high write rates; `migrate` in --only)
 *   --migrate-sizes=L MiB sizes of the migration section (default 1,16,64,256)
 *   --no-scheduler    skip the scheduler section (the SystemMonitor's CPU share at a 1 s interval;
 *                     N time-sliced tasks against one alone; `scheduler` in --only)
 *
 * After the kernels table, the `wasi` section (bench/wasi/bench-wasi.ts) runs a file-I/O
 * heavy WASI program under @mvvm/wasi and under node:wasi (V8), checks that stdout and the
 * resulting directory trees agree, and states the replay log's per-call overhead.
 *
 * Kernels are rebuilt from C by bench/kernels/build.sh (the .wasm files are committed).
 * Not part of `npm test`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { s32, u32 } from './leb128';
import { StartupBenchResult, formatStartup, runStartupBench } from './startup/bench-startup';

// ---------------------------------------------------------------------------------------
// Kernels. n is chosen so that our interpreter takes roughly 0.5-2 s per kernel.

interface Kernel {
  name: string;
  n: number;
  what: string;
}

const KERNELS: Kernel[] = [
  { name: 'fib', n: 33, what: 'recursive fib(n): calls/returns' },
  { name: 'sieve', n: 80, what: 'byte-array sieve of 64K, n rounds: load8/store8 loops' },
  { name: 'matmul', n: 84, what: 'i32 48x48 matrix multiply, n rounds' },
  { name: 'nbody', n: 90000, what: 'f64 n-body, n steps (sqrt, div)' },
  { name: 'mandelbrot', n: 460, what: 'f64 mandelbrot n x n, 64 iters' },
  { name: 'hash64', n: 1500, what: 'i64 xxhash64-like over 16 KiB, n passes' },
  { name: 'sort', n: 120000, what: 'quicksort + heapsort of n pseudo-random i32' },
  { name: 'vm', n: 200000, what: 'bytecode VM, big switch (br_table), n loop iters' },
  { name: 'dispatch', n: 3000, what: 'vtables and a sort comparator: call_indirect, n rounds' },
];

// ---------------------------------------------------------------------------------------
// Command line

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string): string | undefined => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? undefined : hit.slice(name.length + 3);
};
const wantJson = flag('json');
const reps = Math.max(1, Number(option('reps') ?? 3));
const scale = Number(option('scale') ?? 1);
const only = option('only')?.split(',');
const KERNEL_DIR = path.join(__dirname, 'kernels');
const wantWasi = !flag('no-wasi') && (!only || only.includes('wasi'));
const wantSnapshot = !flag('no-snapshot') && (!only || only.includes('snapshot'));
const wantMigrate = !flag('no-migrate') && (!only || only.includes('migrate'));
const wantScheduler = !flag('no-scheduler') && (!only || only.includes('scheduler'));
const wantDeterministic = !flag('no-deterministic') && !flag('no-ours') && (!only || only.includes('deterministic'));
const wantStartup = !flag('no-startup') && (!only || only.includes('startup'));
const wantSimd = !flag('no-simd') && !flag('no-ours') && (!only || only.includes('simd'));
/** The SIMD section's program: auto-vectorised kernels (packages/interpreter/test/programs/simd), rounds per run. */
const SIMD_DIR = path.join(__dirname, '../packages/interpreter/test/programs/simd');
const SIMD_N = 50;
/** Kernels with float arithmetic, timed with deterministic NaNs on and off. */
const DETERMINISTIC_KERNELS = ['nbody', 'mandelbrot', 'fib'];

// ---------------------------------------------------------------------------------------
// Small helpers

const now = (): number => Number(process.hrtime.bigint()) / 1e6; // ms
/**
 * The clock of the kernel timings (ours and V8, both in this process): wall time, or with
 * --clock=cpu this process's CPU time (user + system, all its threads), which other
 * processes on a shared machine do not inflate as they do wall time.
 */
const cpuClock = process.argv.includes('--clock=cpu');
const clock = (): number => {
  if (!cpuClock) return now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const geomean = (xs: number[]): number =>
  xs.length === 0 ? NaN : Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

type ResultType = 'i32' | 'i64';

/** Canonical string form of a checksum: signed decimal in the result's width. */
function canon(v: unknown, type: ResultType): string {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') b = BigInt(Math.trunc(v));
  else if (typeof v === 'string') b = BigInt(v);
  else if (v !== null && typeof v === 'object' && 'value' in (v as object))
    return canon((v as { value: unknown }).value, type); // tolerate {type, value} results
  else throw new Error(`cannot interpret result ${String(v)}`);
  return BigInt.asIntN(type === 'i64' ? 64 : 32, b).toString();
}

// ---------------------------------------------------------------------------------------
// Minimal wasm binary surgery: find `run`'s result type, and build a variant module with
// an extra nullary export `bench` = `run(n)`, because wasm-interp 1.0.32 can only call
// exports via --run-all-exports, which skips functions that take parameters.

function readU32(b: Uint8Array, pos: number): [number, number] {
  let result = 0, shift = 0, byte: number;
  do {
    byte = b[pos++];
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80);
  return [result >>> 0, pos];
}
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()];
const name = (s: string): number[] => [...u32(s.length), ...Buffer.from(s, 'utf8')];

interface Section { id: number; body: Uint8Array }
interface FuncType { params: number[]; results: number[] }

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const [size, p] = readU32(bytes, pos);
    out.push({ id, body: bytes.subarray(p, p + size) });
    pos = p + size;
  }
  return out;
}
/** Split a vector section into its count and the raw bytes of each entry (by parser). */
function entries(body: Uint8Array, skip: (b: Uint8Array, pos: number) => number): Uint8Array[] {
  let [count, pos] = readU32(body, 0);
  const out: Uint8Array[] = [];
  while (count--) {
    const end = skip(body, pos);
    out.push(body.subarray(pos, end));
    pos = end;
  }
  return out;
}
const skipType = (b: Uint8Array, pos: number): number => {
  let [np, p] = readU32(b, pos + 1);
  p += np;
  const [nr, q] = readU32(b, p);
  return q + nr;
};
const skipU32 = (b: Uint8Array, pos: number): number => readU32(b, pos)[1];
const skipExport = (b: Uint8Array, pos: number): number => {
  const [len, p] = readU32(b, pos);
  return readU32(b, p + len + 1)[1];
};
const skipSized = (b: Uint8Array, pos: number): number => {
  const [len, p] = readU32(b, pos);
  return p + len;
};

interface ModuleInfo { runType: FuncType; runIndex: number; resultType: ResultType }

function inspect(bytes: Uint8Array): ModuleInfo {
  const secs = sections(bytes);
  const sec = (id: number): Uint8Array => {
    const s = secs.find((x) => x.id === id);
    if (!s) throw new Error(`kernel has no section ${id}`);
    return s.body;
  };
  if (secs.some((s) => s.id === 2)) throw new Error('kernels must not have imports');
  const types: FuncType[] = entries(sec(1), skipType).map((e) => {
    const [np, p] = readU32(e, 1);
    const params = [...e.subarray(p, p + np)];
    const [nr, q] = readU32(e, p + np);
    return { params, results: [...e.subarray(q, q + nr)] };
  });
  const funcTypes = entries(sec(3), skipU32).map((e) => readU32(e, 0)[0]);
  let runIndex = -1;
  for (const e of entries(sec(7), skipExport)) {
    const [len, p] = readU32(e, 0);
    if (Buffer.from(e.subarray(p, p + len)).toString() === 'run' && e[p + len] === 0)
      runIndex = readU32(e, p + len + 1)[0];
  }
  if (runIndex < 0) throw new Error('kernel does not export function "run"');
  const runType = types[funcTypes[runIndex]];
  if (runType.params.length !== 1 || runType.params[0] !== 0x7f || runType.results.length !== 1)
    throw new Error('run must be (i32) -> i32|i64');
  const r = runType.results[0];
  if (r !== 0x7f && r !== 0x7e) throw new Error('run must return i32 or i64');
  return { runType, runIndex, resultType: r === 0x7e ? 'i64' : 'i32' };
}

/** The module plus `(func (export "bench") (result T) (call $run (i32.const n)))`. */
function withBenchExport(bytes: Uint8Array, n: number): Uint8Array {
  const info = inspect(bytes);
  const secs = sections(bytes);
  const types = entries(secs.find((s) => s.id === 1)!.body, skipType);
  const funcs = entries(secs.find((s) => s.id === 3)!.body, skipU32);
  const exports = entries(secs.find((s) => s.id === 7)!.body, skipExport);
  const codes = entries(secs.find((s) => s.id === 10)!.body, skipSized);
  const newType = types.length;
  const newFunc = funcs.length; // no imported functions (checked by inspect)
  const newBodies: Record<number, number[]> = {
    1: vec([...types.map((t) => [...t]), [0x60, 0, 1, info.runType.results[0]]]),
    3: vec([...funcs.map((f) => [...f]), u32(newType)]),
    7: vec([...exports.map((e) => [...e]), [...name('bench'), 0x00, ...u32(newFunc)]]),
    10: vec([
      ...codes.map((c) => [...c]),
      (() => {
        const body = [0x00, 0x41, ...s32(n), 0x10, ...u32(info.runIndex), 0x0b];
        return [...u32(body.length), ...body];
      })(),
    ]),
  };
  const out: number[] = [...bytes.subarray(0, 8)];
  for (const s of secs) {
    const body = newBodies[s.id] ?? [...s.body];
    out.push(s.id, ...u32(body.length), ...body);
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------
// Engines

interface OurMachine {
  invoke(name: string, args: unknown[]): unknown;
  instructionCount: number | bigint;
}
interface OurMachineClass {
  instantiate(bytes: Uint8Array, imports: object, options?: { deterministic?: boolean; tier?: string }): Promise<OurMachine> | OurMachine;
}

async function loadOurs(): Promise<OurMachineClass | string> {
  const errors: string[] = [];
  // A non-literal specifier keeps `npm run typecheck` independent of the interpreter's API.
  const override = option('interpreter');
  const candidates = override
    ? [path.resolve(override)]
    : ['@mvvm/interpreter', path.join(__dirname, '../packages/interpreter/src/index.ts')];
  for (const spec of candidates) {
    try {
      const mod = (await import(spec)) as { Machine?: OurMachineClass; default?: { Machine?: OurMachineClass } };
      const Machine = mod.Machine ?? mod.default?.Machine;
      if (Machine && typeof Machine.instantiate === 'function') return Machine;
      errors.push(`${spec}: no Machine.instantiate export`);
    } catch (e) {
      errors.push(`${spec}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return errors.join('; ');
}

const toNumber = (x: number | bigint): number => (typeof x === 'bigint' ? Number(x) : x);

interface Timing { ms: number; checksum: string; instructions?: number }

async function timeOurs(Machine: OurMachineClass, bytes: Uint8Array, n: number, type: ResultType, tier = 'interpreter'): Promise<Timing[]> {
  const m = await Machine.instantiate(bytes, {}, { tier });
  const once = async (): Promise<Timing> => {
    const before = toNumber(m.instructionCount);
    const t0 = clock();
    let results = m.invoke('run', [n]);
    if (results instanceof Promise) results = await results;
    const ms = clock() - t0;
    const instructions = toNumber(m.instructionCount) - before;
    const r = Array.isArray(results) ? results[0] : results;
    return { ms, checksum: canon(r, type), instructions };
  };
  await once(); // warm-up (JIT the interpreter's dispatch loop)
  if (tier !== 'interpreter') {
    // The JS tier's code is JavaScript that V8 optimizes, deoptimizes (type feedback from
    // code that had not run yet, shapes settling) and optimizes again over its first runs,
    // as V8's own WebAssembly tiers up: warm up for at least 3 runs and 1.5 s (30 runs at
    // most). The start-up cost is the separate n=1 column.
    const t0 = now();
    for (let i = 1; i < 30 && (i < 3 || now() - t0 < 1500); i++) await once();
  }
  const out: Timing[] = [];
  for (let i = 0; i < reps; i++) out.push(await once());
  return out;
}

async function timeV8(bytes: Uint8Array, n: number, type: ResultType): Promise<Timing[]> {
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, {});
  const run = instance.exports.run as (n: number) => number | bigint;
  // Warm-up: V8 tiers hot functions up from Liftoff to TurboFan between calls.
  let t0 = now();
  for (let i = 0; i < 3; i++) run(n);
  // V8 is fast enough that one call can be well under a millisecond: each sample times a
  // batch of calls lasting >= ~20 ms and reports the time per call.
  const perCall = Math.max((now() - t0) / 3, 1e-3);
  const batch = Math.max(1, Math.min(10000, Math.ceil(20 / perCall)));
  const out: Timing[] = [];
  for (let i = 0; i < Math.max(reps, 5); i++) {
    let r: number | bigint = 0;
    t0 = clock();
    for (let j = 0; j < batch; j++) r = run(n);
    out.push({ ms: (clock() - t0) / batch, checksum: canon(r, type) });
  }
  return out;
}

function findWasmInterp(): { path: string; version: string } | undefined {
  const candidates = process.env.WASM_INTERP
    ? [process.env.WASM_INTERP]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter((d) => d && !d.split(path.sep).includes('node_modules'))
        .map((d) => path.join(d, 'wasm-interp'));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
    } catch {
      continue;
    }
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return { path: c, version: r.stdout.trim() };
  }
  return undefined;
}

interface WasmInterpTiming { ms: number; rawMs: number; startupMs: number; checksum: string }

function timeWasmInterp(exe: string, bytes: Uint8Array, n: number, type: ResultType, tmp: string): WasmInterpTiming {
  // `wasm-interp K.wasm --run-all-exports` runs every nullary export and prints
  // `bench() => i32:123`; wall time of the whole subprocess, minus the median wall time
  // of the same command with n=0 (process start-up + module load/validation).
  const runOnce = (file: string): { ms: number; out: string } => {
    const t0 = now();
    const r = spawnSync(exe, [file, '--run-all-exports'], { encoding: 'utf8' });
    const ms = now() - t0;
    if (r.status !== 0) throw new Error(`wasm-interp failed (${r.status}): ${r.stderr}${r.stdout}`);
    return { ms, out: r.stdout };
  };
  const parse = (out: string): string => {
    const m = /^bench\(\) => (i32|i64):(-?\d+)/m.exec(out);
    if (!m) throw new Error(`unexpected wasm-interp output: ${out}`);
    return canon(BigInt(m[2]), type);
  };
  const big = path.join(tmp, `n${n}.wasm`);
  const zero = path.join(tmp, `n0.wasm`);
  fs.writeFileSync(big, withBenchExport(bytes, n));
  fs.writeFileSync(zero, withBenchExport(bytes, 0));
  const raw: number[] = [], startup: number[] = [];
  let checksum = '';
  runOnce(zero); // warm the page cache
  for (let i = 0; i < reps; i++) {
    startup.push(runOnce(zero).ms);
    const r = runOnce(big);
    raw.push(r.ms);
    const c = parse(r.out);
    if (checksum && c !== checksum) throw new Error(`wasm-interp not deterministic: ${checksum} vs ${c}`);
    checksum = c;
  }
  const rawMs = median(raw), startupMs = median(startup);
  return { ms: Math.max(rawMs - startupMs, 0.001), rawMs, startupMs, checksum };
}

// ---------------------------------------------------------------------------------------

interface Row {
  kernel: string;
  n: number;
  checksum: string;
  oursMs?: number;
  oursInstructions?: number;
  oursMips?: number;
  v8Ms: number;
  oursOverV8?: number;
  tierMs?: number;
  tierOverV8?: number;
  tierColdMs?: number;
  interpColdMs?: number;
  wasmInterpMs?: number;
  wasmInterpStartupMs?: number;
  oursOverWasmInterp?: number;
  checksumsAgree: boolean;
}

const fmtMs = (ms: number | undefined): string =>
  ms === undefined ? '-' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
const fmtX = (x: number | undefined): string =>
  x === undefined || !isFinite(x) ? '-' : x >= 100 ? `${x.toFixed(0)}x` : `${x.toFixed(1)}x`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const startedAt = now();
  const kernels = KERNELS.filter((k) => !only || only.includes(k.name)).map((k) => ({
    ...k,
    n: Math.max(1, Math.round(k.n * scale)),
  }));

  let Machine: OurMachineClass | undefined;
  if (!flag('no-ours')) {
    const loaded = await loadOurs();
    if (typeof loaded === 'string') {
      console.log(`NOTE: skipping "ours": could not load Machine from @mvvm/interpreter (${loaded})`);
    } else Machine = loaded;
  }
  const wasmInterp = flag('no-wasm-interp') || kernels.length === 0 ? undefined : findWasmInterp();
  if (!wasmInterp && !flag('no-wasm-interp') && kernels.length > 0) console.log('NOTE: native wasm-interp not on PATH: skipping it');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mvvm-bench-'));

  if (kernels.length > 0) console.log(
    `bench: ${kernels.length} kernels, median of ${reps} runs, ${cpuClock ? 'CPU time of this process' : 'wall time'}` +
      (Machine ? ', ours warmed up once per kernel' : '') +
      (wasmInterp
        ? `; wasm-interp = ${wasmInterp.path} ${wasmInterp.version}, time = subprocess wall time minus that of the same module run with n=0`
        : ''),
  );

  const rows: Row[] = [];
  let mismatch = false;
  try {
    for (const k of kernels) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(KERNEL_DIR, `${k.name}.wasm`)));
      const { resultType } = inspect(bytes);
      process.stdout.write(`  ${k.name.padEnd(10)} n=${k.n} ...`);

      const v8 = await timeV8(bytes, k.n, resultType);
      const checksums: Record<string, string[]> = { v8: v8.map((t) => t.checksum) };
      const row: Row = {
        kernel: k.name,
        n: k.n,
        checksum: v8[0].checksum,
        v8Ms: median(v8.map((t) => t.ms)),
        checksumsAgree: true,
      };

      if (Machine) {
        try {
          const ours = await timeOurs(Machine, bytes, k.n, resultType);
          checksums.ours = ours.map((t) => t.checksum);
          row.oursMs = median(ours.map((t) => t.ms));
          row.oursInstructions = ours[0].instructions;
          row.oursMips = median(ours.map((t) => (t.instructions ?? NaN) / t.ms / 1000));
          row.oursOverV8 = row.oursMs / row.v8Ms;
          if (!flag('no-tier')) {
            const tiered = await timeOurs(Machine, bytes, k.n, resultType, 'auto');
            checksums.tier = tiered.map((t) => t.checksum);
            row.tierMs = median(tiered.map((t) => t.ms));
            row.tierOverV8 = row.tierMs / row.v8Ms;
            // Start-up: a short run (n=1) on a fresh machine, all functions compiled (eager) vs none.
            const cold = async (tier: string): Promise<number> => {
              const m = await Machine.instantiate(bytes, {}, { tier });
              const t0 = now();
              m.invoke('run', [1]);
              return now() - t0;
            };
            row.interpColdMs = await cold('interpreter');
            row.tierColdMs = await cold('eager');
          }
        } catch (e) {
          console.log(`\n!!! ERROR: our interpreter failed on ${k.name}: ${(e as Error).stack ?? e}`);
          checksums.ours = ['<error>'];
        }
      }
      if (wasmInterp) {
        const wi = timeWasmInterp(wasmInterp.path, bytes, k.n, resultType, tmp);
        checksums['wasm-interp'] = [wi.checksum];
        row.wasmInterpMs = wi.ms;
        row.wasmInterpStartupMs = wi.startupMs;
        if (row.oursMs !== undefined) row.oursOverWasmInterp = row.oursMs / wi.ms;
      }

      const all = Object.values(checksums).flat();
      if (all.some((c) => c !== row.checksum)) {
        mismatch = true;
        row.checksumsAgree = false;
        console.log(
          `\n!!!!!!!! CHECKSUM MISMATCH on ${k.name} (n=${k.n}): ` +
            Object.entries(checksums).map(([e, cs]) => `${e}=${[...new Set(cs)].join('|')}`).join(', ') +
            ' !!!!!!!!',
        );
      }
      console.log(
        ` ours ${fmtMs(row.oursMs)} ms` + (row.tierMs !== undefined ? `, JS tier ${fmtMs(row.tierMs)} ms` : '') + `, V8 ${fmtMs(row.v8Ms)} ms` +
          (wasmInterp ? `, wasm-interp ${fmtMs(row.wasmInterpMs)} ms` : ''),
      );
      rows.push(row);
    }
  } finally {
    if (flag('keep-tmp')) console.log(`(kept wasm-interp modules in ${tmp})`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }

  const withTier = rows.some((r) => r.tierMs !== undefined);
  const header = ['kernel', 'n', 'checksum', 'ours ms', 'M instr/s', 'V8 ms', 'ours/V8'];
  if (wasmInterp) header.push('wasm-interp ms', 'ours/wasm-interp');
  if (withTier) header.push('JS tier ms', 'tier/V8', 'n=1 interp/eager ms');
  const body = rows.map((r) => {
    const cells = [
      r.kernel, String(r.n), r.checksumsAgree ? r.checksum : `MISMATCH! V8=${r.checksum}`, fmtMs(r.oursMs),
      r.oursMips === undefined ? '-' : r.oursMips.toFixed(1), fmtMs(r.v8Ms), fmtX(r.oursOverV8),
    ];
    if (wasmInterp) cells.push(fmtMs(r.wasmInterpMs), fmtX(r.oursOverWasmInterp));
    if (withTier) cells.push(fmtMs(r.tierMs), fmtX(r.tierOverV8), `${fmtMs(r.interpColdMs)}/${fmtMs(r.tierColdMs)}`);
    return cells;
  });
  const gmV8 = geomean(rows.flatMap((r) => (r.oursOverV8 === undefined ? [] : [r.oursOverV8])));
  const gmWi = geomean(rows.flatMap((r) => (r.oursOverWasmInterp === undefined ? [] : [r.oursOverWasmInterp])));
  const gmWiV8 = geomean(rows.flatMap((r) => (r.wasmInterpMs === undefined ? [] : [r.wasmInterpMs / r.v8Ms])));
  const gmTier = geomean(rows.flatMap((r) => (r.tierOverV8 === undefined ? [] : [r.tierOverV8])));
  const tierCol = header.indexOf('tier/V8');
  body.push(header.map((_, i) => (i === 0 ? 'geomean' : i === 6 ? fmtX(gmV8) : i === 8 && wasmInterp ? fmtX(gmWi) : i === tierCol ? fmtX(gmTier) : '')));
  if (kernels.length > 0) {
    console.log();
    console.log(table(header, body));
  }
  if (!Machine && kernels.length > 0) console.log('(ours skipped: Machine not available)');
  if (wasmInterp) {
    console.log(
      `wasm-interp: start-up + load (median n=0 run, subtracted above): ` +
        rows.map((r) => `${r.kernel} ${fmtMs(r.wasmInterpStartupMs)}`).join(', ') +
        ` ms; wasm-interp/V8 geomean ${fmtX(gmWiV8)}`,
    );
  }

  // ---- the wasi section (bench/wasi/bench-wasi.ts) ----
  let wasi: import('./wasi/bench-wasi').WasiBenchResult | undefined;
  if (wantWasi && flag('no-ours')) console.log('\nNOTE: --no-ours: skipping the wasi section');
  else if (wantWasi) {
    const { runWasiBench, WASI_PROGRAM, WASI_DEFAULT_ROUNDS } = await import('./wasi/bench-wasi');
    const rounds = Math.max(1, Number(option('wasi-rounds') ?? Math.round(WASI_DEFAULT_ROUNDS * scale)));
    console.log(
      `\nwasi: ${WASI_PROGRAM}.wasm ${rounds} rounds, ours (@mvvm/wasi Node host) vs node:wasi (V8), ` +
        `median of ${reps} runs of start() on a fresh mkdtemp dir each, after one warm-up run each`,
    );
    try {
      wasi = await runWasiBench({ reps, rounds, progress: (l) => console.log(`  ${l}`) });
    } catch (e) {
      console.log(`\n!!!!!!!! ERROR: the wasi section failed: ${(e as Error).stack ?? e} !!!!!!!!`);
      mismatch = true;
    }
    if (wasi) {
      const w = wasi;
      console.log();
      console.log(
        table(
          ['program', 'rounds', 'WASI calls', 'checksum', 'ours ms', 'node:wasi ms', 'ours/node:wasi', 'ours no-log ms', 'log events', 'log ns/call', 'log % of run'],
          [[
            w.program, String(w.rounds), String(w.wasiCalls), w.ok ? w.checksum : `MISMATCH! node:wasi=${w.checksum}`,
            fmtMs(w.oursMs), fmtMs(w.nodeWasiMs), fmtX(w.oursOverNodeWasi), fmtMs(w.oursNoLogMs), String(w.logEvents),
            w.logNsPerWasiCall.toFixed(1), `${w.logPercentOfRun.toFixed(2)}%`,
          ]],
        ),
      );
      const top = Object.entries(w.wasiCallsByName).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(`WASI calls per run: ${top}, ... (node:wasi made ${w.nodeWasiCalls})`);
      console.log(
        `replay log: ${w.logEvents} events/run x ${w.logNsPerEvent.toFixed(1)} ns per record() (tight loop replaying a run's events) = ` +
          `${((w.logEvents * w.logNsPerEvent) / 1e6).toFixed(2)} ms/run, ${w.logNsPerWasiCall.toFixed(1)} ns per WASI call, ` +
          `${w.logPercentOfRun.toFixed(2)}% of our run; A/B with record() a no-op: ${w.abPercentOfRun >= 0 ? '+' : ''}${w.abPercentOfRun.toFixed(1)}% (within run-to-run noise)`,
      );
      console.log(`stdout: ${w.stdout}`);
      if (w.ok) console.log(`stdout, exit code and directory tree agree with node:wasi on every run`);
      else {
        mismatch = true;
        for (const p of w.problems) console.log(`!!!!!!!! WASI MISMATCH: ${p}`);
      }
    }
  }

  // ---- the deterministic section: the NaN mode's cost, on vs off in the same run, interleaved ----
  let deterministic: { kernel: string; offMs: number; onMs: number; onOverOff: number }[] | undefined;
  if (wantDeterministic && Machine) {
    console.log(`\ndeterministic NaNs: ours with { deterministic: true } vs off (median of ${reps}, interleaved)`);
    deterministic = [];
    for (const name of DETERMINISTIC_KERNELS) {
      const k = KERNELS.find((x) => x.name === name)!;
      const n = Math.max(1, Math.round(k.n * scale));
      const bytes = new Uint8Array(fs.readFileSync(path.join(KERNEL_DIR, `${name}.wasm`)));
      const off = await Machine.instantiate(bytes, {}, { deterministic: false });
      const on = await Machine.instantiate(bytes, {}, { deterministic: true });
      const time = async (m: OurMachine): Promise<{ ms: number; r: unknown }> => {
        const t0 = now();
        let r = m.invoke('run', [n]);
        if (r instanceof Promise) r = await r;
        return { ms: now() - t0, r: Array.isArray(r) ? r[0] : r };
      };
      await time(off);
      await time(on);
      const offMs: number[] = [];
      const onMs: number[] = [];
      for (let i = 0; i < reps; i++) {
        const a = await time(off);
        const b = await time(on);
        if (String(a.r) !== String(b.r)) {
          console.log(`!!!!!!!! DETERMINISTIC MISMATCH on ${name}: ${String(a.r)} vs ${String(b.r)}`);
          mismatch = true;
        }
        offMs.push(a.ms);
        onMs.push(b.ms);
      }
      const row = { kernel: name, offMs: median(offMs), onMs: median(onMs), onOverOff: median(onMs) / median(offMs) };
      deterministic.push(row);
      console.log(`  ${name.padEnd(11)} off ${row.offMs.toFixed(0).padStart(6)} ms   on ${row.onMs.toFixed(0).padStart(6)} ms   on/off ${row.onOverOff.toFixed(2)}x`);
    }
  }

  // ---- the SIMD section: one C source built with -O3 -msimd128 and without, each under
  // ours (interpreter), ours (JS tier auto: SIMD functions stay in the interpreter) and V8 ----
  let simd: { build: string; instructions: number; oursMs: number; tierMs: number; v8Ms: number }[] | undefined;
  if (wantSimd && Machine) {
    const n = Math.max(1, Math.round(SIMD_N * scale));
    console.log(`\nSIMD: the same C kernels (test/programs/simd/simd.c, run(${n})) built with -msimd128 and without (median of ${reps})`);
    simd = [];
    for (const build of ['simd', 'scalar']) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(SIMD_DIR, `${build}.wasm`)));
      const ours = await timeOurs(Machine, bytes, n, 'i32');
      const tier = await timeOurs(Machine, bytes, n, 'i32', 'auto');
      const v8 = await timeV8(bytes, n, 'i32');
      const sums = new Set([...ours, ...tier, ...v8].map((t) => t.checksum));
      if (sums.size !== 1) {
        console.log(`!!!!!!!! SIMD MISMATCH on the ${build} build: ${[...sums].join(' vs ')}`);
        mismatch = true;
      }
      const row = { build, instructions: ours[0].instructions ?? 0, oursMs: median(ours.map((t) => t.ms)), tierMs: median(tier.map((t) => t.ms)), v8Ms: median(v8.map((t) => t.ms)) };
      simd.push(row);
      console.log(
        `  ${build.padEnd(7)} ${(row.instructions / 1e6).toFixed(1).padStart(6)} M instr   ours ${row.oursMs.toFixed(0).padStart(6)} ms   JS tier ${row.tierMs.toFixed(0).padStart(6)} ms   V8 ${row.v8Ms.toFixed(2).padStart(7)} ms   ours/V8 ${(row.oursMs / row.v8Ms).toFixed(0)}x   tier/V8 ${(row.tierMs / row.v8Ms).toFixed(0)}x`,
      );
    }
    const [v, sc] = simd;
    console.log(
      `  simd/scalar: instructions ${(v.instructions / sc.instructions).toFixed(2)}x, ours ${(v.oursMs / sc.oursMs).toFixed(2)}x, JS tier ${(v.tierMs / sc.tierMs).toFixed(2)}x, V8 ${(v.v8Ms / sc.v8Ms).toFixed(2)}x`,
    );
  }

  // ---- the startup section: whole processes, `mvvm run` vs node:wasi (bench/startup) ----
  let startup: StartupBenchResult | undefined;
  if (wantStartup) {
    const growSteps = Number(option('grow-steps') ?? 16);
    console.log(`\nstartup: \`mvvm run\` vs node:wasi, whole child processes (bench/startup; wall, user+sys CPU, peak RSS; median of ${reps})`);
    startup = runStartupBench({ reps, growSteps, progress: (l) => console.log(l) });
    for (const line of formatStartup(startup)) console.log(`  ${line}`);
    if (startup.nodeWasiCrashes > 0) console.log(`  (node:wasi crashed ${startup.nodeWasiCrashes} time(s) after a memory.grow and was run again)`);
    for (const p of startup.problems) console.log(`!!!!!!!! STARTUP MISMATCH: ${p}`);
    if (!startup.ok) mismatch = true;
  }

  // ---- the snapshot section: packages/snapshot/bench/snapshot-bench.ts, in its own process
  // (it allocates 64 MiB memories; a fresh heap keeps it from skewing the figures above) ----
  if (wantSnapshot) {
    console.log('\nsnapshot: encode / decode MB/s of touched memory vs a plain copy (1-256 MiB), then checkpoint / restore time and size, full and incremental (packages/snapshot/bench)');
    const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, '../packages/snapshot/bench/snapshot-bench.ts')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      console.log(`!!!!!!!! ERROR: the snapshot section failed (exit ${r.status}) !!!!!!!!`);
      mismatch = true;
    }
  }

  // ---- the migration section: bench/migrate/bench-migrate.ts in its own process (up to 256 MiB memories on both sides) ----
  if (wantMigrate) {
    const sizes = option('migrate-sizes') ?? '1,16,64,256';
    console.log(`\nmigrate: live migration over loopback, pre-copy vs stop-and-copy (bench/migrate; downtime = pause on the source to the commit acknowledgement; median of ${reps})`);
    const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'migrate/bench-migrate.ts'), `--sizes=${sizes}`, `--reps=${reps}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      console.log(`!!!!!!!! ERROR: the migration section failed (exit ${r.status}) !!!!!!!!`);
      mismatch = true;
    }
  }

  // ---- the scheduler section: bench/scheduler/bench-scheduler.ts, in its own process ----
  if (wantScheduler) {
    console.log('\nscheduler: the monitor\'s CPU share at a 1 s interval; N tasks time-sliced in one WasmScheduler against one alone (bench/scheduler)');
    const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'scheduler', 'bench-scheduler.ts'), `--reps=${reps}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status !== 0) {
      console.log(`!!!!!!!! ERROR: the scheduler section failed (exit ${r.status}) !!!!!!!!`);
      mismatch = true;
    }
  }

  console.log(`total bench time ${((now() - startedAt) / 1000).toFixed(1)} s`);
  if (mismatch) console.log('!!!!!!!! ERROR: engines disagree on at least one checksum (see above) !!!!!!!!');
  if (wantJson) {
    console.log(
      JSON.stringify({
        reps,
        kernels: rows,
        geomean: { oursOverV8: gmV8, oursOverWasmInterp: gmWi, wasmInterpOverV8: gmWiV8, tierOverV8: gmTier },
        ...(wasi ? { wasi } : {}),
        ...(deterministic ? { deterministic } : {}),
        ...(simd ? { simd } : {}),
        ...(startup ? { startup } : {}),
        ok: !mismatch,
      }),
    );
  }
  if (mismatch) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
