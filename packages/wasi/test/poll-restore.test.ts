import { Machine } from '@mvvm/interpreter';
import { WASI, memoryHost } from '../src/index';
import { assemble, loadWabt } from '../../interpreter/test/helpers/wat';

// Sleeps 1 s through poll_oneoff (a relative CLOCK_MONOTONIC subscription), reading the
// monotonic clock before (at 200) and after (at 208).
const SLEEPER = `
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 200)))
    (i32.store8 (i32.const 8) (i32.const 0))                  ;; tag: clock
    (i32.store (i32.const 16) (i32.const 1))                  ;; CLOCK_MONOTONIC
    (i64.store (i32.const 24) (i64.const 1000000000))         ;; 1 s, relative
    (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 300)))
    (drop (call $now (i32.const 1) (i64.const 0) (i32.const 208)))))`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a snapshot taken while suspended in poll_oneoff waits only for what was left of the timeout', async () => {
  const bytes = assemble(await loadWabt(), SLEEPER);
  const wasi = new WASI({ host: memoryHost() });
  const m = await Machine.instantiate(bytes, wasi.getImports());
  m.begin('_start', []);
  expect(m.step(Infinity).suspended).toBe(true);
  await sleep(700); // 0.7 s of the 1 s pass on the first host

  const state = JSON.parse(JSON.stringify(wasi.state()));
  expect(state.pendingPoll.deadlines).toHaveLength(1);
  const wasi2 = WASI.restore(state, { host: memoryHost() });
  const m2 = await Machine.restore(bytes, structuredClone(m.snapshot()), wasi2.getImports());
  const started = Date.now();
  expect(await wasi2.start(m2)).toBe(0);
  const waited = Date.now() - started;

  expect(waited).toBeLessThan(750); // ~0.3 s left, not a fresh 1 s
  const view = m2.memory!.view;
  const guestElapsed = view.getBigUint64(208, true) - view.getBigUint64(200, true);
  expect(guestElapsed).toBeGreaterThanOrEqual(1_000_000_000n); // the guest still slept its full second
});
