/** In-process helpers for the package tests: programs run with collected output. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiExit } from '@mvvm/wasi/node';

export const PROGRAMS = join(__dirname, '..', '..', 'cli', 'test', 'programs');
export const moduleBytes = (name: string) => new Uint8Array(readFileSync(join(PROGRAMS, `${name}.wasm`)));

export interface Collected {
  out: Buffer[];
  sink: { stdout(c: Uint8Array): void; stderr(c: Uint8Array): void };
  text(): string;
}

export function collector(): Collected {
  const out: Buffer[] = [];
  const push = (tag: string) => (c: Uint8Array) => out.push(Buffer.concat([Buffer.from(tag), Buffer.from(c)]));
  return { out, sink: { stdout: push(''), stderr: push('') }, text: () => Buffer.concat(out).toString() };
}

export async function startProgram(name: string, args: string[], c: Collected, preopens: Record<string, string> = {}) {
  const bytes = moduleBytes(name);
  const wasi = new WASI({ args: [`${name}.wasm`, ...args], env: {}, preopens, returnOnExit: true, stdout: c.sink.stdout, stderr: c.sink.stderr });
  const machine = await Machine.instantiate(bytes, wasi.getImports());
  machine.begin('_start', []);
  return { bytes, wasi, machine };
}

/** Runs to the end (or `until` instructions); the exit code, or null when stopped at `until`. */
export async function runTo(machine: Machine, until = Infinity): Promise<number | null> {
  for (;;) {
    const budget = Math.min(1_000_000, until - machine.instructionCount);
    if (budget <= 0) return null;
    try {
      const r = machine.step(budget);
      if (r.done) return 0;
      if (r.suspended) await r.until;
    } catch (e) {
      if (e instanceof WasiExit) return e.code;
      throw e;
    }
  }
}
