/**
 * The official WebAssembly spec test scripts (SIMD included), one jest test per script. A test fails
 * with the list of its failing commands (file:line, expected, got). The scripts are read from
 * $WASM_SPEC_TESTSUITE or ../shared/wasm-spec-testsuite relative to the repository root; when
 * they are absent the suite fails saying so (it never passes vacuously). The threads proposal's
 * scripts (thread/wait/either commands, shared memories, atomics) come from
 * $WASM_THREADS_TESTSUITE or ../shared/wasm-threads-testsuite, under the same rule.
 */
import { readFileSync } from 'fs';
import { formatFailure, runScript } from './runner';
import { listScripts, listThreadsScripts, scriptPath, suiteDir, suiteMissingMessage, threadsSuiteDir, threadsSuiteMissingMessage } from './suite';
import { loadScript, loadWabt } from './wast';

const MAX_LISTED = 100;

const dir = suiteDir();
const files = listScripts(dir, true);

if (files.length === 0) {
  test('WebAssembly spec testsuite is present', () => {
    throw new Error(suiteMissingMessage(dir));
  });
} else {
  test.each(files)('%s', async (file) => {
    const wabt = await loadWabt();
    const script = loadScript(wabt, readFileSync(scriptPath(dir, file), 'utf8'), file);
    const { results, wabtFailures } = runScript(script);
    if (wabtFailures.length > 0) {
      console.warn(`${file}: modules wabt.js could not convert (skipped):\n  ${wabtFailures.join('\n  ')}`);
    }
    const failures = results.filter((r) => r.status === 'fail');
    if (failures.length > 0) {
      const listed = failures.slice(0, MAX_LISTED).map((r) => formatFailure(file, r));
      if (failures.length > MAX_LISTED) listed.push(`... and ${failures.length - MAX_LISTED} more`);
      throw new Error(`${failures.length} of ${results.length} commands failed:\n${listed.join('\n')}`);
    }
    expect(results.length).toBeGreaterThan(0);
  });

  // The JS tier on every function (eager): the whole suite again, every module compiled.
  test.each(files)('%s, JS tier eager', async (file) => {
    const wabt = await loadWabt();
    const script = loadScript(wabt, readFileSync(scriptPath(dir, file), 'utf8'), file);
    const { results } = runScript(script, { tier: 'eager' });
    const failures = results.filter((r) => r.status === 'fail');
    expect(failures.slice(0, MAX_LISTED).map((r) => formatFailure(file, r))).toEqual([]);
    expect(results.length).toBeGreaterThan(0);
  });

  // Deterministic-NaN mode (canonical NaNs) must pass too: the float scripts, which check NaN results.
  const floatFiles = files.filter((f) => /^(f32|f64|float_|conversions|simd_f32x4|simd_f64x2)/.test(f));
  test('the float scripts include NaN checks', () => expect(floatFiles.length).toBeGreaterThanOrEqual(6));
  test.each(floatFiles)('%s, deterministic NaNs', async (file) => {
    const wabt = await loadWabt();
    const script = loadScript(wabt, readFileSync(scriptPath(dir, file), 'utf8'), file);
    const failures = runScript(script, { deterministic: true }).results.filter((r) => r.status === 'fail');
    expect(failures.slice(0, MAX_LISTED).map((r) => formatFailure(file, r))).toEqual([]);
  });
}

const threadsDir = threadsSuiteDir();
const threadFiles = listThreadsScripts(threadsDir);

if (threadFiles.length === 0) {
  test('WebAssembly threads proposal testsuite is present', () => {
    throw new Error(threadsSuiteMissingMessage(threadsDir));
  });
} else {
  // Every script, with the interpreter alone and with the JS tier on every function.
  test.each(threadFiles.flatMap((f) => [[f, 'auto'], [f, 'eager']] as const))('threads: %s (tier %s)', async (file, tier) => {
    const wabt = await loadWabt();
    const script = loadScript(wabt, readFileSync(scriptPath(threadsDir, file), 'utf8'), file, { threads: true });
    const { results } = runScript(script, { threads: true, tier });
    const failures = results.filter((r) => r.status === 'fail');
    expect(failures.slice(0, MAX_LISTED).map((r) => formatFailure(file, r))).toEqual([]);
    expect(results.filter((r) => r.status === 'pass').length).toBeGreaterThan(0);
  });
  test('the threads suite has the scripts with thread, wait and either', () => {
    expect(threadFiles).toEqual(expect.arrayContaining(['wait_notify.wast', 'atomic.wast', 'MP.wast', 'core-with-shared-memory/memory.wast']));
  });
}
