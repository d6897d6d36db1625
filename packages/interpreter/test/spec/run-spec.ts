/**
 * Spec conformance runner CLI.
 *
 *   npm run spec                      the 90 non-SIMD scripts
 *   npm run spec -- --all             all scripts, SIMD included
 *   npm run spec -- i32 br_table      only these scripts (".wast" optional)
 *   npm run spec -- -v                print every failure with file:line, expected and got
 *   npm run spec -- --json            last line: {"files","commands","passed","failed","skipped"}
 *   npm run spec -- --parse-only      read and convert the scripts only; print command counts
 *   npm run spec -- --deterministic   every module in deterministic-NaN mode (canonical NaNs)
 *   npm run spec -- --tier=eager      the JS tier on every function (Machine option `tier`)
 *   npm run spec -- --threads         the threads proposal's scripts instead (thread/wait/either
 *                                     commands, shared memories, atomics), from
 *                                     $WASM_THREADS_TESTSUITE or ../shared/wasm-threads-testsuite
 *
 * The suite is read from $WASM_SPEC_TESTSUITE or ../shared/wasm-spec-testsuite (relative to the
 * repository root). Exit code 1 when any command failed (or the suite is missing).
 */
import { readFileSync } from 'fs';
import type { Tier } from '@mvvm/interpreter';
import type { CommandResult, ScriptResult } from './runner';
import { isSimdScript, listScripts, listThreadsScripts, scriptPath, suiteDir, suiteMissingMessage, threadsSuiteDir, threadsSuiteMissingMessage } from './suite';
import { CommandKind, allCommands, loadScript, Script, Wabt, loadWabt } from './wast';

interface Options {
  all: boolean;
  verbose: boolean;
  json: boolean;
  parseOnly: boolean;
  deterministic: boolean;
  threads: boolean;
  tier?: Tier;
  names: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { all: false, verbose: false, json: false, parseOnly: false, deterministic: false, threads: false, names: [] };
  for (const a of argv) {
    if (a === '--all') o.all = true;
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '--json') o.json = true;
    else if (a === '--parse-only') o.parseOnly = true;
    else if (a === '--deterministic') o.deterministic = true;
    else if (a === '--threads') o.threads = true;
    else if (a.startsWith('--tier=')) o.tier = a.slice(7) as Tier;
    else if (a === '-h' || a === '--help') {
      console.log('usage: run-spec [--all | --threads] [-v] [--json] [--parse-only] [--deterministic] [--tier=auto|interpreter|eager] [script ...]');
      process.exit(0);
    } else if (a.startsWith('-')) {
      console.error(`unknown option ${a}`);
      process.exit(2);
    } else o.names.push(a.replace(/\.wast$/, '') + '.wast');
  }
  return o;
}

const KINDS: CommandKind[] = [
  'module',
  'register',
  'action',
  'assert_return',
  'assert_trap',
  'assert_trap_module',
  'assert_exhaustion',
  'assert_invalid',
  'assert_malformed',
  'assert_unlinkable',
  'assert_uninstantiable',
  'thread',
  'wait',
];

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  return left ? t.padEnd(n) : t.padStart(n);
}

function loadAll(wabt: Wabt, dir: string, files: string[], threads: boolean): { file: string; script?: Script; error?: string; ms: number }[] {
  return files.map((file) => {
    const t0 = Date.now();
    try {
      const script = loadScript(wabt, readFileSync(scriptPath(dir, file), 'utf8'), file, { threads });
      return { file, script, ms: Date.now() - t0 };
    } catch (err) {
      return { file, error: err instanceof Error ? err.message : String(err), ms: Date.now() - t0 };
    }
  });
}

