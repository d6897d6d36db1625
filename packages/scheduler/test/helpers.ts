/** Shared by the scheduler's tests: programs, a reference run, output collection. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiExit } from '@mvvm/wasi/node';

export const TICKER = join(__dirname, 'programs', 'ticker.wasm');
export const COMPUTE = join(__dirname, '..', '..', 'cli', 'test', 'programs', 'compute.wasm');

export class Collector {
  private chunks: Buffer[] = [];
  readonly write = (c: Uint8Array) => void this.chunks.push(Buffer.from(c));
  text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

/** The program run alone, start to end, outside any scheduler. */
export async function runAlone(path: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const out = new Collector();
  const err = new Collector();
  const wasi = new WASI({ args: ['prog', ...args], env: {}, returnOnExit: true, stdout: out.write, stderr: err.write });
  const m = await Machine.instantiate(new Uint8Array(readFileSync(path)), wasi.getImports());
  m.begin('_start', []);
  let code = 0;
  try {
    await m.run();
  } catch (e) {
    if (!(e instanceof WasiExit)) throw e;
    code = e.code;
  }
  wasi.close();
  return { stdout: out.text(), stderr: err.text(), code };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms for at most `ms`. */
export async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}
