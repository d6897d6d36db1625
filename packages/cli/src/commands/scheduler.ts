/**
 * `mvvm scheduler` (the daemon) and the commands that talk to it over its control
 * endpoint: `launch`, `ps [--watch]`, `pause`, `resume`, `kill`, `metrics`, `migrate TASK`.
 *
 * Which daemon: --control ADDR, else $MVVM_SCHEDULER_CONTROL, else the unix socket of the
 * daemon on migration port $MIGRATION_PORT (default 9876), e.g.
 * /tmp/mvvm-scheduler-UID-9876.sock.
 */
import { resolve } from 'node:path';
import { loadToken } from '@mvvm/migrate';
import {
  ClientOptions,
  ControlAddress,
  DEFAULTS,
  JsonPatch,
  Sample,
  TableState,
  TaskRow,
  Target,
  Thresholds,
  applyJsonPatches,
  call,
  defaultControl,
  describeControl,
  describeSample,
  loadConfig,
  parseControl,
  parseHostPort,
  parseTargets,
  startDaemon,
  watch,
} from '@mvvm/scheduler';
import type { Preopen } from '../args';
import { PeerFlags, tlsOf } from './migrate';
import { formatBytes } from '../report';

export interface ControlFlags {
  control?: string;
  tokenFile?: string;
}

function controlAddress(flag: string | undefined, port: number): ControlAddress {
  const given = flag ?? process.env.MVVM_SCHEDULER_CONTROL;
  return given ? parseControl(given) : defaultControl(port);
}

function client(f: ControlFlags): ClientOptions {
  const port = Number(process.env.MIGRATION_PORT) || DEFAULTS.port;
  return { at: controlAddress(f.control, port), token: loadToken(f.tokenFile) };
}

const dirMap = (dirs: Preopen[]) => Object.fromEntries(dirs.map((d) => [d.guest, resolve(d.host)]));

export interface SchedulerFlags extends ControlFlags, PeerFlags {
  listen?: string;
  targets?: string;
  dir: Preopen[];
  env: [string, string][];
  moduleCache?: string;
  precopy: boolean;
  outputDir?: string;
  procRoot?: string;
  sysRoot?: string;
  verbose?: boolean;
}

/** Runs the daemon until SIGINT or SIGTERM. */
export async function schedulerCommand(wasm: string | undefined, args: string[], f: SchedulerFlags): Promise<number> {
  const config = loadConfig(process.env);
  const listen = f.listen ? parseHostPort(f.listen, '--listen', config.port) : { host: '127.0.0.1', port: config.port };
  const targets: Target[] | undefined = f.targets === undefined ? undefined : parseTargets(f.targets, '--targets', DEFAULTS.port);
  const dirs = dirMap(f.dir);
  const daemon = await startDaemon({
    config,
    listen,
    targets,
    control: controlAddress(f.control, listen.port),
    token: loadToken(f.tokenFile),
    insecure: f.insecure,
    tls: tlsOf(f),
    dirs,
    moduleCache: f.moduleCache,
    precopy: f.precopy,
    outputDir: f.outputDir,
    procRoot: f.procRoot,
    sysRoot: f.sysRoot,
    verbose: f.verbose,
  });
  try {
    if (wasm) await daemon.scheduler.launch({ module: wasm, args, env: Object.fromEntries(f.env), dirs });
  } catch (e) {
    await daemon.close();
    throw e;
  }
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await daemon.close();
  return 0;
}

export interface LaunchFlags extends ControlFlags {
  dir: Preopen[];
  env: [string, string][];
  to?: string;
}

export async function launchCommand(wasm: string, args: string[], f: LaunchFlags): Promise<number> {
  const r = await call<{ id: string }>(client(f), 'POST', '/tasks', { module: resolve(wasm), args, env: Object.fromEntries(f.env), dirs: dirMap(f.dir), ...(f.to ? { to: f.to } : {}) });
  process.stdout.write(`task ${r.id}\n`);
  return 0;
}

const HEADER = ['ID', 'NAME', 'STATE', 'HOST', 'INSTRUCTIONS', 'MEMORY', ''];

function cells(r: TaskRow): string[] {
  const notes: string[] = [];
  if (r.exitCode !== null) notes.push(`exit ${r.exitCode}`);
  if (r.movedTo) notes.push(`-> ${r.movedTo}`);
  if (r.origin) notes.push(`from ${r.origin}`);
  if (r.retry) notes.push(`retry ${r.retry.attempt} to ${r.retry.target}`);
  if (r.error && r.state !== 'exited') notes.push(r.error);
  return [r.id, r.name, r.state, r.host, r.instructions.toLocaleString('en-US'), formatBytes(r.memoryBytes), notes.join('; ')];
}

