/**
 * Live migration from the command line: `mvvm serve` receives programs and runs them,
 * `mvvm run ... --migrate-to` moves a running one (SIGUSR2 or --after N), `mvvm migrate`
 * sends a snapshot (cold migration). One line per migration.
 */
import { basename } from 'node:path';
import { GatewayClientOptions, MigrationResult, ReceivedProgram, TlsFiles, checkInsecure, describeAddress, loadToken, migrateMachine, parseAddress, startGateway, startMigrationServer } from '@mvvm/migrate';
import { parseCount, Preopen } from '../args';
import { Outcome, drive } from '../drive';
import { Reporter, formatBytes, reporter } from '../report';
import { Launch, Session, resume, start, writeSnapshot } from '../session';
import { Trigger, atCount } from '../triggers';

/** Flags shared by every command that talks to another host. */
export interface PeerFlags {
  tokenFile?: string;
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** Flags of a migrating source. */
export interface MigrateFlags extends PeerFlags {
  migrateTo?: string;
  after?: string;
  follow?: boolean;
  precopy?: boolean;
  shipDir: string[];
  verbose?: boolean;
}

/** `--gateway HOST:PORT` with the peer flags: how this host reaches `mvvm gateway`. */
export function gatewayClient(f: PeerFlags & { gateway?: string }, log: (line: string) => void): GatewayClientOptions | undefined {
  if (f.gateway === undefined) return undefined;
  const gateway = parseAddress(f.gateway, GATEWAY_PORT);
  const token = loadToken(f.tokenFile);
  checkInsecure(token, gateway.host, f.insecure, `--gateway ${f.gateway}`);
  return { gateway, token, insecure: f.insecure, tls: tlsOf(f), onError: (e) => log(e.message) };
}

/** The gateway's default control port. */
export const GATEWAY_PORT = 9877;

export const tlsOf = (f: PeerFlags): TlsFiles | undefined => (f.tlsCert || f.tlsKey || f.tlsCa ? { cert: f.tlsCert, key: f.tlsKey, ca: f.tlsCa } : undefined);

/** Exit code of `mvvm run --migrate-to` when the hand-over is in doubt (EX_TEMPFAIL). */
export const IN_DOUBT_EXIT = 75;

export function statsLine(r: { rounds: number; bytes: number; totalMs: number; downtimeMs: number }): string {
  return `${r.rounds} rounds, ${formatBytes(r.bytes)} sent, total ${r.totalMs.toFixed(0)} ms, downtime ${r.downtimeMs.toFixed(1)} ms`;
}

type Moved = { kind: 'stay' } | { kind: 'exit'; code: number };

/**
 * Moves the session to `to`. 'stay': the program is intact here and goes on; 'exit': it
 * left (or ended) and this process ends with `code`.
 */
async function moveSession(s: Session, to: string, f: MigrateFlags, report: Reporter, follow: ReceivedProgram['follow'] | 'terminal' | null, keepRunning = true): Promise<Moved> {
  const token = loadToken(f.tokenFile);
  const address = parseAddress(to);
  checkInsecure(token, address.host, f.insecure, `--migrate-to ${to}`);
  const sink = follow === 'terminal' ? { stdout: (c: Uint8Array) => process.stdout.write(c), stderr: (c: Uint8Array) => process.stderr.write(c) } : (follow ?? undefined);
  let r: MigrationResult;
  r = await migrateMachine({
    machine: s.machine,
    threads: s.threads ?? null,
    wasi: s.wasi,
    module: s.bytes,
    to: address,
    token,
    tls: tlsOf(f),
    precopy: f.precopy !== false,
    keepRunning,
    shipDirs: f.shipDir,
    follow: sink,
    program: basename(s.wasmPath),
    onProgress: (p) => report.progress(`migrating to ${to}: ${p.phase === 'paused' ? 'paused, sending the rest' : `round ${p.round}`}, ${formatBytes(p.bytes)} sent`),
  });
  report.done();
  switch (r.outcome) {
    case 'committed': {
      report.info(`migrated to ${to}: ${statsLine(r)}`);
      s.wasi?.close();
      if (!r.exitCode) return { kind: 'exit', code: 0 };
      try {
        return { kind: 'exit', code: await r.exitCode };
      } catch (e) {
        process.stderr.write(`mvvm: ${(e as Error).message}\n`);
        return { kind: 'exit', code: 1 };
      }
    }
    case 'ended':
      report.info(`the program ended here during the transfer to ${to}: nothing moved`);
      return { kind: 'exit', code: r.code };
    case 'failed':
      process.stderr.write(`mvvm: migration to ${to} failed, the program goes on here: ${r.reason}\n`);
      return { kind: 'stay' };
    case 'in-doubt': {
      const path = `mvvm-in-doubt-${Date.now()}.mvvm`;
      await writeSnapshot(s, { path, incremental: false, compress: false, trigger: 'migration in doubt' });
      process.stderr.write(`mvvm: ${r.reason}: not running the program here (it may run there); its state is in ${path} (resume it with mvvm restore only if it does not run on ${to})\n`);
      return { kind: 'exit', code: IN_DOUBT_EXIT };
    }
  }
}

/**
 * Drives a session; on SIGUSR2 or after `after` instructions it moves to `to`. A failed
 * move goes on here (and can be triggered again by SIGUSR2).
 */
async function driveMigrating(s: Session, to: string | undefined, f: MigrateFlags, report: Reporter, follow: ReceivedProgram['follow'] | 'terminal' | null, yieldSlices = false): Promise<Outcome> {
  if (to === undefined) return drive(s, { yieldSlices });
  const triggers: Trigger[] = f.after !== undefined ? [atCount(parseCount(f.after, '--after'))] : [];
  let left: Moved | null = null;
  const outcome = await drive(s, {
    triggers,
    signals: ['SIGUSR2'],
    async onFire() {
      const moved = await moveSession(s, to, f, report, follow);
      if (moved.kind === 'stay') return true;
      left = moved;
      return false;
    },
  });
  if (outcome.kind === 'stopped' && left !== null) return { kind: 'exit', code: (left as { code: number }).code };
  return outcome;
}

export async function runMigrating(launch: Launch, f: MigrateFlags): Promise<number> {
  checkInsecure(loadToken(f.tokenFile), parseAddress(f.migrateTo!).host, f.insecure, `--migrate-to ${f.migrateTo}`); // before the program starts
  const s = await start(launch);
  const o = await driveMigrating(s, f.migrateTo, f, reporter(f.verbose), f.follow ? 'terminal' : null).finally(() => s.gateway?.close());
  if (o.kind !== 'exit') return 0;
  for (const r of o.results ?? []) process.stdout.write(`${r}\n`);
  return o.code;
}

export interface ColdFlags extends MigrateFlags {
  to: string;
  target: string;
  dir: Preopen[];
  base: string[];
}

/** `mvvm migrate snap.mvvm --to HOST:PORT`: a snapshot goes to a target and runs there. */
export async function migrateSnapshot(snapshot: string, f: ColdFlags): Promise<number> {
  const report = reporter(f.verbose);
  const s = await resume(f.target, snapshot, f.dir, f.base, [], report);
  const moved = await moveSession(s, f.to, f, report, f.follow ? 'terminal' : null, false);
  if (moved.kind === 'stay') {
    s.wasi?.close();
    return 1;
  }
  return moved.code;
}

export interface ServeFlags extends PeerFlags, MigrateFlags {
  listen?: string;
  gateway?: string;
  dir: Preopen[];
  moduleCache?: string;
  shipRoot?: string;
  once?: boolean;
}

/**
 * `mvvm serve`: receives programs and runs each to its end (several at once, sharing
 * the event loop). With --once, exits after the first one with its exit code.
 */
export async function serve(f: ServeFlags): Promise<number> {
  const token = loadToken(f.tokenFile);
  const dirs: Record<string, string> = {};
  for (const d of f.dir) dirs[d.guest] = (await import('node:path')).resolve(d.host);
  const log = (line: string) => process.stderr.write(`mvvm serve: ${line}\n`);
  let finishOnce: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finishOnce = resolve));
  const server = await startMigrationServer({
    listen: f.listen,
    dirs,
    moduleCache: f.moduleCache,
    shipRoot: f.shipRoot,
    token,
    insecure: f.insecure,
    tls: tlsOf(f),
    gateway: gatewayClient(f, log),
    onRefused: (e, from, program) => log(`refused ${program} from ${from}: ${e.message}`),
    onReceived(p) {
      log(`received ${p.program} (sha256 ${Buffer.from(p.moduleHash).toString('hex').slice(0, 12)}) from ${p.from}: ${p.stats.rounds} rounds, ${formatBytes(p.stats.bytes)}, downtime ${p.stats.downtimeMs.toFixed(1)} ms${p.stats.files ? `, ${p.stats.files} files shipped` : ''}`);
      const s: Session = { wasmPath: p.program, bytes: p.module, hash: p.moduleHash, machine: p.machine, threads: p.threads, wasi: p.wasi, preopens: p.preopens, last: null };
      driveMigrating(s, f.migrateTo, { ...f, follow: false }, reporter(f.verbose), p.follow, true).then(
        (o) => {
          const code = o.kind === 'exit' ? o.code : 0;
          s.wasi?.close();
          p.finished(code);
          log(`${p.program} from ${p.from} ended with exit code ${code}`);
          if (f.once) finishOnce(code);
        },
        (e) => {
          s.wasi?.close();
          log(`${p.program} from ${p.from} failed: ${(e as Error).message}`);
          p.finished(134);
          if (f.once) finishOnce(134);
        },
      );
    },
  });
  log(`listening on ${server.address.host}:${server.address.port}${token ? '' : ' (insecure: no token)'}`);
  const code = await done;
  await server.close();
  return code;
}

export interface GatewayFlags extends PeerFlags {
  listen: string;
  control?: string;
  hold?: string;
}

/** `mvvm gateway`: a stable address for a server program that migrates; runs until SIGINT/SIGTERM. */
export async function gatewayCommand(f: GatewayFlags): Promise<number> {
  const log = (line: string) => process.stderr.write(`mvvm gateway: ${line}\n`);
  const token = loadToken(f.tokenFile);
  const gw = await startGateway({
    listen: f.listen,
    control: f.control ?? `127.0.0.1:${GATEWAY_PORT}`,
    token,
    insecure: f.insecure,
    tls: tlsOf(f),
    holdMs: f.hold !== undefined ? parseCount(f.hold, '--hold') * 1000 : undefined,
    log,
  });
  log(`clients on ${describeAddress(gw.address)}, hosts on ${describeAddress(gw.control)}${token ? '' : ' (insecure: no token)'}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gw.close();
  return 0;
}
