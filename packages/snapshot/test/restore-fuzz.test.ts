/**
 * Checksummed snapshots with crafted bodies, restored and run as the CLI would (bounds from
 * the module, WASI state checked, machine state checked, then run). The bodies are of real
 * programs taken mid-run: pages.wasm and features.wasm (machine only) and the wasi-journal
 * example (machine and WASI state, over the in-memory host). One CBOR field is altered per
 * case (a value nudged or replaced, a field or list element dropped, a field retyped, a byte string cut or grown,
 * a word of the stack, frames, globals or a table changed) and every checksum recomputed.
 *
 * Every case must end in one of:
 * - refused: a project error class (SnapshotError, WasmError, WasiRestoreError);
 * - same: runs to the end with the original's results and output;
 * - different: for a change of a value only (a number for a number, a word of the stack, an
 *   element fewer in a list, a list for a list):
 *   such a state can be a valid other state, so it may run to another end, trap with a
 *   Trap, or use up its instruction budget; never with any other exception.
 * A change of shape (a field dropped or retyped, a byte string resized, a version) must be
 * refused or run the same. No case may allocate beyond the module's limits (checked on every
 * restored machine), run past its budget (no hang), or reach a host path outside the granted
 * preopen (the in-memory host is wrapped to fail the test on any such path).
 *
 * Seeded; RESTORE_FUZZ_CASES scales the run (default 1000), RESTORE_FUZZ_SEED changes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_LIMITS, Machine, Trap, WasmError, entityTypes } from '@mvvm/interpreter';
import { MemoryFs, OutputSink, WASI, WasiRestoreError, WasiThreads, checkState, memoryHost } from '@mvvm/wasi';
import { SnapshotError, checkpoint, loadChain, moduleHash, restoreGroup, restoreMachine, snapshotBounds } from '@mvvm/snapshot';
import { prodCons, threadProgram } from '../../wasi/test/threads/programs';
import { decodeHeader } from '../src/header';
import { bodySlots, plainOf, reseal, rng, treeOf } from './helpers';

const CASES = Number(process.env.RESTORE_FUZZ_CASES ?? 1000);
const SEED = Number(process.env.RESTORE_FUZZ_SEED ?? 0x7e57ab1e);
const root = join(__dirname, '../../..');

interface Program {
  name: string;
  wasm: Uint8Array;
  /** The snapshot, uncompressed (bodies are rewritten anyway). */
  snapshot: Uint8Array;
  /** For WASI: the file system at the moment of the snapshot, and stdout so far. */
  fs?: MemoryFs;
  stdoutSoFar?: string;
  /** What the uninterrupted run ends with. */
  expected: string;
  /** Instructions the original needs after the snapshot. */
  remaining: number;
  /** A wasi-threads program: the snapshot is of its thread group (format version 3). */
  threads?: boolean;
}

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

async function plainProgram(name: string, file: string, arg: number, fraction: number): Promise<Program> {
  const wasm = new Uint8Array(readFileSync(join(root, file)));
  const ref = await Machine.instantiate(wasm);
  ref.begin('run', [arg]);
  const expected = show(ref.step(Infinity).results);
  const total = ref.instructionCount;
  const m = await Machine.instantiate(wasm);
  m.begin('run', [arg]);
  m.step(Math.floor(total * fraction));
  const snapshot = (await checkpoint(m, { moduleHash: await moduleHash(wasm) })).bytes;
  return { name, wasm, snapshot, expected, remaining: total - m.instructionCount };
}

const JOURNAL_ARGS = ['journal', '6'];

function journalWasi(fs: MemoryFs, out: OutputSink): WASI {
  return new WASI({ args: JOURNAL_ARGS, preopens: { '/data': '/root/data' }, host: memoryHost(fs), stdout: out, stderr: new OutputSink() });
}

const journalOutcome = (code: number, stdout: string, fs: MemoryFs) => show({ code, stdout, journal: new TextDecoder().decode(fs.readFile('/root/data/journal.txt')) });

