/**
 * The migration section of `npm run bench`: a program with 1, 16, 64 and 256 MiB of touched
 * memory, writing at a low rate (into a 1 MiB hot set) or a high one (all over its
 * memory), moved over loopback with pre-copy and with stop-and-copy. Reports downtime
 * (pause on the source to the target's commit acknowledgement, the target starting right
 * after), total time, bytes sent and rounds, and checks every moved memory against the
 * source's byte for byte.
 *
 *   npx tsx bench/migrate/bench-migrate.ts [--sizes=1,16,64,256] [--reps=N]
 */
import { Machine } from '@mvvm/interpreter';
import { ReceivedProgram, migrateMachine, startMigrationServer } from '@mvvm/migrate';

const PAGE = 65536;

/** A module with `pages` of memory whose `work(hot, step)` stores forever, spreading stores over `hot` pages. */
async function workModule(pages: number): Promise<Uint8Array> {
  const wabt = await (require('wabt') as () => Promise<{ parseWat(name: string, text: string): { toBinary(o: object): { buffer: Uint8Array } } }>)();
  const wat = `(module
    (memory (export "memory") ${pages})
    (func (export "work") (param $hot i32) (param $step i32) (local $i i32)
      (loop $l
        (i32.store
          (i32.and (i32.rem_u (i32.mul (local.get $i) (local.get $step)) (i32.mul (local.get $hot) (i32.const 65536))) (i32.const -4))
          (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))`;
  return wabt.parseWat('work.wat', wat).toBinary({}).buffer;
}

export interface MigrationRow {
  mib: number;
  rate: 'low' | 'high';
  mode: 'pre-copy' | 'stop-and-copy';
  downtimeMs: number;
  totalMs: number;
  mibSent: number;
  rounds: number;
}

function fill(m: Machine): void {
  const words = new Uint32Array(m.memory!.buffer, 0, m.memory!.byteLength / 4);
  let s = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s;
  }
}

function sameMemory(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

export async function runMigrateBench(o: { sizes: number[]; reps: number; progress?: (line: string) => void }): Promise<{ rows: MigrationRow[]; problems: string[] }> {
  let pending: ((p: ReceivedProgram) => void) | null = null;
  const server = await startMigrationServer({
    listen: '127.0.0.1:0',
    dirs: {},
    token: null,
    insecure: true,
    onReceived: (p) => pending?.(p),
    onRefused: (e) => o.progress?.(`refused: ${e.message}`),
  });
  const rows: MigrationRow[] = [];
  const problems: string[] = [];
  try {
    for (const mib of o.sizes) {
      const pages = mib * 16;
      const bytes = await workModule(pages);
      for (const rate of ['low', 'high'] as const) {
        for (const mode of ['pre-copy', 'stop-and-copy'] as const) {
          const runs: MigrationRow[] = [];
          for (let rep = 0; rep < o.reps; rep++) {
            const m = await Machine.instantiate(bytes);
            fill(m);
            // low: stores into 16 pages (1 MiB); high: a store lands on another page each time, over all of memory.
            m.begin('work', rate === 'low' ? [Math.min(16, pages), 4] : [pages, PAGE + 4]);
            m.step(1_000_000);
            const got = new Promise<ReceivedProgram>((resolve) => (pending = resolve));
            const r = await migrateMachine({ machine: m, wasi: null, module: bytes, to: server.address, token: null, precopy: mode === 'pre-copy' });
            if (r.outcome !== 'committed') {
              problems.push(`${mib} MiB ${rate} ${mode}: ${r.outcome} ${'reason' in r ? r.reason : ''}`);
              continue;
            }
            const p = await got;
            if (!sameMemory(p.machine.memory!.u8, m.memory!.u8) || p.machine.instructionCount !== m.instructionCount) {
              problems.push(`${mib} MiB ${rate} ${mode}: the moved memory or position differs from the source's`);
            }
            p.finished(0);
            runs.push({ mib, rate, mode, downtimeMs: r.downtimeMs, totalMs: r.totalMs, mibSent: r.bytes / (1 << 20), rounds: r.rounds });
          }
          if (runs.length === 0) continue;
          runs.sort((a, b) => a.downtimeMs - b.downtimeMs);
          const row = runs[runs.length >> 1];
          rows.push(row);
          o.progress?.(formatRow(row));
        }
      }
    }
  } finally {
    await server.close();
  }
  return { rows, problems };
}

export function formatRow(r: MigrationRow): string {
  return `${String(r.mib).padStart(4)} MiB  ${r.rate.padEnd(4)}  ${r.mode.padEnd(13)}  downtime ${r.downtimeMs.toFixed(1).padStart(7)} ms  total ${r.totalMs.toFixed(0).padStart(6)} ms  sent ${r.mibSent.toFixed(1).padStart(7)} MiB  rounds ${String(r.rounds).padStart(2)}`;
}

if (require.main === module) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = (arg('sizes') ?? '1,16,64,256').split(',').map(Number);
  runMigrateBench({ sizes, reps: Number(arg('reps') ?? 3), progress: (l) => console.log(`  ${l}`) }).then(({ problems }) => {
    for (const p of problems) console.log(`!!!!!!!! MIGRATION PROBLEM: ${p}`);
    if (problems.length > 0) process.exitCode = 1;
  });
}
