/**
 * Developer check (not part of the test suite: it needs Debian's `wast2json`): decodes and
 * validates (module level only) every binary module of the spec test suite's non-SIMD
 * .wast files and compares the outcome with what the test expects.
 *
 *   npx tsx packages/interpreter/scripts/check-decoder.ts [testsuite-dir] [-v]
 *
 * Modules that the tests expect to be malformed or invalid because of a function body's
 * instructions legitimately pass here (function bodies are the code validator's job). To
 * tell those from real misses, each such module is rebuilt with every body replaced by
 * `unreachable` and given to wabt's `wasm-validate`: if wabt accepts the rebuilt module,
 * the problem was inside a body. Listed with -v.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { decodeModule } from '../src/binary/decoder';
import { MalformedError, ValidationError } from '../src/errors';
import { validateModule } from '../src/validation/module';

const args = process.argv.slice(2);
const verbose = args.includes('-v');
const suite = args.find((a) => a !== '-v') ?? '/work/shared/wasm-spec-testsuite';

interface Command {
  type: string;
  line: number;
  filename?: string;
  module_type?: string;
  text?: string;
}

type Outcome = { kind: 'ok' } | { kind: 'malformed' | 'invalid' | 'other'; message: string };

function run(bytes: Uint8Array): Outcome {
  try {
    validateModule(decodeModule(bytes));
    return { kind: 'ok' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof MalformedError) return { kind: 'malformed', message };
    if (e instanceof ValidationError) return { kind: 'invalid', message };
    return { kind: 'other', message };
  }
}

/** Our messages carry " (at byte 0x..)"; the spec's harness compares message prefixes. */
function messageMatches(actual: string, expected: string): boolean {
  const bare = actual.replace(/ \(at byte 0x[0-9a-f]+\)$/, '').replace(/^in function \d+: /, '');
  return bare.startsWith(expected) || expected.startsWith(bare);
}

/** The module with each function body replaced by `unreachable` (no locals). */
function withTrivialBodies(bytes: Uint8Array): Uint8Array {
  const m = decodeModule(bytes);
  const out: number[] = Array.from(bytes.subarray(0, 8));
  let pos = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) return result;
    }
  };
  const leb = (n: number): number[] => {
    const r: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      r.push(b);
    } while (n);
    return r;
  };
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++];
    const size = u32();
    const end = pos + size;
    if (id === 10) {
      const body: number[] = [...leb(m.codes.length)];
      for (let i = 0; i < m.codes.length; i++) body.push(3, 0, 0x00, 0x0b);
      out.push(10, ...leb(body.length), ...body);
    } else {
      out.push(...bytes.subarray(start, end));
    }
    pos = end;
  }
  return new Uint8Array(out);
}

function wabtAccepts(bytes: Uint8Array, dir: string): boolean {
  const file = join(dir, 'trivial-bodies.wasm');
  writeFileSync(file, withTrivialBodies(bytes));
  try {
    execFileSync('wasm-validate', [file], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const counts = {
  module: { total: 0, ok: 0 },
  malformed: { total: 0, ok: 0, messageMismatch: 0, passedBodyProblem: 0, passedMissed: 0, wrongClass: 0 },
  invalid: { total: 0, ok: 0, messageMismatch: 0, passedBodyProblem: 0, passedMissed: 0, wrongClass: 0 },
};
const problems: string[] = [];
const passedThrough: string[] = [];
const mismatches: string[] = [];

const tmp = mkdtempSync(join(tmpdir(), 'check-decoder-'));
try {
  for (const file of readdirSync(suite).filter((f) => f.endsWith('.wast') && !f.startsWith('simd_')).sort()) {
    const base = file.replace(/\.wast$/, '');
    const dir = join(tmp, base);
    const json = join(dir, `${base}.json`);
    execFileSync('mkdir', ['-p', dir]);
    try {
      execFileSync('wast2json', ['--enable-all', join(suite, file), '-o', json], { stdio: 'pipe' });
    } catch {
      problems.push(`${file}: wast2json failed`);
      continue;
    }
    const commands: Command[] = JSON.parse(readFileSync(json, 'utf8')).commands;
    for (const cmd of commands) {
      if (!cmd.filename || (cmd.module_type !== undefined && cmd.module_type !== 'binary')) continue;
      const where = `${file}:${cmd.line}`;
      const bytes = new Uint8Array(readFileSync(join(dir, cmd.filename)));
      const outcome = run(bytes);
      const describe = outcome.kind === 'ok' ? 'ok' : `${outcome.kind}: ${outcome.message}`;
      switch (cmd.type) {
        case 'module':
        case 'assert_unlinkable':
        case 'assert_uninstantiable':
        case 'assert_trap': // a module in assert_trap fails at instantiation, not before
          counts.module.total++;
          if (outcome.kind === 'ok') counts.module.ok++;
          else problems.push(`${where} ${cmd.type} expected to decode and validate, got ${describe}`);
          break;
        case 'assert_malformed':
        case 'assert_invalid': {
          const key = cmd.type === 'assert_malformed' ? 'malformed' : 'invalid';
          const c = counts[key];
          c.total++;
          if (outcome.kind === 'ok') {
            if (wabtAccepts(bytes, dir)) {
              c.passedBodyProblem++;
              passedThrough.push(`${where} ${cmd.type} "${cmd.text}" passed (problem inside a function body)`);
            } else {
              c.passedMissed++;
              problems.push(`${where} ${cmd.type} "${cmd.text}" passed, but not a function body problem`);
            }
          } else if (outcome.kind === key) {
            c.ok++;
            if (!messageMatches(outcome.message, cmd.text ?? '')) {
              c.messageMismatch++;
              mismatches.push(`${where} expected "${cmd.text}", got "${outcome.message}"`);
            }
          } else {
            c.wrongClass++;
            problems.push(`${where} ${cmd.type} "${cmd.text}": got ${describe}`);
          }
          break;
        }
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

console.log(JSON.stringify(counts, null, 2));
if (problems.length) console.log(`\nPROBLEMS (${problems.length}):\n` + problems.join('\n'));
if (mismatches.length) console.log(`\nMESSAGE MISMATCHES (${mismatches.length}):\n` + mismatches.join('\n'));
if (verbose && passedThrough.length) console.log(`\nPASSED THROUGH (${passedThrough.length}):\n` + passedThrough.join('\n'));
process.exitCode = problems.length ? 1 : 0;
