/**
 * SystemMonitor: samples the host's page cache, CPU temperature, memory pressure and CPU
 * load from /proc and /sys. Both roots are parameters, so tests drive it from fixture
 * trees. Every source is optional: a file that is missing or unreadable makes its metric
 * null ("n/a"), and a null metric never triggers anything.
 *
 * A sample reads at most four small files plus one per thermal zone (the zone list is
 * read once), synchronously, with one reused buffer: a few tens of microseconds.
 */
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Sample {
  /** Date.now() when taken. */
  at: number;
  /** `Cached` of /proc/meminfo, MiB. */
  cacheMb: number | null;
  /** The hottest `/sys/class/thermal/thermal_zone* /temp`, °C. */
  tempC: number | null;
  /** 1 - MemAvailable/MemTotal, %. */
  memoryPct: number | null;
  memTotalMb: number | null;
  memAvailableMb: number | null;
  /** /proc/pressure/memory `some avg10`, %. */
  psiSome10: number | null;
  /** Busy share of all CPUs since the previous sample (from /proc/stat), %; null on the first sample. */
  cpuPct: number | null;
}

export type Metric = 'cacheMb' | 'tempC' | 'memoryPct' | 'psiSome10';

export interface MonitorOptions {
  /** Where /proc is (default "/proc"). */
  procRoot?: string;
  /** Where /sys is (default "/sys"). */
  sysRoot?: string;
  intervalMs?: number;
}

const BUF = Buffer.alloc(16384);

/** The file's text, or null when it cannot be read (a missing source). */
function readSmall(path: string): string | null {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    let n = 0;
    for (;;) {
      const r = readSync(fd, BUF, n, BUF.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === BUF.length) break;
    }
    return BUF.toString('latin1', 0, n);
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** A `Name:   1234 kB` line of /proc/meminfo, in kB. */
function meminfoKb(text: string, name: string): number | null {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

export class SystemMonitor {
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly intervalMs: number;
  private zones: string[] | null = null;
  private lastCpu: { busy: number; total: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last: Sample | null = null;
  /** CPU time (µs, user+system) spent inside sample(), for the cost figure. */
  cpuMicros = 0;
  samples = 0;

  constructor(o: MonitorOptions = {}) {
    this.procRoot = o.procRoot ?? '/proc';
    this.sysRoot = o.sysRoot ?? '/sys';
    this.intervalMs = o.intervalMs ?? 1000;
  }

  /** The thermal zones' temp files, listed once (zones do not come and go). */
  private thermalFiles(): string[] {
    if (this.zones === null) {
      const dir = join(this.sysRoot, 'class', 'thermal');
      try {
        this.zones = readdirSync(dir)
          .filter((n) => n.startsWith('thermal_zone'))
          .sort()
          .map((n) => join(dir, n, 'temp'));
      } catch {
        this.zones = [];
      }
    }
    return this.zones;
  }

  /** Takes one sample now. */
  sample(): Sample {
    const c0 = process.cpuUsage();
    const s: Sample = { at: Date.now(), cacheMb: null, tempC: null, memoryPct: null, memTotalMb: null, memAvailableMb: null, psiSome10: null, cpuPct: null };
    const meminfo = readSmall(join(this.procRoot, 'meminfo'));
    if (meminfo !== null) {
      const cached = meminfoKb(meminfo, 'Cached');
      const total = meminfoKb(meminfo, 'MemTotal');
      const avail = meminfoKb(meminfo, 'MemAvailable');
      if (cached !== null) s.cacheMb = round(cached / 1024);
      if (total !== null && total > 0) s.memTotalMb = round(total / 1024);
      if (avail !== null) s.memAvailableMb = round(avail / 1024);
      if (total !== null && total > 0 && avail !== null) s.memoryPct = round(100 * (1 - Math.min(avail, total) / total));
    }
    let hottest = -Infinity;
    for (const f of this.thermalFiles()) {
      const t = readSmall(f);
      const v = t === null ? NaN : Number(t.trim());
      if (Number.isFinite(v)) hottest = Math.max(hottest, v / 1000); // millidegrees
    }
    if (hottest > -Infinity) s.tempC = round(hottest);
    const psi = readSmall(join(this.procRoot, 'pressure', 'memory'));
    const some = psi === null ? null : /^some\s+avg10=([\d.]+)/m.exec(psi);
    if (some) s.psiSome10 = Number(some[1]);
    const stat = readSmall(join(this.procRoot, 'stat'));
    const cpu = stat === null ? null : /^cpu\s+([\d\s]+)/m.exec(stat);
    if (cpu) {
      const f = cpu[1].trim().split(/\s+/).map(Number);
      const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is inside user)
      const now = { busy: total - idle, total };
      if (this.lastCpu && now.total > this.lastCpu.total) s.cpuPct = round((100 * (now.busy - this.lastCpu.busy)) / (now.total - this.lastCpu.total));
      this.lastCpu = now;
    }
    const c1 = process.cpuUsage(c0);
    this.cpuMicros += c1.user + c1.system;
    this.samples++;
    this.last = s;
    return s;
  }

  /** The last sample taken (null before the first). */
  latest(): Sample | null {
    return this.last;
  }

  /** Samples every intervalMs (the first at once) until stop(). The timer does not keep the process alive. */
  start(onSample: (s: Sample) => void): void {
    this.stop();
    const tick = () => onSample(this.sample());
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** One line for a log: "cache 585 MiB, temp n/a, memory 2.5 % used, psi 0.00, cpu 12 %". */
export function describeSample(s: Sample): string {
  const v = (x: number | null, unit: string) => (x === null ? 'n/a' : `${x}${unit}`);
  return `cache ${v(s.cacheMb, ' MiB')}, temp ${v(s.tempC, ' °C')}, memory ${v(s.memoryPct, ' % used')}, psi ${v(s.psiSome10, ' %')}, cpu ${v(s.cpuPct, ' %')}`;
}