function parseOnlyReport(loaded: ReturnType<typeof loadAll>, json: boolean): number {
  const totals: Record<string, number> = {};
  let total = 0;
  let quote = 0;
  let binary = 0;
  let errors = 0;
  const wabtFailures: string[] = [];
  const badLiterals: string[] = [];
  const short: Record<string, string> = {
    module: 'mod',
    register: 'reg',
    action: 'act',
    assert_return: 'return',
    assert_trap: 'trap',
    assert_trap_module: 'trapmod',
    assert_exhaustion: 'exh',
    assert_invalid: 'invalid',
    assert_malformed: 'malf',
    assert_unlinkable: 'unlink',
    assert_uninstantiable: 'uninst',
    thread: 'thread',
    wait: 'wait',
  };
  console.log(pad('script', 34, true) + pad('cmds', 7) + KINDS.map((k) => pad(short[k], 8)).join('') + pad('ms', 7));
  for (const l of loaded) {
    if (!l.script) {
      errors++;
      console.log(`${pad(l.file, 34, true)} PARSE ERROR: ${l.error}`);
      continue;
    }
    const counts: Record<string, number> = {};
    for (const c of allCommands(l.script.commands)) {
      counts[c.kind] = (counts[c.kind] ?? 0) + 1;
      totals[c.kind] = (totals[c.kind] ?? 0) + 1;
      if ('module' in c && typeof c.module === 'object') {
        if (c.module.form === 'quote') quote++;
        if (c.module.form === 'binary') binary++;
        if (c.module.wabtError) wabtFailures.push(`${l.file}:${c.module.line}: ${c.module.wabtError}`);
      }
    }
    for (const lit of l.script.literals) if (lit.error) badLiterals.push(`${l.file}:${lit.line}: ${lit.error}`);
    const n = allCommands(l.script.commands).length;
    total += n;
    console.log(pad(l.file, 34, true) + pad(n, 7) + KINDS.map((k) => pad(counts[k] ?? 0, 8)).join('') + pad(l.ms, 7));
  }
  console.log(pad('TOTAL', 34, true) + pad(total, 7) + KINDS.map((k) => pad(totals[k] ?? 0, 8)).join(''));
  console.log(`\n${loaded.length} scripts, ${total} commands; modules written as binary: ${binary}, as quote: ${quote}`);
  console.log(`scripts that failed to parse: ${errors}`);
  console.log(`modules wabt.js could not convert: ${wabtFailures.length}`);
  for (const w of wabtFailures) console.log(`  ${w}`);
  console.log(`literals wabt.js could not parse: ${badLiterals.length}`);
  for (const b of badLiterals) console.log(`  ${b}`);
  if (json) console.log(JSON.stringify({ files: loaded.length, commands: total, ...totals }));
  return errors > 0 || badLiterals.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const dir = opts.threads ? threadsSuiteDir() : suiteDir();
  const available = opts.threads ? listThreadsScripts(dir) : listScripts(dir, true);
  if (available.length === 0) {
    console.error(opts.threads ? threadsSuiteMissingMessage(dir) : suiteMissingMessage(dir));
    if (opts.json) console.log(JSON.stringify({ files: 0, commands: 0, passed: 0, failed: 0, skipped: 0, error: 'testsuite missing' }));
    return 1;
  }
  let files: string[];
  if (opts.names.length > 0) {
    // A name is a path relative to the suite, or a file name when only one script has it.
    const find = (n: string) => (available.includes(n) ? n : available.filter((f) => f.replace(/^.*[\\/]/, '') === n.replace(/^.*[\\/]/, '')));
    const found = opts.names.map(find);
    const missing = opts.names.filter((n, i) => (Array.isArray(found[i]) ? (found[i] as string[]).length !== 1 : false));
    if (missing.length > 0) {
      console.error(`no such script (or more than one) in ${dir}: ${missing.join(', ')}`);
      return 2;
    }
    files = found.map((f) => (Array.isArray(f) ? f[0] : f));
  } else {
    files = available.filter((f) => opts.all || !isSimdScript(f));
  }

  const t0 = Date.now();
  const wabt = await loadWabt();
  const loaded = loadAll(wabt, dir, files, opts.threads);
  const tLoad = Date.now() - t0;
  if (opts.parseOnly) {
    const rc = parseOnlyReport(loaded, opts.json);
    console.error(`(read + converted in ${tLoad} ms)`);
    return rc;
  }

  const { runScript, formatFailure } = await import('./runner');
  const results: ScriptResult[] = [];
  const times: number[] = [];
  for (const l of loaded) {
    const t = Date.now();
    if (!l.script) {
      results.push({
        file: l.file,
        results: [{ line: 0, kind: 'module', status: 'fail', failKind: 'script-parse-error', expected: 'a readable script', got: l.error }],
        wabtFailures: [],
      });
    } else {
      try {
        results.push(runScript(l.script, { deterministic: opts.deterministic, tier: opts.tier, threads: opts.threads }));
      } catch (err) {
        // Should not happen (commands catch their own errors), but never crash the whole run.
        results.push({
          file: l.file,
          results: [{ line: 0, kind: 'module', status: 'fail', failKind: 'runner-crash', expected: 'the script runs', got: String(err) }],
          wabtFailures: [],
        });
      }
    }
    times.push(Date.now() - t + l.ms);
  }

  let commands = 0;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const skipReasons = new Map<string, number>();
  const failKinds = new Map<string, { count: number; first: string }>();
  const otherClass = { malformed: 0, invalid: 0 };
  const wabtFailures: string[] = [];

  console.log(pad('script', 34, true) + pad('commands', 10) + pad('passed', 9) + pad('failed', 9) + pad('skipped', 9) + pad('ms', 8));
  results.forEach((sr, i) => {
    const c = count(sr.results);
    commands += sr.results.length;
    passed += c.pass;
    failed += c.fail;
    skipped += c.skip;
    wabtFailures.push(...sr.wabtFailures);
    console.log(
      pad(sr.file, 34, true) + pad(sr.results.length, 10) + pad(c.pass, 9) + pad(c.fail || '', 9) + pad(c.skip || '', 9) + pad(times[i], 8),
    );
    for (const r of sr.results) {
      if (r.status === 'skip') skipReasons.set(r.skipReason!, (skipReasons.get(r.skipReason!) ?? 0) + 1);
      if (r.status !== 'fail') continue;
      const key = `${r.kind} / ${r.failKind}`;
      const e = failKinds.get(key);
      if (e) e.count++;
      else failKinds.set(key, { count: 1, first: formatFailure(sr.file, r) });
      if (r.otherClass) {
        if (r.kind === 'assert_malformed') otherClass.malformed++;
        else otherClass.invalid++;
      }
    }
  });
  console.log(pad('TOTAL', 34, true) + pad(commands, 10) + pad(passed, 9) + pad(failed, 9) + pad(skipped, 9) + pad(Date.now() - t0, 8));

  if (opts.verbose && failed > 0) {
    console.log('\nFailures:');
    for (const sr of results) for (const r of sr.results) if (r.status === 'fail') console.log(formatFailure(sr.file, r));
  }
  if (failKinds.size > 0) {
    console.log('\nFailure kinds (count, first example):');
    for (const [k, v] of [...failKinds].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${pad(v.count, 6)}  ${k}\n          e.g. ${v.first.replace(/\n/g, '\n          ')}`);
    }
  }
  console.log(
    `\nassert_malformed rejected as invalid (ValidationError): ${otherClass.malformed}; ` +
      `assert_invalid rejected as malformed (MalformedError): ${otherClass.invalid}`,
  );
  if (skipped > 0) {
    console.log('Skipped:');
    for (const [reason, n] of skipReasons) console.log(`  ${pad(n, 6)}  ${reason}`);
  }
  console.log(`Modules wabt.js could not convert: ${wabtFailures.length}`);
  for (const w of wabtFailures) console.log(`  ${w}`);
  console.log(`\n${files.length} scripts, ${commands} commands: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (opts.json) console.log(JSON.stringify({ files: files.length, commands, passed, failed, skipped }));
  return failed > 0 ? 1 : 0;
}

function count(rs: CommandResult[]): Record<'pass' | 'fail' | 'skip', number> {
  const c = { pass: 0, fail: 0, skip: 0 };
  for (const r of rs) c[r.status]++;
  return c;
}

main().then(
  (rc) => {
    process.exitCode = rc;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
