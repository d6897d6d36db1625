/**
 * Runs in a browser tab (bundled by build.ts): fetches a module and a snapshot taken in
 * Node, checks and restores it with @mvvm/snapshot, finishes the run and shows the result.
 */
import { Machine } from '@mvvm/interpreter';
import { loadChain, restoreMachine } from '@mvvm/snapshot';

async function main(): Promise<void> {
  const out = document.getElementById('result')!;
  try {
    const fetchBytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    const bytes = await fetchBytes('primes.wasm');
    const resolved = await loadChain([await fetchBytes('primes.mvvm')]);
    const machine: Machine = await restoreMachine(bytes, resolved);
    const resumedAt = machine.instructionCount;
    const results = await machine.run({ sliceInstructions: 1_000_000 });
    out.textContent = `resumed at ${resumedAt}, finished at ${machine.instructionCount}: ${String(results[0])}`;
  } catch (e) {
    out.textContent = `error: ${(e as Error).message}`;
  }
}

void main();
