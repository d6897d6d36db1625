/**
 * The scheduler daemon (`mvvm scheduler`): a WasmScheduler that accepts migrations on its
 * port, samples the host with the SystemMonitor, migrates when the detector triggers, and
 * answers its control endpoint. With no task it is a pure target.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { checkInsecure } from '@mvvm/migrate';
import { ConfigError } from './config';
import type { SchedulerConfig, Target } from './config';
import { ControlAddress, ControlServer, describeControl, startControl } from './control';
import { MigrateTransportOptions, migrateTransport } from './migrate-transport';
import { SystemMonitor, describeSample } from './monitor';
import { WasmScheduler } from './scheduler';
import type { Endpoint, Listening, MigrationTransport } from './transport';
import { formatEndpoint } from './transport';
import { TriggerDetector } from './trigger';

/** The transport's options (token, TLS, grants for arriving tasks, pre-copy) and the daemon's own. */
export interface DaemonOptions extends Omit<MigrateTransportOptions, 'onRefused'> {
  config: SchedulerConfig;
  /** Where to accept migrations (port 0: ephemeral). */
  listen: Endpoint;
  /** Overrides config.targets (--targets). */
  targets?: Target[];
  control: ControlAddress;
  /** Each launched task's stdout/stderr to DIR/task-ID.stdout|.stderr instead of the daemon's own. */
  outputDir?: string;
  procRoot?: string;
  sysRoot?: string;
  /** Log every monitor sample (also config.logSamples). */
  verbose?: boolean;
  log?: (line: string) => void;
  /** Instead of migrateTransport (tests). */
  transport?: MigrationTransport;
}

export interface Daemon {
  scheduler: WasmScheduler;
  monitor: SystemMonitor;
  /** The migration port actually bound. */
  port: number;
  control: ControlServer;
  close(): Promise<void>;
}

/** The control socket a daemon on migration port `port` uses when not told (the CLI's default). */
export function defaultControl(port: number): ControlAddress {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return { path: join(tmpdir(), `mvvm-scheduler-${uid}-${port}.sock`) };
}

const stamp = () => new Date().toISOString().slice(11, 23);

export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const log = o.log ?? ((l: string) => process.stderr.write(`[${stamp()}] ${l}\n`));
  const c = o.config;
  checkInsecure(o.token, o.listen.host, o.insecure, 'mvvm scheduler');
  if (!('path' in o.control) && o.token === null && !o.insecure) {
    // a loopback port is open to every local user, who could launch tasks as this one
    throw new ConfigError(`--control ${describeControl(o.control)}: a TCP control endpoint needs the migration token (MVVM_MIGRATION_TOKEN), or --insecure`);
  }
  const transport = o.transport ?? migrateTransport({ token: o.token, insecure: o.insecure, tls: o.tls, dirs: o.dirs, moduleCache: o.moduleCache, precopy: o.precopy, onRefused: log });
  const targets = o.targets ?? c.targets;
  const detector = new TriggerDetector({ thresholds: c.thresholds, samples: c.triggerSamples, cooldownMs: c.cooldownMs, predictive: c.predictive });
  const output = o.outputDir
    ? (id: string) => {
        mkdirSync(o.outputDir!, { recursive: true });
        // appended synchronously, each write as the guest made it: complete when the task has ended, no fd held
        const open = (ext: string) => {
          const path = join(o.outputDir!, `task-${id}.${ext}`);
          appendFileSync(path, ''); // both files exist from the start, even if the task never writes one
          return (chunk: Uint8Array) => appendFileSync(path, chunk);
        };
        return { stdout: open('stdout'), stderr: open('stderr') };
      }
    : undefined;
  const scheduler = new WasmScheduler({ address: formatEndpoint(o.listen), transport, targets, detector, log, output });
  let listening: Listening;
  try {
    listening = await transport.listen(o.listen, (a) => scheduler.adopt(a));
  } catch (e) {
    scheduler.close();
    throw e;
  }
  scheduler.address = formatEndpoint({ host: o.listen.host, port: listening.port });
  const monitor = new SystemMonitor({ procRoot: o.procRoot, sysRoot: o.sysRoot, intervalMs: c.intervalMs });
  let control: ControlServer;
  try {
    control = await startControl(o.control, {
      scheduler,
      token: o.token,
      metrics: () => ({
        sample: monitor.latest(),
        thresholds: c.thresholds,
        intervalMs: c.intervalMs,
        monitorCpuPct: monitor.samples > 0 ? monitorShare(monitor) : null,
        targets,
      }),
    });
  } catch (e) {
    scheduler.close();
    await listening.close();
    throw e;
  }
  const t = c.thresholds;
  log(`accepting migrations on ${scheduler.address}; control endpoint ${describeControl(control.address)}`);
  log(
    `monitoring every ${c.intervalMs} ms: page cache > ${t.cacheMb} MiB, temperature > ${t.tempC} °C, memory > ${t.memoryPct} %${t.psiPct === null ? '' : `, PSI > ${t.psiPct} %`} for ${c.triggerSamples} samples; cooldown ${c.cooldownMs} ms${c.predictive ? '; predictive' : ''}; targets ${targets.length === 0 ? 'none' : targets.map((x) => `${x.arch}@${formatEndpoint(x)}`).join(', ')}`,
  );
  const verbose = o.verbose || c.logSamples;
  monitor.start((s) => {
    if (verbose) log(`sample: ${describeSample(s)}`);
    scheduler.observe(s);
  });
  return {
    scheduler,
    monitor,
    port: listening.port,
    control,
    async close() {
      monitor.stop();
      scheduler.close();
      await control.close();
      await listening.close();
    },
  };
}

/** The monitor's own CPU time as a share of the wall time between samples, in %. */
function monitorShare(m: SystemMonitor): number {
  return Math.round(((m.cpuMicros / 1000) / (m.samples * m.intervalMs)) * 100 * 1000) / 1000;
}