async function journalProgram(fraction: number): Promise<Program> {
  const wasm = new Uint8Array(readFileSync(join(root, 'examples/wasi-journal/journal.wasm')));
  const fresh = () => {
    const fs = new MemoryFs();
    fs.mkdirp('/root/data');
    return fs;
  };
  const refFs = fresh();
  const refOut = new OutputSink();
  const refWasi = journalWasi(refFs, refOut);
  const ref = await Machine.instantiate(wasm, refWasi.getImports());
  const code = await refWasi.start(ref);
  const expected = journalOutcome(code, refOut.text(), refFs);
  const total = ref.instructionCount;

  const fs = fresh();
  const out = new OutputSink();
  const wasi = journalWasi(fs, out);
  const m = await Machine.instantiate(wasm, wasi.getImports());
  m.begin('_start', []);
  m.step(Math.floor(total * fraction));
  const snapshot = (await checkpoint(m, { moduleHash: await moduleHash(wasm), wasi: wasi.state() })).bytes;
  return { name: 'journal', wasm, snapshot, fs: fs.clone(), stdoutSoFar: out.text(), expected, remaining: total - m.instructionCount };
}

/** The producer/consumer wasi-threads program (5 threads, some waiting) at `fraction` of its run. */
async function threadsProgram(fraction: number): Promise<Program> {
  const c = prodCons(2, 2, 60, 1);
  const wasm = threadProgram(c.name);
  const ref = await WasiThreads.start(Machine.compile(wasm), new WASI({ args: [c.name, ...c.args] }), { quantum: 200 });
  const code = await ref.run();
  const expected = show({ code, stdout: c.expected });
  const total = ref.instructionCount;
  const out = new OutputSink();
  const wasi = new WASI({ args: [c.name, ...c.args], stdout: out, stderr: new OutputSink() });
  const program = await WasiThreads.start(Machine.compile(wasm), wasi, { quantum: 200 });
  program.step(Math.floor(total * fraction));
  expect(program.group.threads.filter((t) => t.machine.thread.status === 'waiting').length).toBeGreaterThan(0);
  const snapshot = (await checkpoint(program.group, { moduleHash: await moduleHash(wasm), wasi: wasi.state() })).bytes;
  return { name: 'threads', wasm, snapshot, stdoutSoFar: out.text(), expected, remaining: total - program.instructionCount, threads: true };
}

/** Restores as `mvvm restore` does and runs within a budget; returns the outcome's text or 'budget'. */
async function restoreAndRun(p: Program, bytes: Uint8Array, budget: number): Promise<string> {
  const resolved = await loadChain([bytes], { bounds: await snapshotBounds(p.wasm) });
  if (p.threads) {
    const out = new OutputSink();
    const wasi = WASI.restore(checkState(resolved.wasi), { stdout: out, stderr: new OutputSink() });
    const program = await restoreGroup(p.wasm, resolved, (g) => WasiThreads.restore(p.wasm, g, wasi));
    for (const t of program.group.threads) checkAllocation(p, t.machine);
    const limit = program.instructionCount + budget;
    while (program.outcome === null && program.instructionCount <= limit) {
      const { until } = program.step(50_000);
      if (until) await until;
    }
    if (program.outcome === null) return 'budget';
    if ('trap' in program.outcome) throw program.outcome.trap;
    return show({ code: program.outcome.exitCode, stdout: p.stdoutSoFar + out.text() });
  }
  if (!p.fs) {
    const m = await restoreMachine(p.wasm, resolved);
    checkAllocation(p, m);
    const r = m.step(budget);
    if (!r.done) return 'budget';
    return show(r.results);
  }
  const fs = p.fs.clone();
  const out = new OutputSink();
  const wasi = WASI.restore(checkState(resolved.wasi), { preopens: { '/data': '/root/data' }, host: memoryHost(insidePreopen(fs)), stdout: out, stderr: new OutputSink() });
  try {
    const m = await restoreMachine(p.wasm, resolved, wasi.getImports());
    checkAllocation(p, m);
    const limit = m.instructionCount + budget;
    let stopped = false;
    const code = await wasi.start(m, { sliceInstructions: 50_000, onSlice: (mm) => !(stopped = mm.instructionCount > limit) });
    if (stopped) return 'budget';
    let journal: string;
    try {
      journal = new TextDecoder().decode(fs.readFile('/root/data/journal.txt'));
    } catch {
      journal = '(none)';
    }
    return show({ code, stdout: p.stdoutSoFar + out.text(), journal });
  } finally {
    wasi.close();
  }
}

/** Host paths outside the granted preopen that a case reached (the WASI layer may turn the spy's error into a refusal). */
const escapes: string[] = [];

