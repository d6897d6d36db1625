import { isIP } from 'node:net';
import { parseAddress } from '@mvvm/migrate';

/**
 * The scheduler's settings from the environment, with the resource-triggered migration
 * framework's names and defaults. A value that is set but not valid is refused with a
 * ConfigError naming the variable (never a silent default).
 *
 *   MIGRATION_CACHE_THRESHOLD_MB    8192   page cache (`Cached` in /proc/meminfo) in MiB
 *   MIGRATION_TEMP_THRESHOLD_C      80     the hottest thermal zone, °C
 *   MIGRATION_MEMORY_THRESHOLD_PCT  85     used memory, 1 - MemAvailable/MemTotal, in %
 *   MIGRATION_PORT                  9876   the port this scheduler accepts migrations on
 *   ARM_MIGRATION_HOST              -      the framework's single target (arm64, on MIGRATION_PORT)
 *   MIGRATION_TARGETS               -      ARCH@HOST:PORT,... (any host can be a target)
 *   MIGRATION_MONITOR_INTERVAL_MS   1000   monitor sampling interval
 *   MIGRATION_TRIGGER_SAMPLES       3      K: consecutive samples over a threshold before a trigger
 *   MIGRATION_COOLDOWN_MS           30000  no new trigger this long after a migration
 *   MIGRATION_PREDICTIVE            0      1: also trigger on a fast climb towards a threshold
 *   MIGRATION_PSI_THRESHOLD         -      memory PSI `some avg10` in % (off unless set)
 *   MIGRATION_LOG_SAMPLES           0      1: log every monitor sample
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface Target {
  /** The target's architecture as the user named it (arm64, x86_64, ...): for logs and policy. */
  arch: string;
  host: string;
  port: number;
}

export interface Thresholds {
  cacheMb: number;
  tempC: number;
  memoryPct: number;
  /** Memory PSI `some avg10` (%); null: not a trigger. */
  psiPct: number | null;
}

export interface SchedulerConfig {
  thresholds: Thresholds;
  port: number;
  targets: Target[];
  intervalMs: number;
  triggerSamples: number;
  cooldownMs: number;
  predictive: boolean;
  logSamples: boolean;
}

export const DEFAULTS = {
  cacheMb: 8192,
  tempC: 80,
  memoryPct: 85,
  port: 9876,
  intervalMs: 1000,
  triggerSamples: 3,
  cooldownMs: 30_000,
} as const;

type Env = Record<string, string | undefined>;

function number(env: Env, name: string, fallback: number, o: { min: number; max: number; integer?: boolean }): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw.trim());
  if (!Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || v < o.min || v > o.max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected ${o.integer ? 'an integer' : 'a number'} from ${o.min} to ${o.max}`);
  }
  return v;
}

function flag(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return false;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected 1 or 0`);
}

/** HOST:PORT, [IPv6]:PORT (@mvvm/migrate's parseAddress); `what` names the source in the error. */
export function parseHostPort(text: string, what: string, defaultPort: number = DEFAULTS.port): { host: string; port: number } {
  const s = text.trim();
  if (/[\s/@,]/.test(s)) throw new ConfigError(`${what}: ${JSON.stringify(text)} is not HOST:PORT`);
  let a: { host: string; port: number };
  try {
    a = parseAddress(s, defaultPort);
  } catch (e) {
    throw new ConfigError(`${what}: ${(e as Error).message}`);
  }
  if (a.host.includes(':') && isIP(a.host) !== 6) throw new ConfigError(`${what}: ${JSON.stringify(text)} is not HOST:PORT`);
  return a;
}

/** `ARCH@HOST:PORT` or `HOST:PORT` (arch "any"), comma separated. */
export function parseTargets(text: string, what: string, defaultPort: number): Target[] {
  const out: Target[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('@');
    const arch = at >= 0 ? part.slice(0, at).trim() : 'any';
    if (!/^[A-Za-z0-9_-]+$/.test(arch)) throw new ConfigError(`${what}: ${JSON.stringify(part)}: the architecture must be a word (arm64@host:port)`);
    const hp = parseHostPort(at >= 0 ? part.slice(at + 1) : part, what, defaultPort);
    if (hp.port === 0) throw new ConfigError(`${what}: ${JSON.stringify(part)}: a target needs a port other than 0`);
    out.push({ arch, ...hp });
  }
  return out;
}

/** Reads the configuration from `env` (process.env by default); throws ConfigError on a bad value. */
export function loadConfig(env: Env = process.env): SchedulerConfig {
  const port = number(env, 'MIGRATION_PORT', DEFAULTS.port, { min: 0, max: 65535, integer: true });
  const targets: Target[] = [];
  const arm = env.ARM_MIGRATION_HOST?.trim();
  if (arm) targets.push({ arch: 'arm64', ...parseHostPort(arm, 'ARM_MIGRATION_HOST', port || DEFAULTS.port) });
  if (env.MIGRATION_TARGETS?.trim()) targets.push(...parseTargets(env.MIGRATION_TARGETS, 'MIGRATION_TARGETS', port || DEFAULTS.port));
  const psi = env.MIGRATION_PSI_THRESHOLD;
  return {
    thresholds: {
      cacheMb: number(env, 'MIGRATION_CACHE_THRESHOLD_MB', DEFAULTS.cacheMb, { min: 0, max: 1 << 30 }),
      tempC: number(env, 'MIGRATION_TEMP_THRESHOLD_C', DEFAULTS.tempC, { min: -50, max: 200 }),
      memoryPct: number(env, 'MIGRATION_MEMORY_THRESHOLD_PCT', DEFAULTS.memoryPct, { min: 0, max: 100 }),
      psiPct: psi === undefined || psi.trim() === '' ? null : number(env, 'MIGRATION_PSI_THRESHOLD', 0, { min: 0, max: 100 }),
    },
    port,
    targets,
    intervalMs: number(env, 'MIGRATION_MONITOR_INTERVAL_MS', DEFAULTS.intervalMs, { min: 10, max: 3_600_000, integer: true }),
    triggerSamples: number(env, 'MIGRATION_TRIGGER_SAMPLES', DEFAULTS.triggerSamples, { min: 1, max: 1000, integer: true }),
    cooldownMs: number(env, 'MIGRATION_COOLDOWN_MS', DEFAULTS.cooldownMs, { min: 0, max: 86_400_000, integer: true }),
    predictive: flag(env, 'MIGRATION_PREDICTIVE'),
    logSamples: flag(env, 'MIGRATION_LOG_SAMPLES'),
  };
}
