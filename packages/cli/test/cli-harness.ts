/** Drives the real `mvvm` CLI as a subprocess (bin/mvvm.js: the compiled packages, or the sources when a build is stale). */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'packages', 'cli', 'bin', 'mvvm.js');
export const PROGRAMS = join(__dirname, 'programs');

export interface Result {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

export function mvvm(args: string[], cwd: string, input?: string): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, input, maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

/** Starts the CLI, sends `signal` once it has run `afterMs`, and collects the result. */
export function mvvmWithSignal(args: string[], cwd: string, signal: NodeJS.Signals, afterMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill(signal), afterMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code: code ?? -1 });
    });
  });
}

export function workdir(setup?: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'mvvm-e2e-'));
  mkdirSync(join(dir, 'data'));
  setup?.(dir);
  return dir;
}

export function copyDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/** Every file under `dir` (relative path -> contents), for byte-for-byte comparison. */
export function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      out[name] = readFileSync(join(dir, name)).toString('base64');
    } catch {
      /* a directory */
    }
  }
  return out;
}

/** Deterministic input for the file program: 300 lines of words. */
export function writeInput(dir: string): void {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'wasm', 'snapshot', 'restore', 'mvvm', 'page', 'stack'];
  let s = 1;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0), s >>> 16);
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(Array.from({ length: 1 + (next() % 12) }, () => words[next() % words.length]).join(' '));
  writeFileSync(join(dir, 'data', 'input.txt'), lines.join('\n') + '\n');
}

/** The instruction count of a whole run: a checkpoint that never triggers reports it. */
export function totalInstructions(args: string[], cwd: string): number {
  const r = mvvm(['checkpoint', '-c', '1000000000000', '-o', 'never.mvvm', ...args], cwd);
  const m = /ended after (\d+) instructions/.exec(r.stderr.toString());
  if (r.code !== 3 || !m) throw new Error(`could not count instructions: ${r.stderr}`);
  return Number(m[1]);
}