/** `fs`, refusing and recording in `escapes` every host path outside the granted preopen /root/data. */
function insidePreopen(fs: MemoryFs): MemoryFs {
  const spy = Object.create(fs) as MemoryFs;
  for (const op of ['lstat', 'open', 'readdir', 'readlink', 'mkdir', 'rmdir', 'unlink', 'symlink', 'utimes'] as const) {
    spy[op] = ((path: string, ...rest: unknown[]) => {
      if (path !== '/root/data' && !path.startsWith('/root/data/')) throw new Error(`host path outside the preopen: ${escapes[escapes.push(`${op} ${path}`) - 1]}`);
      return (fs[op] as (...a: unknown[]) => unknown).call(fs, path, ...rest);
    }) as never;
  }
  for (const op of ['rename', 'link'] as const) {
    spy[op] = ((a: string, b: string) => {
      for (const path of [a, b]) if (!path.startsWith('/root/data/')) throw new Error(`host path outside the preopen: ${escapes[escapes.push(`${op} ${path}`) - 1]}`);
      return fs[op](a, b);
    }) as never;
  }
  return spy;
}

/** The restored machine holds no more than its module allows. */
function checkAllocation(p: Program, m: Machine): void {
  const types = entityTypes(m.instance.compiled.module);
  m.store.memories.forEach((mem, i) => {
    const { min, max } = types.memories[i].limits;
    if (mem.pages < min || mem.pages > (max ?? 65536) || mem.buffer.byteLength > (max ?? 65536) * 65536) throw new Error(`${p.name}: memory ${i} restored with ${mem.pages} pages`);
  });
  m.store.tables.forEach((t, i) => {
    if (t.size > (types.tables[i].limits.max ?? 10_000_000)) throw new Error(`${p.name}: table ${i} restored with ${t.size} entries`);
  });
  if (m.thread.stackWords / 2 > MAX_LIMITS.stackSlots || m.thread.maxCallDepth > MAX_LIMITS.maxCallDepth) throw new Error(`${p.name}: limits beyond the ceiling`);
}

// ---- mutation ----

const WEIRD: unknown[] = [-1, 0, 1, 2, 3, 7, 255, 2 ** 16, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, -(2 ** 31) - 1, 2 ** 53, 1e300, 0.5, NaN, Infinity, '', 'x', '..', '/etc/passwd', 'running', 'done', 'suspended', null, true, [], {}, [0], new Uint8Array(3), new Uint8Array(8), new Uint8Array(65536)];
const WORDS = [0, 1, -1, 2, 3, 4, 7, 8, 16, 100, 1000, 65536, 0x7fffffff, -0x80000000, 12345678];

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : ArrayBuffer.isView(v) ? 'bytes' : typeof v);

interface Mutation {
  body: Uint8Array;
  /** A value changed for another of its kind: the result may be a valid other state. */
  valueOnly: boolean;
  what: string;
}

function mutate(plain: Uint8Array, headerLength: number, random: () => number): Mutation {
  const tree = treeOf(plain, headerLength);
  const encode = () => plainOf(tree, headerLength);
  const all = bodySlots(tree);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const words = all.filter((s) => ArrayBuffer.isView(s.get()) && (s.get() as Uint8Array).length >= 4 && !s.path.includes('.data.'));
  if (random() < 0.4 && words.length > 0) {
    // A word of a byte string (stack, frames, globals, table elements, page lists).
    const slot = pick(words);
    const old = slot.get() as Uint8Array;
    const copy = new Uint8Array(old);
    const dv = new DataView(copy.buffer);
    const at = 4 * Math.floor(random() * (copy.length / 4));
    const value = random() < 0.5 ? dv.getInt32(at, true) + (random() < 0.5 ? 1 : -1) * (1 + Math.floor(random() * 3)) : pick(WORDS);
    dv.setInt32(at, value | 0, true);
    slot.set(copy);
    return { body: encode(), valueOnly: true, what: `${slot.path}[${at / 4}] = ${value | 0}` };
  }
  const slot = pick(all);
  const old = slot.get();
  const r = random();
  let valueOnly = false;
  let what: string;
  if (r < 0.15) {
    slot.drop();
    valueOnly = slot.inList; // a list one shorter (an fd fewer, an arg fewer) may be a valid state; a missing field is not
    what = `drop ${slot.path}`;
  } else if (r < 0.35 && typeof old === 'number') {
    slot.set(old + (random() < 0.5 ? 1 : -1) * (1 + Math.floor(random() * 4)));
    valueOnly = true;
    what = `nudge ${slot.path}`;
  } else if (r < 0.5 && ArrayBuffer.isView(old)) {
    const b = old as Uint8Array;
    const grow = random() < 0.3;
    slot.set(grow ? Uint8Array.from([...b, ...new Uint8Array(4 * (1 + Math.floor(random() * 3)))]) : b.subarray(0, Math.floor(random() * b.length)));
    what = `${grow ? 'grow' : 'cut'} ${slot.path}`;
  } else {
    const v = pick(WEIRD);
    slot.set(v);
    // A number for a number, a string for a string, a list for a list (an fd table emptied),
    // bytes for as many bytes: the shape is kept and the state may be a valid other one.
    const kind = kindOf(v);
    valueOnly = kind === kindOf(old) && (kind === 'bytes' ? (v as Uint8Array).length === (old as Uint8Array).length : kind !== 'object');
    what = `${slot.path} = ${show(v)?.slice(0, 40)}`;
  }
  // The versions and the module's identity are not values of a state.
  if (/\.(version|translatorVersion|moduleFingerprint)$/.test(slot.path) && slot.path.startsWith('.machine')) valueOnly = false;
  return { body: encode(), valueOnly, what };
}

