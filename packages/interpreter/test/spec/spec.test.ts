/**
 * The official WebAssembly spec test scripts (SIMD included), one jest test per script. A test fails
 * with the list of its failing commands (file:line, expected, got). The scripts are read from
 * $WASM_SPEC_TESTSUITE or ../shared/wasm-spec-testsuite relative to the repository root; when
 * they are absent the suite fails saying so (it never passes vacuously).
 */
import { readFileSync } from 'fs';
import { formatFailure, runScript } from './runner';
import { listScripts, scriptPath, suiteDir, suiteMissingMessage } from './suite';
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
