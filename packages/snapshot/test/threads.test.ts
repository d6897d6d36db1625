/**
 * Format version 3: snapshots of a thread group (a wasi-threads program). Every thread's
 * state, the shared memory once (page-wise, so incremental snapshots store only the pages
 * written since), the wait queues and the WASI state go through the bytes and come back; the
 * restored program ends with the uninterrupted output. Bad group parts are refused before
 * anything is built.
 */
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiThreads, checkState } from '@mvvm/wasi';
import {
  FORMAT_VERSION,
  GROUP_FORMAT_VERSION,
  InvalidSnapshotError,
  checkpoint,
  decodeSnapshot,
  loadChain,
  moduleHash,
  restoreGroup,
  restoreMachine,
  snapshotBounds,
} from '@mvvm/snapshot';
import { zlibCodec } from '@mvvm/snapshot/node';
import { prodCons, threadProgram } from '../../wasi/test/threads/programs';
import { PAGES_WASM, plainOf, reseal, treeOf } from './helpers';
import { decodeHeader } from '../src/header';

const c = prodCons(2, 2, 120, 1);
const wasm = threadProgram(c.name);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function started(quantum = 89) {
  const wasi = new WASI({ args: [c.name, ...c.args] });
  return { program: await WasiThreads.start(Machine.compile(wasm), wasi, { quantum }), wasi };
}

async function restoreFrom(links: Uint8Array[]) {
  const resolved = await loadChain(links, { codec: zlibCodec, bounds: await snapshotBounds(wasm) });
  const wasi = WASI.restore(checkState(resolved.wasi));
  const program = await restoreGroup(wasm, resolved, (g) => WasiThreads.restore(wasm, g, wasi));
  return { program, wasi, resolved };
}

let total: number;
beforeAll(async () => {
  const { program, wasi } = await started();
  expect(await program.run()).toBe(0);
  expect(text(wasi.stdout!.bytes())).toBe(c.expected);
  total = program.instructionCount;
});

test('a group snapshot is format version 3 and restores every thread, waiting ones too', async () => {
  const hash = await moduleHash(wasm);
  for (const compress of [false, true]) {
    const { program, wasi } = await started();
    while (program.group.threads.length < 5 || program.group.threads.filter((t) => t.machine.thread.status === 'waiting').length < 2) program.step(97);
    const statuses = program.group.threads.map((t) => t.machine.thread.status);
    const snap = await checkpoint(program.group, { moduleHash: hash, wasi: wasi.state(), compress, codec: zlibCodec });
    expect(snap.header.formatVersion).toBe(GROUP_FORMAT_VERSION);
    const d = await decodeSnapshot(snap.bytes, { codec: zlibCodec });
    expect(d.group!.threads).toHaveLength(5);
    expect(d.machine.memories).toHaveLength(1); // the shared memory, once
    const r = await restoreFrom([snap.bytes]);
    expect(r.program.group.threads.map((t) => t.machine.thread.status)).toEqual(statuses);
    expect(r.resolved.group!.queues[0].length).toBe(statuses.filter((s) => s === 'waiting').length);
    expect(await r.program.run()).toBe(0);
    expect(text(wasi.stdout!.bytes()) + text(r.wasi.stdout!.bytes())).toBe(c.expected);
    expect(r.program.instructionCount).toBe(total);
  }
});

test('incremental group snapshots store the shared pages written since their base and resolve as a chain', async () => {
  const hash = await moduleHash(wasm);
  const { program, wasi } = await started();
  program.step(Math.floor(total / 4));
  const links = [await checkpoint(program.group, { moduleHash: hash, wasi: wasi.state() })];
  for (let k = 2; k <= 3; k++) {
    program.step(Math.floor(total / 4));
    links.push(await checkpoint(program.group, { moduleHash: hash, wasi: wasi.state(), base: links[links.length - 1].id }));
  }
  expect(links[2].bytes.length).toBeLessThan(links[0].bytes.length / 2);
  const r = await restoreFrom(links.map((l) => l.bytes));
  expect(r.program.instructionCount).toBe(program.instructionCount);
  expect(await r.program.run()).toBe(0);
  expect(text(wasi.stdout!.bytes()) + text(r.wasi.stdout!.bytes())).toBe(c.expected);
});

