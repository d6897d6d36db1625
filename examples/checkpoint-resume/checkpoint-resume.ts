/**
 * Steps a program half-way, writes its snapshot to a file, restores the file into a new
 * machine and finishes there; then checks the result against an uninterrupted run.
 *   npx tsx examples/checkpoint-resume/checkpoint-resume.ts [n]
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize, deserialize } from 'node:v8';
import { Machine } from '@mvvm/interpreter';

export async function checkpointAndResume(n: number, log: (line: string) => void = console.log) {
  const bytes = readFileSync(join(__dirname, 'primes.wasm'));

  // 1. Run to completion once, for reference.
  const reference = await Machine.instantiate(bytes);
  const [expected] = reference.invoke('run', [n]);
  const total = reference.instructionCount;
  log(`uninterrupted: run(${n}) = ${expected} after ${total} instructions`);

  // 2. A second machine runs half of that and is checkpointed to disk.
  const first = await Machine.instantiate(bytes);
  first.begin('run', [n]);
  first.step(Math.floor(total / 2));
  const file = join(mkdtempSync(join(tmpdir(), 'mvvm-')), 'primes.snapshot');
  writeFileSync(file, serialize(first.snapshot())); // plain data: v8.serialize keeps the typed arrays
  log(`checkpoint after ${first.instructionCount} instructions, ${first.thread.depth} frames deep -> ${file}`);

  // 3. A fresh machine is built from the file alone and finishes the job.
  const resumed = await Machine.restore(bytes, deserialize(readFileSync(file)));
  const { results } = resumed.step(Infinity);
  log(`resumed:       run(${n}) = ${results![0]} after ${resumed.instructionCount} instructions`);
  return { expected, resumed: results![0], total, resumedCount: resumed.instructionCount };
}

if (require.main === module) {
  const n = Number(process.argv[2] ?? 100000);
  checkpointAndResume(n).then((r) => {
    const same = r.expected === r.resumed && r.total === r.resumedCount;
    console.log(same ? 'identical result and instruction count' : 'MISMATCH');
    process.exit(same ? 0 : 1);
  });
}
