/**
 * The public WASI test suite (WebAssembly/wasi-testsuite, wasm32-wasip1 prebuilt modules
 * with JSON specs), run the way a user runs a program: `mvvm run` in a subprocess per
 * test, through the same bin as users (packages/cli/bin/mvvm.js), on a fresh copy of the
 * test's directory. Shared by `npm run wasi-testsuite` and the jest test.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/** The repository root (this file is packages/wasi/test/wasi-testsuite/suite.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'mvvm.js');
/** Tests known to fail, with the reason: a failure not listed here is a regression. */
export const EXPECTED_FAILURES_FILE = join(__dirname, 'expected-failures.json');
/** A test that runs longer than this is killed and fails. */
const TIMEOUT_MS = 120_000;

/** `$WASI_TESTSUITE`, or `../shared/wasi-testsuite` relative to the repository root. */
export function suiteDir(): string {
  const env = process.env.WASI_TESTSUITE;
  return env && env.length > 0 ? resolve(env) : resolve(REPO_ROOT, '..', 'shared', 'wasi-testsuite');
}

export function suiteMissingMessage(dir: string): string {
  return (
    `WASI test suite not found: ${dir} does not exist or holds no c/, rust/ or assemblyscript/ .wasm tests. ` +
    `Put the prebuilt wasm32-wasip1 tests of WebAssembly/wasi-testsuite there or set WASI_TESTSUITE to their directory.`
  );
}

/** One test module and its spec (the JSON next to it; defaults when absent). */
export interface SuiteTest {
  /** `folder/name`, e.g. `rust/path_link`. */
  name: string;
  wasm: string;
  args: string[];
  env: Record<string, string>;
  /** Host directory preopened as the guest's `/` (copied first: tests write into it). */
  root: string | null;
  exitCode: number;
  stdout: string | null;
}

const FOLDERS = ['assemblyscript', 'c', 'rust'];

/** Every test of the suite, sorted by name; [] when the suite is absent. */
export function listTests(dir: string): SuiteTest[] {
  const tests: SuiteTest[] = [];
  for (const folder of FOLDERS) {
    const at = join(dir, folder);
    if (!existsSync(at)) continue;
    for (const file of readdirSync(at).filter((f) => f.endsWith('.wasm')).sort()) {
      const stem = file.slice(0, -'.wasm'.length);
      const specFile = join(at, `${stem}.json`);
      const spec = existsSync(specFile) ? JSON.parse(readFileSync(specFile, 'utf8')) : {};
      tests.push({
        name: `${folder}/${stem}`,
        wasm: join(at, file),
        args: spec.args ?? [],
        env: spec.env ?? {},
        root: spec.root ? join(at, spec.root) : null,
        exitCode: spec.exit_code ?? 0,
        stdout: spec.stdout ?? null,
      });
    }
  }
  return tests;
}

export interface Outcome {
  name: string;
  passed: boolean;
  exitCode: number | null;
  /** Why it failed (wrong exit code, stdout, timeout), with the first lines of stderr. */
  detail: string;
}

/** A writable copy of a test's directory (the suite's files may be read-only). */
function copyRoot(from: string): { dir: string; root: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mvvm-wasi-testsuite-'));
  const root = join(dir, basename(from));
  cpSync(from, root, { recursive: true });
  const writable = (p: string) => {
    const st = statSync(p);
    chmodSync(p, st.mode | 0o200 | (st.isDirectory() ? 0o500 : 0));
    if (st.isDirectory()) for (const n of readdirSync(p)) writable(join(p, n));
  };
  writable(root);
  return { dir, root };
}

/** Runs one test with `mvvm run` in a subprocess, stdin an empty pipe. */
export function runTest(t: SuiteTest): Promise<Outcome> {
  const copy = t.root ? copyRoot(t.root) : null;
  const argv = [BIN, 'run'];
  if (copy) argv.push('--dir', `${copy.root}::/`);
  for (const [k, v] of Object.entries(t.env)) argv.push('--env', `${k}=${v}`);
  argv.push(t.wasm, ...t.args);
  return new Promise((done) => {
    const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.end();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (copy) rmSync(copy.dir, { recursive: true, force: true });
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString().trim().split('\n').slice(0, 3).join(' | ');
      let detail = '';
      if (timedOut) detail = `killed after ${TIMEOUT_MS / 1000} s`;
      else if (code !== t.exitCode) detail = `exit code ${code}, expected ${t.exitCode}`;
      else if (t.stdout !== null && stdout !== t.stdout) detail = `stdout ${JSON.stringify(stdout.slice(0, 80))}, expected ${JSON.stringify(t.stdout.slice(0, 80))}`;
      const passed = detail === '';
      if (!passed && stderr) detail += `; stderr: ${stderr.slice(0, 300)}`;
      done({ name: t.name, passed, exitCode: code, detail });
    });
  });
}

/** Runs the tests, at most `jobs` at a time (the machine may be shared), in list order. */
export async function runAll(tests: SuiteTest[], jobs: number, onDone?: (o: Outcome) => void): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(tests.length);
  let next = 0;
  const worker = async () => {
    while (next < tests.length) {
      const i = next++;
      outcomes[i] = await runTest(tests[i]);
      onDone?.(outcomes[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tests.length)) }, worker));
  return outcomes;
}

/** Test name -> why it is known to fail. */
export function expectedFailures(): Record<string, string> {
  return JSON.parse(readFileSync(EXPECTED_FAILURES_FILE, 'utf8'));
}

export interface Verdict {
  passed: number;
  failed: number;
  /** Failures not in the expectation list. */
  regressions: Outcome[];
  /** Listed as failing but passed: the list (and the README figure) should be updated. */
  fixed: string[];
}

export function judge(outcomes: Outcome[], expected: Record<string, string>): Verdict {
  const passed = outcomes.filter((o) => o.passed).length;
  return {
    passed,
    failed: outcomes.length - passed,
    regressions: outcomes.filter((o) => !o.passed && !(o.name in expected)),
    fixed: outcomes.filter((o) => o.passed && o.name in expected).map((o) => o.name),
  };
}