test('a single machine is still written as version 2; each kind refuses the other restore', async () => {
  const m = await Machine.instantiate(PAGES_WASM);
  m.begin('run', [2]);
  m.step(1000);
  const single = await checkpoint(m, { moduleHash: await moduleHash(PAGES_WASM) });
  expect(single.header.formatVersion).toBe(FORMAT_VERSION);
  const singleResolved = await loadChain([single.bytes]);
  await expect(restoreGroup(PAGES_WASM, singleResolved, () => { throw new Error('not called'); })).rejects.toThrow(InvalidSnapshotError);
  const { program, wasi } = await started();
  program.step(10_000);
  const group = await checkpoint(program.group, { moduleHash: await moduleHash(wasm), wasi: wasi.state() });
  await expect(restoreMachine(wasm, await loadChain([group.bytes]))).rejects.toThrow(/thread group/);
});

describe('bad group parts are refused with one line, before anything is built', () => {
  let snap: Uint8Array;
  beforeAll(async () => {
    const { program, wasi } = await started();
    while (program.group.threads.length < 5 || program.group.threads.filter((t) => t.machine.thread.status === 'waiting').length < 2) program.step(97);
    snap = (await checkpoint(program.group, { moduleHash: await moduleHash(wasm), wasi: wasi.state() })).bytes;
  });

  async function edited(edit: (tree: any) => void): Promise<Uint8Array> {
    const { header, length } = decodeHeader(snap);
    const tree = treeOf(snap.subarray(length, length + header.storedLength), length);
    edit(tree);
    return reseal(snap, plainOf(tree, length));
  }

  test.each([
    ['a queue naming a thread that does not exist', (t: any) => t.group.queues[0].push(17), /thread 17/],
    ['a thread queued twice', (t: any) => t.group.queues[0].push(t.group.queues[0][0]), /queued twice/],
    ['a waiting thread in no queue', (t: any) => (t.group.queues[0] = []), /in no queue/],
    ['a thread naming a memory the snapshot lacks', (t: any) => (t.group.threads[1].memories[0].group = 3), /shared memory 3/],
    ['a thread whose memory differs in size', (t: any) => (t.group.threads[2].memories[0].pages += 1), /differs in size/],
    ['more wait queues than memories', (t: any) => t.group.queues.push([]), /wait queues/],
    ['an unshared memory', (t: any) => delete t.machine.memories[0].shared, /must all be shared/],
    ['a cursor past the threads', (t: any) => (t.group.cursor = 40), /cursor/],
    ['no threads', (t: any) => (t.group.threads = []), /group\.threads/],
    ['a thread with a stack beyond its limit', (t: any) => (t.group.threads[3].limits.stackSlots = 1), /thread 3: the stack/],
    ['a version of the group state this runtime does not read', (t: any) => (t.group.version = 9), /version 9/],
  ])('%s', async (_, edit, message) => {
    const bytes = await edited(edit);
    const attempt = async () => {
      const resolved = await loadChain([bytes], { bounds: await snapshotBounds(wasm) });
      return restoreGroup(wasm, resolved, (g) => WasiThreads.restore(wasm, g, WASI.restore(checkState(resolved.wasi))));
    };
    await expect(attempt()).rejects.toThrow(InvalidSnapshotError);
    await expect(attempt()).rejects.toThrow(message);
  });

  test('more threads than the bounds allow (1 for a module that cannot share a memory) are refused at decoding', async () => {
    expect((await snapshotBounds(PAGES_WASM)).maxThreads).toBe(1);
    const bounds = await snapshotBounds(wasm);
    await expect(decodeSnapshot(snap, { bounds })).resolves.toBeDefined();
    await expect(decodeSnapshot(snap, { bounds: { ...bounds, maxThreads: 2 } })).rejects.toThrow(/5 threads, at most 2/);
  });
});
