/**
 * Runs one parsed spec test script (see wast.ts) against the interpreter and returns a result
 * per command. Anything a command throws that it should not (a JS TypeError, a RangeError, ...)
 * fails that command only.
 */
import {
  ExhaustionError,
  LinkError,
  Machine,
  MalformedError,
  Store,
  Trap,
  UnsupportedFeatureError,
  ValidationError,
  WasmError,
} from '@mvvm/interpreter';
import type { Tier } from '@mvvm/interpreter';
import { makeSpectest } from './spectest';
import {
  Action,
  argValue,
  Command,
  CommandKind,
  ExactValue,
  expectation,
  LiteralError,
  matches,
  ModuleSource,
  Script,
  showExpected,
  showValue,
} from './wast';

export type Status = 'pass' | 'fail' | 'skip';

export interface CommandResult {
  line: number;
  kind: CommandKind;
  status: Status;
  /** For failures: a short category, e.g. 'wrong-result', 'wrong-trap-message'. */
  failKind?: string;
  expected?: string;
  got?: string;
  /** For skips: why. */
  skipReason?: string;
  /** assert_malformed rejected with ValidationError, or assert_invalid with MalformedError. */
  otherClass?: boolean;
}

export interface ScriptResult {
  file: string;
  results: CommandResult[];
  /** `file:line: error` of every module wabt.js could not convert to binary. */
  wabtFailures: string[];
}

export const SKIP_QUOTE = 'text-format test (module quote) — this runtime reads binaries only';
export const SKIP_WABT = 'wabt.js could not convert the module text';

type Imports = Parameters<typeof Machine.instantiateSync>[1];
type Args = Parameters<Machine['invokeExact']>[1];

/** A failed command, thrown inside a command's handler and turned into its result. */
class Failure {
  constructor(
    readonly failKind: string,
    readonly expected: string,
    readonly got: string,
    readonly otherClass = false,
  ) {}
}

class Skip {
  constructor(readonly reason: string) {}
}

function errName(err: unknown): string {
  if (err instanceof Error) return err.constructor?.name || err.name;
  return typeof err;
}

/** `Class: message` of a thrown value, one line, bounded. */
export function describeError(err: unknown): string {
  let s: string;
  if (err instanceof Error) s = `${errName(err)}: ${err.message}`;
  else s = `thrown ${typeof err}: ${String(err)}`;
  s = s.replace(/\s+/g, ' ');
  return s.length > 300 ? s.slice(0, 297) + '...' : s;
}

/** Not one of the interpreter's own error classes (a TypeError, RangeError, ... escaped). */
function isJsError(err: unknown): boolean {
  return !(err instanceof WasmError);
}

function unexpected(expected: string, err: unknown): Failure {
  if (err instanceof Failure) return err;
  if (err instanceof LiteralError) return new Failure('bad-literal', expected, err.message);
  return new Failure(isJsError(err) ? 'js-exception' : 'wrong-error-class', expected, describeError(err));
}

/**
 * `deterministic`: every module in deterministic-NaN mode (Machine option), which the suite's
 * NaN results allow. `tier`: the Machine option (eager: the JS tier runs every function).
 */
