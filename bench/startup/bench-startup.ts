/**
 * The `startup` section of `npm run bench`: whole-process costs of running a WASI program
 * with the `mvvm` command against node:wasi (bench/startup/node-wasi-run.js, V8), each as a
 * fresh child process:
 *   - empty:  bench/startup/empty.wasm (`int main(void) { return 0; }`): start-up alone,
 *   - large:  a generated module as big as yosys (large-module.ts: 34,000 functions, ~27 MB),
 *             of which `_start` runs 200: decoding, validation and translation costs,
 *   - grow:   bench/startup/grow.wasm: 1,024 one-page memory.grow calls, 256 MiB in 1 MiB
 *             mallocs, and 64 MiB steps (16 steps = 1 GiB; `--grow-steps=63` reaches 4 GiB).
 * Each child runs with usage-preload.js, which writes its CPU time and peak RSS at exit;
 * wall time is measured here. Medians of `reps` runs. stdout and exit code must equal
 * node:wasi's, otherwise `ok` is false.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { largeModule } from './large-module';

const HERE = __dirname;
const MVVM_BIN = path.join(HERE, '../../packages/cli/bin/mvvm.js');

export interface ProcessFigures {
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

export interface StartupCase {
  name: string;
  what: string;
  ours: ProcessFigures;
  nodeWasi: ProcessFigures;
  stdout: string;
}

export interface StartupBenchResult {
  cases: StartupCase[];
  ok: boolean;
  problems: string[];
  /** node:wasi runs that died of a signal and were run again. */
  nodeWasiCrashes: number;
}

export interface StartupBenchOptions {
  reps: number;
  growSteps: number;
  /** Only these case names (empty, large, grow-pages, grow-malloc, grow-steps). */
  only?: string[];
  progress?: (line: string) => void;
}

interface OneRun extends ProcessFigures {
  stdout: string;
  status: number | null;
}

function runOnce(args: string[]): OneRun {
  const usageFile = path.join(os.tmpdir(), `mvvm-bench-usage-${process.pid}.json`);
  fs.rmSync(usageFile, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', path.join(HERE, 'usage-preload.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, MVVM_BENCH_USAGE: usageFile },
    maxBuffer: 1 << 26,
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let usage = { userMs: NaN, systemMs: NaN, maxRssKiB: NaN };
  try {
    usage = JSON.parse(fs.readFileSync(usageFile, 'utf8'));
  } catch {
    // the child died before its exit handler: figures stay NaN, and the status says why
  }
  fs.rmSync(usageFile, { force: true });
  if (r.status !== 0 && r.stderr) process.stderr.write(r.stderr);
  return { wallMs, cpuMs: usage.userMs + usage.systemMs, maxRssMiB: usage.maxRssKiB / 1024, stdout: r.stdout, status: r.status };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function summarize(runs: OneRun[]): ProcessFigures {
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)), maxRssMiB: median(runs.map((r) => r.maxRssMiB)) };
}

export function runStartupBench(o: StartupBenchOptions): StartupBenchResult {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mvvm-bench-startup-'));
  const large = path.join(tmp, 'large.wasm');
  const grow = path.join(HERE, 'grow.wasm');
  const cases: { name: string; what: string; file: string; args: string[]; reps: number }[] = [
    { name: 'empty', what: 'empty program (start-up only)', file: path.join(HERE, 'empty.wasm'), args: [], reps: o.reps * 2 + 1 },
    { name: 'large', what: 'generated module: 34,000 functions, ~27 MB, 200 run', file: large, args: [], reps: o.reps },
    { name: 'grow-pages', what: '1,024 x memory.grow(1)', file: grow, args: ['pages', '1024'], reps: o.reps },
    { name: 'grow-malloc', what: '256 MiB in 1 MiB mallocs', file: grow, args: ['malloc', '256'], reps: o.reps },
    { name: 'grow-steps', what: `${o.growSteps} x 64 MiB memory.grow`, file: grow, args: ['steps', String(o.growSteps)], reps: 1 },
  ].filter((c) => !o.only || o.only.includes(c.name));
  if (cases.some((c) => c.name === 'large')) fs.writeFileSync(large, largeModule({ functions: 34_000, called: 200 }));
  const problems: string[] = [];
  const out: StartupCase[] = [];
  let nodeWasiCrashes = 0;
  try {
    for (const c of cases) {
      o.progress?.(`  ${c.name}: ${c.what} (${c.reps} runs each)`);
      const ours: OneRun[] = [];
      const ref: OneRun[] = [];
      for (let i = 0; i < c.reps; i++) {
        // Node 20's node:wasi sometimes dies of SIGSEGV after a memory.grow: run it again.
        let r = runOnce([path.join(HERE, 'node-wasi-run.js'), c.file, ...c.args]);
        for (let retry = 0; retry < 3 && r.status === null; retry++) {
          nodeWasiCrashes++;
          r = runOnce([path.join(HERE, 'node-wasi-run.js'), c.file, ...c.args]);
        }
        ref.push(r);
        ours.push(runOnce([MVVM_BIN, 'run', c.file, ...c.args]));
      }
      for (const r of [...ours, ...ref]) {
        if (r.status !== ref[0].status || r.stdout !== ref[0].stdout) {
          problems.push(`${c.name}: exit ${r.status} stdout ${JSON.stringify(r.stdout.slice(0, 200))}, node:wasi: exit ${ref[0].status} ${JSON.stringify(ref[0].stdout.slice(0, 200))}`);
          break;
        }
      }
      out.push({ name: c.name, what: c.what, ours: summarize(ours), nodeWasi: summarize(ref), stdout: ref[0].stdout.trim() });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { cases: out, ok: problems.length === 0, problems, nodeWasiCrashes };
}

/** The section's table, one row per case. */
export function formatStartup(r: StartupBenchResult): string[] {
  const rows = [['case', 'ours wall', 'ours CPU', 'ours RSS', 'node:wasi wall', 'CPU', 'RSS', 'ours/node:wasi (wall)']];
  const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
  for (const c of r.cases) {
    rows.push([
      c.name,
      ms(c.ours.wallMs), ms(c.ours.cpuMs), `${c.ours.maxRssMiB.toFixed(0)} MiB`,
      ms(c.nodeWasi.wallMs), ms(c.nodeWasi.cpuMs), `${c.nodeWasi.maxRssMiB.toFixed(0)} MiB`,
      `${(c.ours.wallMs / c.nodeWasi.wallMs).toFixed(1)}x`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const r = runStartupBench({
    reps: Number(opt('reps') ?? 3),
    growSteps: Number(opt('grow-steps') ?? 16),
    only: opt('only')?.split(','),
    progress: (l) => console.log(l),
  });
  for (const line of formatStartup(r)) console.log(line);
  if (r.nodeWasiCrashes > 0) console.log(`(node:wasi crashed ${r.nodeWasiCrashes} time(s) and was run again)`);
  for (const p of r.problems) console.log(`!!!!!!!! STARTUP MISMATCH: ${p}`);
  if (argv.includes('--json')) console.log(JSON.stringify(r));
  if (!r.ok) process.exitCode = 1;
}
