import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { chooseMoves } from '../src/policy';
import type { Sample } from '../src/monitor';
import type { TaskRow } from '../src/table';
import { TriggerDetector } from '../src/trigger';
import { WasmScheduler } from '../src/scheduler';
import { startControl, parseControl } from '../src/control';
import { call } from '../src/client';
import { TICKER } from './helpers';

const MiB = 1 << 20;
const row = (id: string, mib: number, startedAt = 0, state: TaskRow['state'] = 'running'): TaskRow => ({
  id, name: 't', state, host: 'h', instructions: 0, memoryBytes: mib * MiB, startedAt, exitCode: null, origin: null, movedTo: null, error: null, retry: null,
});
const sample: Sample = { at: 0, cacheMb: null, tempC: null, memoryPct: 90, memTotalMb: 100, memAvailableMb: 10, psiSome10: 30, cpuPct: null };
const T = [{ arch: 'arm64', host: 'a', port: 1 }, { arch: 'x86_64', host: 'b', port: 2 }];

describe('policy: which tasks a trigger moves', () => {
  test('memory: largest first until the relief is covered, targets dealt round-robin', () => {
    // 90 % of 100 MiB against 85 %: 5 MiB to free; tasks of 1, 4, 2, 3 MiB (and a paused 50)
    const c = [row('1', 1), row('2', 4), row('3', 2), row('4', 3), row('5', 50, 0, 'paused')].map((r) => ({ row: r, rate: 0 }));
    const moves = chooseMoves({ metric: 'memoryPct', value: 90, threshold: 85, reason: 'threshold' }, sample, c, T);
    expect(moves.map((m) => [m.id, m.target.host])).toEqual([['2', 'a'], ['4', 'b']]);
    // a trend moves one; PSI (no MiB figure) the largest
    expect(chooseMoves({ metric: 'memoryPct', value: 80, threshold: 85, reason: 'trend', projected: 95 }, sample, c, T).map((m) => m.id)).toEqual(['2']);
    expect(chooseMoves({ metric: 'psiSome10', value: 30, threshold: 20, reason: 'threshold' }, sample, c, T).map((m) => m.id)).toEqual(['2']);
    // ties go to the older task; no targets, no moves
    const tie = [row('7', 2, 20), row('8', 2, 10)].map((r) => ({ row: r, rate: 0 }));
    expect(chooseMoves({ metric: 'cacheMb', value: 1001, threshold: 1000, reason: 'threshold' }, sample, tie, T).map((m) => m.id)).toEqual(['8']);
    expect(chooseMoves({ metric: 'cacheMb', value: 9000, threshold: 1000, reason: 'threshold' }, sample, tie, [])).toEqual([]);
  });

  test('the PSI threshold triggers only when set', () => {
    const on = new TriggerDetector({ thresholds: { cacheMb: 1e9, tempC: 200, memoryPct: 100, psiPct: 20 }, samples: 2, cooldownMs: 0 });
    const off = new TriggerDetector({ thresholds: { cacheMb: 1e9, tempC: 200, memoryPct: 100, psiPct: null }, samples: 2, cooldownMs: 0 });
    for (const d of [on, off]) d.feed(sample);
    expect(on.feed(sample)).toMatchObject({ metric: 'psiSome10', value: 30, threshold: 20 });
    expect(off.feed(sample)).toBeNull();
  });
});

describe('control endpoint', () => {
  test('bad requests get one line; a token is required when set; the socket is 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvvm-ctl-'));
    const s = new WasmScheduler({ log: () => undefined });
    const token = new TextEncoder().encode('sesame-sesame');
    const at = parseControl(join(dir, 'c.sock'));
    const server = await startControl(at, { scheduler: s, token, metrics: () => ({ sample: null, thresholds: { cacheMb: 1, tempC: 1, memoryPct: 1, psiPct: null }, intervalMs: 1, monitorCpuPct: null, targets: [] }) });
    try {
      expect(statSync(join(dir, 'c.sock')).mode & 0o777).toBe(0o600);
      await expect(call({ at }, 'GET', '/tasks')).rejects.toThrow('the control endpoint needs the migration token (MVVM_MIGRATION_TOKEN)');
      await expect(call({ at, token: new TextEncoder().encode('sesame-wrong!') }, 'GET', '/tasks')).rejects.toThrow('needs the migration token');
      const c = { at, token };
      expect(await call(c, 'GET', '/tasks')).toEqual({ tasks: [] });
      await expect(call(c, 'POST', '/tasks', { module: 42 })).rejects.toThrow(/^bad request: module: /);
      await expect(call(c, 'POST', '/tasks', { module: TICKER, extra: 1 })).rejects.toThrow(/^bad request: body: /);
      await expect(call(c, 'POST', '/tasks/1/migrate', { to: 'x:1' })).rejects.toThrow('no task 1');
      const { id } = await call<{ id: string }>(c, 'POST', '/tasks', { module: TICKER, args: ['100000', '1000', '5'] });
      await expect(call(c, 'POST', `/tasks/${id}/migrate`, { to: 'x:1' })).rejects.toThrow('this scheduler has no migration transport');
      await expect(call(c, 'POST', `/tasks/${id}/migrate`, { to: 'x:99999' })).rejects.toThrow("to: 'x:99999': bad port");
      await expect(call(c, 'POST', `/tasks/${id}/frobnicate`)).rejects.toThrow('no action frobnicate');
      await expect(call(c, 'GET', '/nothing')).rejects.toThrow('no route GET /nothing');
      expect(await call(c, 'POST', `/tasks/${id}/kill`)).toMatchObject({ task: { id, state: 'killed' } });
      // a second daemon on the same socket is refused while the first lives
      await expect(startControl(at, { scheduler: s, token, metrics: () => { throw new Error(); } })).rejects.toThrow(/is in use by another scheduler/);
      expect(() => parseControl('10.1.2.3:80')).toThrow('the control endpoint listens on loopback only');
    } finally {
      await server.close();
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
