/**
 * The public WASI test suite through the real CLI (see suite.ts): every test must pass
 * except those listed, with the reason, in expected-failures.json, and a listed one that
 * starts passing must be taken off the list (so the README's figure stays true). The suite
 * is read from $WASI_TESTSUITE or ../shared/wasi-testsuite; when it is absent this fails
 * saying so (it never passes vacuously), as the spec tests do.
 */
import { availableParallelism } from 'node:os';
import { Outcome, expectedFailures, listTests, runAll, suiteDir, suiteMissingMessage } from './suite';

const dir = suiteDir();
const tests = listTests(dir);
const expected = expectedFailures();

if (tests.length === 0) {
  test('WASI test suite is present', () => {
    throw new Error(suiteMissingMessage(dir));
  });
} else {
  const outcomes = new Map<string, Outcome>();
  // Two at a time: each test is a CLI process, and the machine may be shared.
  beforeAll(async () => {
    for (const o of await runAll(tests, Math.min(2, availableParallelism()))) outcomes.set(o.name, o);
  });

  const titled = tests.map((t) => [t.name, t.name in expected ? ' (known failure: still fails)' : ''] as const);
  test.each(titled)('%s%s', (name) => {
    const o = outcomes.get(name)!;
    if (name in expected) {
      if (o.passed) throw new Error(`${name} now passes: remove it from expected-failures.json and update the README figure`);
    } else if (!o.passed) {
      throw new Error(`${name}: ${o.detail}`);
    }
    expect(o.passed).toBe(!(name in expected));
  });
}
