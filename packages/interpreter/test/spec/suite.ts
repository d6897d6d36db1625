/** Where the spec test scripts live, and which of them to run. */
import { existsSync, readdirSync } from 'fs';
import { join, resolve } from 'path';

/** The repository root (this file is packages/interpreter/test/spec/suite.ts). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** `$WASM_SPEC_TESTSUITE`, or `../shared/wasm-spec-testsuite` relative to the repository root. */
export function suiteDir(): string {
  const env = process.env.WASM_SPEC_TESTSUITE;
  return env && env.length > 0 ? resolve(env) : resolve(REPO_ROOT, '..', 'shared', 'wasm-spec-testsuite');
}

export function suiteMissingMessage(dir: string): string {
  return (
    `WebAssembly spec testsuite not found: ${dir} does not exist or holds no .wast files. ` +
    `Put the official testsuite scripts there (see WebAssembly/testsuite) or set WASM_SPEC_TESTSUITE to their directory.`
  );
}

export function isSimdScript(file: string): boolean {
  return file.replace(/^.*[\\/]/, '').startsWith('simd_');
}

/** The .wast file names (sorted) in the suite directory; SIMD scripts only when `all`. */
export function listScripts(dir: string, all: boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wast') && (all || !isSimdScript(f)))
    .sort();
}

export function scriptPath(dir: string, file: string): string {
  return join(dir, file);
}

/** `$WASM_THREADS_TESTSUITE`, or `../shared/wasm-threads-testsuite` relative to the repository root. */
export function threadsSuiteDir(): string {
  const env = process.env.WASM_THREADS_TESTSUITE;
  return env && env.length > 0 ? resolve(env) : resolve(REPO_ROOT, '..', 'shared', 'wasm-threads-testsuite');
}

export function threadsSuiteMissingMessage(dir: string): string {
  return (
    `WebAssembly threads proposal testsuite not found: ${dir} does not exist or holds no .wast files. ` +
    `Put the threads proposal's test/core/threads scripts (and core-with-shared-memory/) there or set WASM_THREADS_TESTSUITE to their directory.`
  );
}

/** The threads suite's scripts: its .wast files, then core-with-shared-memory/*.wast, as paths relative to `dir`. */
export function listThreadsScripts(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const top = readdirSync(dir).filter((f) => f.endsWith('.wast')).sort();
  const sub = join(dir, 'core-with-shared-memory');
  const core = existsSync(sub) ? readdirSync(sub).filter((f) => f.endsWith('.wast')).sort().map((f) => `core-with-shared-memory/${f}`) : [];
  return [...top, ...core];
}
