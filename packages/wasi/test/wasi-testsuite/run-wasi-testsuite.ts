/**
 * `npm run wasi-testsuite [-- --jobs N] [NAME-FILTER...]`: runs the public WASI test suite
 * with `mvvm run` (see suite.ts), prints one line per test and `N passed, M failed`, and
 * exits 1 on a failure not listed in expected-failures.json (or when the suite is absent).
 */
import { availableParallelism } from 'node:os';
import { expectedFailures, judge, listTests, runAll, suiteDir, suiteMissingMessage } from './suite';

async function main(argv: string[]): Promise<number> {
  let jobs = Math.min(2, availableParallelism());
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--jobs' || argv[i] === '-j') jobs = Number(argv[++i]);
    else filters.push(argv[i]);
  }
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error('--jobs takes a positive integer');
    return 2;
  }
  const dir = suiteDir();
  const all = listTests(dir);
  if (all.length === 0) {
    console.error(suiteMissingMessage(dir));
    return 1;
  }
  const tests = filters.length > 0 ? all.filter((t) => filters.some((f) => t.name.includes(f))) : all;
  const expected = expectedFailures();
  const width = Math.max(...tests.map((t) => t.name.length));
  const outcomes = await runAll(tests, jobs, (o) => {
    const status = o.passed ? 'pass' : o.name in expected ? 'FAIL (expected)' : 'FAIL';
    const why = o.passed ? '' : `  ${o.detail}${o.name in expected ? `  [known: ${expected[o.name]}]` : ''}`;
    console.log(`${o.name.padEnd(width)}  ${status}${why}`);
  });
  const v = judge(outcomes, expected);
  console.log(`\n${v.passed} passed, ${v.failed} failed (of ${outcomes.length}, suite ${dir})`);
  for (const name of v.fixed) console.log(`now passes, remove it from expected-failures.json and update the README figure: ${name}`);
  if (v.regressions.length > 0) {
    console.log(`regressions (failing, not in expected-failures.json): ${v.regressions.map((o) => o.name).join(', ')}`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
