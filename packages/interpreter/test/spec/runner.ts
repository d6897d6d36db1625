/**
 * Runs one parsed spec test script (see wast.ts) against the interpreter and returns a result
 * per command. Anything a command throws that it should not (a JS TypeError, a RangeError, ...)
 * fails that command only.
 */
import {
  DeadlockError,
  ExhaustionError,
  LinkError,
  Machine,
  MalformedError,
  Store,
  ThreadGroup,
  Trap,
  UnsupportedFeatureError,
  ValidationError,
  WasmError,
} from '@mvvm/interpreter';
import type { Tier } from '@mvvm/interpreter';
import { makeSpectest } from './spectest';
import {
  Action,
  allCommands,
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

/** What a script thread's commands wait for: its invocation running in the ThreadGroup, or another script thread. */
type Blocker = { kind: 'invocation'; thread: Machine['thread'] } | { kind: 'join'; ctx: Context };
type Steps<T> = Generator<Blocker, T, void>;

/** One script thread (the script itself, or a `thread` block): its store, registry and modules. */
interface Context {
  store: Store;
  registry: Record<string, unknown>;
  named: Map<string, Machine>;
  namedFailed: Map<string, string>;
  current?: Machine;
  currentFailed?: string;
  /** Script threads it spawned, by name. */
  children: Map<string, Context>;
  /** Its store's thread is a thread of the group (threaded scripts). */
  inGroup: boolean;
  gen?: Steps<void>;
  blocker?: Blocker;
  started: boolean;
  finished: boolean;
  /** What its running invocation threw (a trap), handed to its generator. */
  error?: unknown;
}

/** Instructions the threads of a script may run in all before the runner gives up on it. */
const MAX_SCRIPT_INSTRUCTIONS = 200_000_000;

/**
 * `deterministic`: every module in deterministic-NaN mode (Machine option), which the suite's
 * NaN results allow. `tier`: the Machine option (eager: the JS tier runs every function).
 * `threads`: the script is one of the threads proposal's (shared memories in the binary format).
 * A script with `thread` commands runs every script thread's invocations interleaved in one
 * ThreadGroup; the others run each invocation to completion, as before.
 */
export function runScript(script: Script, options: { deterministic?: boolean; tier?: Tier; threads?: boolean } = {}): ScriptResult {
  // The WebAssembly 2.0 scripts test 2.0's binary format (limits flags 2/3 malformed); the
  // threads proposal's scripts (threads: true) its shared memories.
  const threads = options.threads === true;
  const group = allCommands(script.commands).some((c) => c.kind === 'thread') ? new ThreadGroup({ quantum: 97, stopOnExit: true }) : null;
  const wabtFailures: string[] = [];
  const results: CommandResult[] = [];
  const where = (line: number) => `${script.file}:${line}`;

  const newContext = (shared: Map<string, Machine>): Context => {
    const store = new Store();
    return {
      store,
      registry: { spectest: makeSpectest(store) },
      named: shared,
      namedFailed: new Map(),
      currentFailed: 'no module defined yet',
      children: new Map(),
      inGroup: false,
      started: false,
      finished: false,
    };
  };

  const bytesOf = (m: ModuleSource): Uint8Array => {
    if (m.bytes) return m.bytes;
    if (m.form === 'quote' && !m.wabtError) throw new Skip(SKIP_QUOTE);
    wabtFailures.push(`${where(m.line)}: ${m.wabtError ?? 'not converted'}`);
    throw new Skip(SKIP_WABT);
  };

  const instantiate = (ctx: Context, m: ModuleSource): Machine =>
    Machine.instantiateSync(bytesOf(m), ctx.registry as Imports, { store: ctx.store, deterministic: options.deterministic, tier: options.tier, threads });

  const machineFor = (ctx: Context, name: string | undefined): Machine => {
    if (name !== undefined) {
      const m = ctx.named.get(name);
      if (m) return m;
      throw new Failure('no-module', `module ${name}`, ctx.namedFailed.get(name) ?? `module ${name} is not defined`);
    }
    if (ctx.current) return ctx.current;
    throw new Failure('no-module', 'a current module', ctx.currentFailed ?? 'none');
  };

  function* perform(ctx: Context, a: Action): Steps<ExactValue[]> {
    const machine = machineFor(ctx, a.module);
    if (a.kind === 'get') return [machine.getGlobalExact(a.field) as unknown as ExactValue];
    const args = a.args.map(argValue) as unknown as Args;
    if (group === null || machine.store !== ctx.store) {
      const results = machine.invokeExact(a.field, args) as unknown;
      if (!Array.isArray(results)) throw new Failure('js-exception', 'an array of results', `invokeExact returned ${showValue(results)}`);
      return results as ExactValue[];
    }
    // A threaded script: the call runs in the group, interleaved with the other script threads.
    machine.beginExact(a.field, args);
    if (!ctx.inGroup) {
      group.add(machine); // any machine of the context's store stands for its one thread
      ctx.inGroup = true;
    }
    yield { kind: 'invocation', thread: machine.thread };
    if (ctx.error !== undefined) {
      const err = ctx.error;
      ctx.error = undefined;
      throw err;
    }
    return machine.resultsExact() as unknown as ExactValue[];
  }

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

  const moduleTrap = (ctx: Context, m: ModuleSource, message: string): void => {
    try {
      instantiate(ctx, m);
    } catch (err) {
      if (err instanceof Skip) throw err;
      expectTrap(err, message, false);
      return;
    }
    throw new Failure('missing-trap', `Trap "${message}" during instantiation`, 'instantiated without error');
  };

  const contexts: Context[] = [];

  const handlers: { [K in CommandKind]: (ctx: Context, c: Extract<Command, { kind: K }>) => Steps<void> } = {
    *module(ctx, c) {
      const name = c.module.name;
      if (name) ctx.named.delete(name);
      ctx.current = undefined;
      try {
        const m = instantiate(ctx, c.module);
        ctx.current = m;
        ctx.currentFailed = undefined;
        if (name) ctx.named.set(name, m);
      } catch (err) {
        const why = `module at line ${c.line} failed: ${err instanceof Skip ? err.reason : describeError(err)}`;
        ctx.currentFailed = why;
        if (name) ctx.namedFailed.set(name, why);
        if (err instanceof Skip) throw err;
        if (err instanceof Failure) throw err;
        throw new Failure('module-failed', 'module instantiates', describeError(err));
      }
    },
    *register(ctx, c) {
      ctx.registry[c.as] = machineFor(ctx, c.module).exports;
    },
    *action(ctx, c) {
      try {
        yield* perform(ctx, c.action);
      } catch (err) {
        throw unexpected(`${actionText(c.action)} completes`, err);
      }
    },
    *assert_return(ctx, c) {
      const expected = c.expected.map(expectation);
      const want = `[${expected.map(showExpected).join(', ')}]`;
      let got: ExactValue[];
      try {
        got = yield* perform(ctx, c.action);
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
    *assert_trap(ctx, c) {
      let got: ExactValue[];
      try {
        got = yield* perform(ctx, c.action);
      } catch (err) {
        expectTrap(err, c.message, false);
        return;
      }
      throw new Failure('missing-trap', `Trap "${c.message}"`, `returned [${got.map(showValue).join(', ')}]`);
    },
    *assert_exhaustion(ctx, c) {
      let got: ExactValue[];
      try {
        got = yield* perform(ctx, c.action);
      } catch (err) {
        expectTrap(err, c.message, true);
        return;
      }
      throw new Failure('missing-trap', `ExhaustionError "${c.message}"`, `returned [${got.map(showValue).join(', ')}]`);
    },
    *assert_malformed(_ctx, c) {
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
    *assert_invalid(_ctx, c) {
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
    *assert_unlinkable(ctx, c) {
      const want = `LinkError ("${c.message}")`;
      try {
        instantiate(ctx, c.module);
      } catch (err) {
        if (err instanceof Skip) throw err;
        if (err instanceof LinkError) return;
        throw unexpected(want, err);
      }
      throw new Failure('missing-link-error', want, 'instantiated without error');
    },
    *assert_uninstantiable(ctx, c) {
      moduleTrap(ctx, c.module, c.message);
    },
    *assert_trap_module(ctx, c) {
      moduleTrap(ctx, c.module, c.message);
    },
    *thread(ctx, c) {
      // The new thread sees only the modules named in `shared`, under the same names.
      const shared = new Map<string, Machine>();
      for (const name of c.shared) shared.set(name, machineFor(ctx, name));
      const child = newContext(shared);
      child.gen = runCommands(child, c.commands);
      ctx.children.set(c.name, child);
      contexts.push(child);
    },
    *wait(ctx, c) {
      const child = ctx.children.get(c.thread);
      if (child === undefined) throw new Failure('no-thread', `thread ${c.thread}`, `no thread ${c.thread} was started here`);
      yield { kind: 'join', ctx: child };
    },
  };

  function* runCommands(ctx: Context, commands: Command[]): Steps<void> {
    for (const c of commands) {
      const r: CommandResult = { line: c.line, kind: c.kind, status: 'pass' };
      try {
        yield* (handlers[c.kind] as (ctx: Context, c: Command) => Steps<void>)(ctx, c);
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
  }

  const main = newContext(new Map());
  main.gen = runCommands(main, script.commands);
  contexts.push(main);
  drive(contexts, group);
  return { file: script.file, results, wabtFailures };
}

/**
 * Runs the script threads to their ends: each goes on until its invocation must run in the
 * group or it joins another; the group then runs the invocations interleaved. A thread trap
 * goes back to the script thread whose invocation it was; a deadlock fails every blocked one.
 */
function drive(contexts: Context[], group: ThreadGroup | null): void {
  const resume = (c: Context): void => {
    // A join that can never complete fails the `wait` command (an invocation's error is read by perform).
    const error = c.blocker?.kind === 'join' ? c.error : undefined;
    if (error !== undefined) c.error = undefined;
    c.started = true;
    c.blocker = undefined;
    const r = error !== undefined ? c.gen!.throw(error) : c.gen!.next();
    if (r.done) c.finished = true;
    else c.blocker = r.value;
  };
  const ready = (c: Context): boolean => {
    if (c.finished) return false;
    if (!c.started) return true;
    const b = c.blocker!;
    if (b.kind === 'join') return b.ctx.finished || c.error !== undefined;
    return c.error !== undefined || b.thread.status === 'done' || b.thread.status === 'trapped';
  };
  for (;;) {
    let progressed = false;
    for (let i = 0; i < contexts.length; i++) {
      const c = contexts[i];
      if (ready(c)) {
        progressed = true;
        resume(c);
      }
    }
    if (contexts.every((c) => c.finished)) return;
    if (progressed) continue;
    const running = contexts.some((c) => !c.finished && c.blocker?.kind === 'invocation');
    if (group !== null && running && group.instructionCount < MAX_SCRIPT_INSTRUCTIONS) {
      try {
        group.step(1_000_000);
      } catch (err) {
        const owner = contexts.find((c) => c.blocker?.kind === 'invocation' && c.blocker.thread.status === 'trapped' && c.error === undefined);
        if (owner && !(err instanceof DeadlockError)) owner.error = err;
        else failBlocked(contexts, err);
      }
      continue;
    }
    // Nothing can go on: joins on threads that are stuck, or a runaway thread.
    failBlocked(contexts, new WasmError(running ? `the threads ran ${MAX_SCRIPT_INSTRUCTIONS} instructions without finishing` : 'every script thread waits for another'));
  }
}

/**
 * Ends every blocked invocation with `err` (it fails that command), taking waiting threads out
 * of their queues; when only joins are blocked (on threads that are themselves stuck), fails those.
 */
function failBlocked(contexts: Context[], err: unknown): void {
  const blocked = contexts.filter((c) => !c.finished && c.blocker !== undefined);
  const invocations = blocked.filter((c) => c.blocker!.kind === 'invocation');
  for (const c of invocations.length > 0 ? invocations : blocked) {
    const b = c.blocker!;
    if (b.kind === 'invocation') {
      const t = b.thread;
      const q = t.waitMemory?.waiters;
      if (q && q.includes(t)) q.splice(q.indexOf(t), 1);
      t.waitMemory = null;
      t.status = 'trapped';
    }
    c.error = err;
  }
}

/** `file:line: kind [failKind]: expected X, got Y` for one failure. */
export function formatFailure(file: string, r: CommandResult): string {
  return `${file}:${r.line}: ${r.kind} [${r.failKind}]\n    expected: ${r.expected}\n    got:      ${r.got}`;
}
