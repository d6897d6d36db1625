/** Fixture /proc and /sys trees for the monitor, rewritten between samples. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HostState {
  /** MiB; undefined: no /proc/meminfo. */
  cachedMb?: number;
  totalMb?: number;
  availableMb?: number;
  /** PSI some avg10; undefined: no /proc/pressure/memory. */
  psi?: number;
  /** °C per zone; undefined or []: no thermal zones. */
  temps?: number[];
  /** [busy, idle] jiffies, cumulative; undefined: no /proc/stat. */
  cpu?: [number, number];
}

export class FakeHost {
  readonly root = mkdtempSync(join(tmpdir(), 'mvvm-proc-'));
  readonly proc = join(this.root, 'proc');
  readonly sys = join(this.root, 'sys');

  constructor(state: HostState = {}) {
    mkdirSync(this.proc);
    mkdirSync(this.sys);
    this.set(state);
  }

  /** Rewrites the tree (zones are created when first named and keep existing). */
  set(s: HostState): void {
    rmSync(this.proc, { recursive: true, force: true });
    mkdirSync(join(this.proc, 'pressure'), { recursive: true });
    if (s.cachedMb !== undefined || s.totalMb !== undefined) {
      const kb = (mb: number | undefined) => Math.round((mb ?? 0) * 1024);
      const lines = [`MemTotal:       ${kb(s.totalMb ?? 16384)} kB`, 'MemFree:         1000 kB'];
      if (s.availableMb !== undefined) lines.push(`MemAvailable:   ${kb(s.availableMb)} kB`);
      lines.push('Buffers:          100 kB');
      if (s.cachedMb !== undefined) lines.push(`Cached:         ${kb(s.cachedMb)} kB`);
      lines.push('SwapCached:        0 kB');
      writeFileSync(join(this.proc, 'meminfo'), lines.join('\n') + '\n');
    }
    if (s.psi !== undefined) writeFileSync(join(this.proc, 'pressure', 'memory'), `some avg10=${s.psi.toFixed(2)} avg60=0.00 avg300=0.00 total=12\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`);
    if (s.cpu) writeFileSync(join(this.proc, 'stat'), `cpu  ${s.cpu[0]} 0 0 ${s.cpu[1]} 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\n`);
    (s.temps ?? []).forEach((t, i) => {
      const zone = join(this.sys, 'class', 'thermal', `thermal_zone${i}`);
      mkdirSync(zone, { recursive: true });
      writeFileSync(join(zone, 'temp'), `${Math.round(t * 1000)}\n`);
    });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