const isProjectError = (e: unknown) => e instanceof SnapshotError || e instanceof WasmError || e instanceof WasiRestoreError;

test(`${CASES} crafted, checksummed snapshot bodies: refused, or run the same (or, for a changed value, end cleanly)`, async () => {
  const programs = [
    await plainProgram('pages', 'packages/snapshot/test/programs/pages.wasm', 2, 0.97),
    await plainProgram('features', 'packages/interpreter/test/programs/features.wasm', 40, 0.6),
    await journalProgram(0.7),
    await threadsProgram(0.5),
  ];
  // The unaltered snapshots run exactly as the originals.
  for (const p of programs) expect(await restoreAndRun(p, p.snapshot, 4 * p.remaining + 1_000_000)).toBe(p.expected);

  const random = rng(SEED);
  const counts: Record<string, number> = {};
  const refusedBy: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const p = programs[i % programs.length];
    const { header, length } = decodeHeader(p.snapshot);
    const m = mutate(p.snapshot.subarray(length, length + header.storedLength), length, random);
    const bytes = await reseal(p.snapshot, m.body);
    let outcome: string;
    try {
      const result = await restoreAndRun(p, bytes, 4 * p.remaining + 1_000_000);
      outcome = result === p.expected ? 'same' : result === 'budget' ? 'budget' : 'different';
    } catch (e) {
      if (!isProjectError(e)) throw new Error(`case ${i} (${p.name}, ${m.what}): ${(e as Error)?.stack ?? String(e)}`);
      // A trap after a restore is the run's own end, not a refusal.
      const trap = e instanceof Trap;
      outcome = trap ? 'trapped' : 'refused';
      if (!trap) refusedBy[(e as Error).constructor.name] = (refusedBy[(e as Error).constructor.name] ?? 0) + 1;
    }
    if (escapes.length > 0) throw new Error(`case ${i} (${p.name}, ${m.what}): reached ${escapes.join(', ')}`);
    if (!m.valueOnly && outcome !== 'refused' && outcome !== 'same') {
      throw new Error(`case ${i} (${p.name}, ${m.what}): a change of shape was ${outcome}, not refused`);
    }
    const key = `${m.valueOnly ? 'value' : 'shape'}:${outcome}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (process.env.RESTORE_FUZZ_PROGRESS && (i + 1) % 2000 === 0) process.stderr.write(`${i + 1} cases, ${Date.now() - started} ms: ${show(counts)}\n`);
  }
  console.log(`restore fuzz, ${CASES} cases, seed ${SEED}: ${show(counts)}; refused by ${show(refusedBy)}; ${Date.now() - started} ms`);
  expect((counts['shape:refused'] ?? 0) + (counts['value:refused'] ?? 0)).toBeGreaterThan(CASES / 4);
  expect((counts['shape:same'] ?? 0) + (counts['value:same'] ?? 0)).toBeGreaterThan(0);
}, Math.max(600_000, CASES * 100));