export function runScript(script: Script, options: { deterministic?: boolean; tier?: Tier; threads?: boolean } = {}): ScriptResult {
  // The WebAssembly 2.0 scripts test 2.0's binary format (limits flags 2/3 malformed); the
  // threads proposal's scripts (threads: true) its shared memories.
  const threads = options.threads === true;
  const store = new Store();
  const registry: Record<string, unknown> = { spectest: makeSpectest(store) };
  const named = new Map<string, Machine>();
  const namedFailed = new Map<string, string>();
  let current: Machine | undefined;
  let currentFailed: string | undefined = 'no module defined yet';
  const wabtFailures: string[] = [];
  const where = (line: number) => `${script.file}:${line}`;

  const bytesOf = (m: ModuleSource): Uint8Array => {
    if (m.bytes) return m.bytes;
    if (m.form === 'quote' && !m.wabtError) throw new Skip(SKIP_QUOTE);
    wabtFailures.push(`${where(m.line)}: ${m.wabtError ?? 'not converted'}`);
    throw new Skip(SKIP_WABT);
  };

  const instantiate = (m: ModuleSource): Machine =>
    Machine.instantiateSync(bytesOf(m), registry as Imports, { store, deterministic: options.deterministic, tier: options.tier, threads });

  const machineFor = (name: string | undefined): Machine => {
    if (name !== undefined) {
      const m = named.get(name);
      if (m) return m;
      throw new Failure('no-module', `module ${name}`, namedFailed.get(name) ?? `module ${name} is not defined`);
    }
    if (current) return current;
    throw new Failure('no-module', 'a current module', currentFailed ?? 'none');
  };

  const perform = (a: Action): ExactValue[] => {
    const machine = machineFor(a.module);
    if (a.kind === 'get') return [machine.getGlobalExact(a.field) as unknown as ExactValue];
    const args = a.args.map(argValue);
    const results = machine.invokeExact(a.field, args as unknown as Args) as unknown;
    if (!Array.isArray(results)) throw new Failure('js-exception', 'an array of results', `invokeExact returned ${showValue(results)}`);
    return results as ExactValue[];
  };

  const actionText = (a: Action) => `${a.kind} "${a.field}"${a.module ? ` in ${a.module}` : ''}`;

  const expectTrap = (err: unknown, message: string, exhaustion: boolean): void => {
    const wanted = `${exhaustion ? 'ExhaustionError' : 'Trap'} "${message}"`;
    if (exhaustion ? err instanceof ExhaustionError : err instanceof Trap) {
      const msg = (err as Error).message;
      if (msg.includes(message)) return;
      throw new Failure('wrong-trap-message', wanted, describeError(err));
    }
    throw unexpected(wanted, err);
  };

  const handlers: { [K in CommandKind]: (c: Extract<Command, { kind: K }>) => void } = {
    module: (c) => {
      const name = c.module.name;
      if (name) named.delete(name);
      current = undefined;
      try {
        const m = instantiate(c.module);
        current = m;
        currentFailed = undefined;
        if (name) named.set(name, m);
      } catch (err) {
        const why = `module at line ${c.line} failed: ${err instanceof Skip ? err.reason : describeError(err)}`;
        currentFailed = why;
        if (name) namedFailed.set(name, why);
        if (err instanceof Skip) throw err;
        if (err instanceof Failure) throw err;
        throw new Failure('module-failed', 'module instantiates', describeError(err));
      }
    },
    register: (c) => {
      registry[c.as] = machineFor(c.module).exports;
    },
    action: (c) => {
      try {
        perform(c.action);
      } catch (err) {
        throw unexpected(`${actionText(c.action)} completes`, err);
      }
    },
    assert_return: (c) => {
      const expected = c.expected.map(expectation);
      const want = `[${expected.map(showExpected).join(', ')}]`;
      let got: ExactValue[];
      try {
        got = perform(c.action);
      } catch (err) {
        if (err instanceof Trap) throw new Failure('unexpected-trap', want, describeError(err));
        throw unexpected(want, err);
      }
      const ok = got.length === expected.length && expected.every((e, i) => matches(e, got[i]));
      if (!ok) {
        throw new Failure(
          got.length === expected.length ? 'wrong-result' : 'wrong-result-count',
          want,
          `[${got.map(showValue).join(', ')}]`,
        );
      }
    },
    assert_trap: (c) => {
      let got: ExactValue[];
      try {
        got = perform(c.action);
      } catch (err) {
        expectTrap(err, c.message, false);
        return;
      }
      throw new Failure('missing-trap', `Trap "${c.message}"`, `returned [${got.map(showValue).join(', ')}]`);
    },
    assert_exhaustion: (c) => {
      let got: ExactValue[];
      try {
        got = perform(c.action);
      } catch (err) {
        expectTrap(err, c.message, true);
        return;
      }
      throw new Failure('missing-trap', `ExhaustionError "${c.message}"`, `returned [${got.map(showValue).join(', ')}]`);
    },
    assert_malformed: (c) => {
      const bytes = bytesOf(c.module);
      const want = `MalformedError ("${c.message}")`;
      try {
        Machine.compile(bytes, { threads });
      } catch (err) {
        if (err instanceof MalformedError) return;
        if (err instanceof ValidationError) throw new Failure('wrong-error-class', want, describeError(err), true);
        throw unexpected(want, err);
      }
      throw new Failure('accepted-malformed', want, 'compiled without error');
    },
    assert_invalid: (c) => {
      const bytes = bytesOf(c.module);
      const want = `ValidationError ("${c.message}")`;
      try {
        Machine.compile(bytes, { threads });
      } catch (err) {
        if (err instanceof ValidationError) return;
        if (err instanceof MalformedError && !(err instanceof UnsupportedFeatureError)) {
          throw new Failure('wrong-error-class', want, describeError(err), true);
        }
        throw unexpected(want, err);
      }
      throw new Failure('accepted-invalid', want, 'compiled without error');
    },
    assert_unlinkable: (c) => {
      const want = `LinkError ("${c.message}")`;
      try {
        instantiate(c.module);
      } catch (err) {
        if (err instanceof Skip) throw err;
        if (err instanceof LinkError) return;
        throw unexpected(want, err);
      }
      throw new Failure('missing-link-error', want, 'instantiated without error');
    },
    assert_uninstantiable: (c) => moduleTrap(c.module, c.message),
    assert_trap_module: (c) => moduleTrap(c.module, c.message),
  };

  const moduleTrap = (m: ModuleSource, message: string): void => {
    try {
      instantiate(m);
    } catch (err) {
      if (err instanceof Skip) throw err;
      expectTrap(err, message, false);
      return;
    }
    throw new Failure('missing-trap', `Trap "${message}" during instantiation`, 'instantiated without error');
  };

  const results: CommandResult[] = [];
  for (const c of script.commands) {
    const r: CommandResult = { line: c.line, kind: c.kind, status: 'pass' };
    try {
      (handlers[c.kind] as (c: Command) => void)(c);
    } catch (err) {
      if (err instanceof Skip) {
        r.status = 'skip';
        r.skipReason = err.reason;
      } else {
        const f = err instanceof Failure ? err : unexpected('(no exception)', err);
        r.status = 'fail';
        r.failKind = f.failKind;
        r.expected = f.expected;
        r.got = f.got;
        if (f.otherClass) r.otherClass = true;
      }
    }
    results.push(r);
  }
  return { file: script.file, results, wabtFailures };
}

/** `file:line: kind [failKind]: expected X, got Y` for one failure. */
export function formatFailure(file: string, r: CommandResult): string {
  return `${file}:${r.line}: ${r.kind} [${r.failKind}]\n    expected: ${r.expected}\n    got:      ${r.got}`;
}