function table(rows: string[][]): string {
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export const formatTasks = (tasks: TaskRow[]) => table([HEADER, ...tasks.map(cells)]);

export async function psCommand(f: ControlFlags & { watch?: boolean; json?: boolean }): Promise<number> {
  const c = client(f);
  if (!f.watch) {
    const r = await call<{ tasks: TaskRow[] }>(c, 'GET', '/tasks');
    process.stdout.write(f.json ? JSON.stringify(r.tasks) + '\n' : formatTasks(r.tasks));
    return 0;
  }
  // --watch: the table as the daemon's patches change it. A terminal redraws it; otherwise
  // each changed task is one line (--json: each batch of RFC 6902 patches as it came).
  let state: TableState = { tasks: {} };
  const tty = !!process.stdout.isTTY && !f.json;
  let timer: NodeJS.Timeout | null = null;
  const redraw = () => {
    timer = null;
    process.stdout.write('\x1b[H\x1b[2J' + formatTasks(Object.values(state.tasks)));
  };
  const w = watch(c, {
    state(s) {
      state = s;
      if (f.json) process.stdout.write(JSON.stringify({ state: s }) + '\n');
      else if (tty) redraw();
      else process.stdout.write(formatTasks(Object.values(s.tasks)));
    },
    patches(p: JsonPatch[]) {
      state = applyJsonPatches(state, p);
      if (f.json) process.stdout.write(JSON.stringify({ patches: p }) + '\n');
      else if (tty) timer ??= setTimeout(redraw, 200);
      else {
        const ids = new Set(p.map((x) => x.path.split('/')[2]));
        const rows = [...ids].map((id) => state.tasks[id]).filter((r): r is TaskRow => r !== undefined);
        if (rows.length > 0) process.stdout.write(table([HEADER, ...rows.map(cells)]).split('\n').slice(1).join('\n'));
      }
    },
  });
  const stop = () => w.stop();
  process.once('SIGINT', stop);
  try {
    await w.done;
  } finally {
    process.off('SIGINT', stop);
    if (timer) clearTimeout(timer);
  }
  return 0;
}

export async function taskAction(action: 'pause' | 'resume' | 'kill', id: string, f: ControlFlags): Promise<number> {
  const r = await call<{ task: TaskRow }>(client(f), 'POST', `/tasks/${encodeURIComponent(id)}/${action}`);
  process.stdout.write(`task ${r.task.id}: ${r.task.state}\n`);
  return 0;
}

export async function migrateTaskCommand(id: string, to: string, f: ControlFlags): Promise<number> {
  parseHostPort(to, '--to');
  const r = await call<{ task: TaskRow }>(client(f), 'POST', `/tasks/${encodeURIComponent(id)}/migrate`, { to });
  process.stdout.write(`task ${r.task.id}: ${r.task.state}${r.task.movedTo ? ` to ${r.task.movedTo}` : ''}\n`);
  return 0;
}

interface Metrics {
  sample: Sample | null;
  thresholds: Thresholds;
  intervalMs: number;
  monitorCpuPct: number | null;
  targets: Target[];
}

export async function metricsCommand(f: ControlFlags & { json?: boolean }): Promise<number> {
  const c = client(f);
  const m = await call<Metrics>(c, 'GET', '/metrics');
  if (f.json) {
    process.stdout.write(JSON.stringify(m) + '\n');
    return 0;
  }
  const t = m.thresholds;
  const lines = [
    `scheduler at ${describeControl(c.at)}`,
    m.sample ? `last sample (${new Date(m.sample.at).toISOString()}): ${describeSample(m.sample)}` : 'no sample yet',
    `thresholds: page cache ${t.cacheMb} MiB, temperature ${t.tempC} °C, memory ${t.memoryPct} %, PSI ${t.psiPct ?? 'off'}`,
    `interval ${m.intervalMs} ms; monitor CPU share ${m.monitorCpuPct === null ? 'n/a' : `${m.monitorCpuPct} %`}`,
    `targets: ${m.targets.length === 0 ? 'none' : m.targets.map((x) => `${x.arch}@${x.host}:${x.port}`).join(', ')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
