/**
 * The `mvvm` command line. Exit codes: the program's own; 1 for an error of ours (one
 * line on stderr); 3 when a requested checkpoint never happened; 134 for a trap (as
 * wasmtime).
 */
import { Command, Option } from 'commander';
import { Trap } from '@mvvm/interpreter';
import type { Tier } from '@mvvm/interpreter';
import { collect, parseDir, parseEnv, parseListen, splitArgs } from './args';
import { NoCheckpointError } from './checkpoints';
import { debug } from './commands/debug';
import { inspect } from './commands/inspect';
import { gatewayClient, gatewayCommand, migrateSnapshot, runMigrating, serve } from './commands/migrate';
import { checkpointCommand, restoreCommand, run } from './commands/run';
import { refuseWorkers, runOnWorkerThreads } from './commands/workers';
import { Launch, resume, singleThreaded, start } from './session';
import { TRAP_FRAMES, formatStack, trapStacks } from './stack';

const VERSION = '0.1.0';

const dirOption = () => new Option('-d, --dir <HOST[::GUEST]>', 'preopen a host directory (under the guest name GUEST, default HOST); repeatable').argParser(collect(parseDir)).default([]);
// parseEnv's [key, value] is wrapped: collect() spreads an array result into the list.
const envOption = () => new Option('-e, --env <KEY=VALUE>', 'set an environment variable; repeatable').argParser(collect((v) => [parseEnv(v)])).default([]);
const argOption = () =>
  new Option('-a, --arg <ARG[,ARG...]>', "a program argument; repeatable; commas split (MVVM's -a -g20,-n1000), spaces do not; arguments after -- go verbatim")
    .argParser(collect((v) => splitArgs(v)))
    .default([]);
const invokeOption = () => new Option('--invoke <NAME>', 'call this export (numeric arguments) instead of _start');
const deterministicOption = () =>
  new Option('--deterministic', 'canonical NaNs from float arithmetic, the same bits on every host (a snapshot keeps the mode)');

const threadsOption = () =>
  new Option('--threads <MODE>', 'a wasi-threads program: group (default: every thread on one JS thread, deterministic, snapshots) or workers (each on a worker thread, one SharedArrayBuffer memory; no snapshots)')
    .choices(['group', 'workers']);

const tierOption = () =>
  new Option('--tier <TIER>', 'the JS tier: auto (compile hot functions to JavaScript), interpreter (off) or eager (every function); stops, snapshots and results are the same under each')
    .choices(['auto', 'interpreter', 'eager']);

function triggerOptions(cmd: Command): Command {
  return cmd
    .option('-o, --output <FILE>', 'snapshot file to write', 'snapshot.mvvm')
    .option('-c, --count <N>', 'checkpoint after exactly N instructions (counted from the start of the program)')
    .option('-f, --function <NAME|INDEX>', 'checkpoint at an entry into this function (name-section name, demangled C++ name, export name or index)')
    .option('-x, --entry <K>', 'with -f: at the K-th entry (default 1)')
    .option('--every <N>', 'checkpoint every N instructions into numbered files (OUTPUT-1.mvvm, ...), keeping the last few')
    .option('--keep <K>', 'with --every: how many to keep', '3')
    .option('--continue', 'keep running after the -c/-f checkpoint (without it the run stops there, also beside --every)')
    .option('--incremental', 'store only the memory pages written since the previous snapshot')
    .option('--compress', 'deflate the snapshot body')
    .option('-v, --verbose', 'report checkpoints on stderr even when it is not a terminal')
    .addOption(tierOption());
}

function peerOptions(cmd: Command): Command {
  return cmd
    .option('--token-file <FILE>', 'the shared migration secret (default: $MVVM_MIGRATION_TOKEN)')
    .option('--insecure', 'no token: allowed only on a loopback address')
    .option('--tls-cert <PEM>', 'TLS certificate (a server; a client presenting one)')
    .option('--tls-key <PEM>', 'TLS private key, with --tls-cert')
    .option('--tls-ca <PEM>', "the CA that signed the peer's certificate (a client: enables TLS)");
}

function sourceOptions(cmd: Command): Command {
  return cmd
    .option('--after <N>', 'with --migrate-to: migrate after N instructions (counted from the start); SIGUSR2 triggers it too')
    .option('--follow', "stream the program's output back from the target and exit with its exit code")
    .option('--no-precopy', 'stop-and-copy: pause at once and send everything (no pre-copy rounds)')
    .option('--ship-dir <GUEST>', "send this preopen's files with the program (written to a fresh directory on the target); repeatable", collect((v) => v), [])
    .option('-v, --verbose', 'report the migration on stderr even when it is not a terminal');
}

function launchOf(wasm: string, o: { arg?: string[]; env: [string, string][]; dir: Launch['dirs']; invoke?: string; deterministic?: boolean; tier?: Tier }, rest: string[] = []): Launch {
  return { wasm, args: [...(o.arg ?? []), ...rest], env: Object.fromEntries(o.env), dirs: o.dir, invoke: o.invoke, deterministic: o.deterministic === true, tier: o.tier };
}

export function program(setExit: (code: number) => void): Command {
  const cli = new Command('mvvm')
    .description('Run WebAssembly programs, checkpoint them at any instruction and restore them anywhere')
    .version(VERSION)
    .enablePositionalOptions()
    .showHelpAfterError(false);

  const runCmd = cli
    .command('run')
    .description('run a WASI program to its end')
    .argument('<wasm>', 'the program')
    .argument('[args...]', 'its arguments')
    .addOption(dirOption())
    .addOption(envOption())
    .addOption(invokeOption())
    .addOption(deterministicOption())
    .addOption(tierOption())
    .addOption(threadsOption())
    .option('--migrate-to <HOST:PORT>', 'move the running program to `mvvm serve` there on SIGUSR2 or --after N')
    .option('--gateway <HOST:PORT>', 'give the program a listening socket (the fd after its preopens) relayed by `mvvm gateway` (its --control address)')
    .passThroughOptions();
  peerOptions(sourceOptions(runCmd)).action(async (wasm: string, args: string[], o) => {
    if (o.threads === 'workers') {
      if (o.migrateTo !== undefined || o.gateway !== undefined) throw refuseWorkers(o.migrateTo !== undefined ? '--migrate-to' : '--gateway');
      return setExit(await runOnWorkerThreads(launchOf(wasm, o, args)));
    }
    const launch = { ...launchOf(wasm, o, args), gateway: gatewayClient(o, (line) => process.stderr.write(`mvvm run: ${line}\n`)) };
    setExit(o.migrateTo !== undefined ? await runMigrating(launch, o) : await run(launch));
  });

  peerOptions(
    cli
      .command('serve')
      .description('wait for migrations and run each program received (port from MIGRATION_PORT, default 9876)')
      .option('--listen <HOST:PORT>', 'where to listen (default 127.0.0.1:$MIGRATION_PORT or 9876; port 0: any free port)')
      .addOption(dirOption())
      .option('--module-cache <DIR>', 'modules by SHA-256: a module found here is not sent again; received ones are added')
      .option('--ship-root <DIR>', 'where shipped directories are written (default: the temp directory)')
      .option('--migrate-to <HOST:PORT>', 'move each received program on again, on SIGUSR2 or --after N')
      .option('--once', "exit after the first program received ends, with its exit code")
      .option('--gateway <HOST:PORT>', "programs received listen through `mvvm gateway` (its --control address); their relayed connections go on here"),
  )
    .option('--after <N>', 'with --migrate-to: after N instructions (counted from the program start)')
    .option('--no-precopy', 'stop-and-copy for onward migrations')
    .option('--ship-dir <GUEST>', "onward migrations ship this preopen's files; repeatable", collect((v) => v), [])
    .option('-v, --verbose', 'report onward migrations on stderr even when it is not a terminal')
    .action(async (o) => setExit(await serve(o)));

  peerOptions(
    cli
      .command('gateway')
      .description('a stable address for a server program that migrates: relays each client connection to the host the program runs on, across migrations')
      .requiredOption('--listen <HOST:PORT>', 'where clients connect (port 0: any free port)')
      .option('--control <HOST:PORT>', 'where hosts (`mvvm run --gateway`, `mvvm serve --gateway`) connect (default 127.0.0.1:9877)')
      .option('--hold <SECONDS>', 'how long a client connection waits for a host to take it again (default 60)'),
  ).action(async (o) => setExit(await gatewayCommand(o)));

  peerOptions(
    sourceOptions(
      cli
        .command('migrate')
        .description('move a task of a running scheduler to another scheduler (TASK: its id in `mvvm ps`); with -t, send a snapshot to `mvvm serve` on another host, which runs it (cold migration)')
        .argument('<task|snapshot>')
        .requiredOption('--to <HOST:PORT>', 'the target')
        .option('-t, --target <wasm>', 'the program the snapshot was taken of (a snapshot migration)')
        .option('--control <PATH|HOST:PORT>', "a task migration: the scheduler's control endpoint (see `mvvm ps`)")
        .addOption(dirOption())
        .option('--base <FILE>', 'a base snapshot of an incremental chain; repeatable', collect((v) => v), []),
    ),
  ).action(async (what: string, o) => setExit(o.target ? await migrateSnapshot(what, o) : await (await sched()).migrateTaskCommand(what, o.to, o)));

  triggerOptions(
    cli
      .command('checkpoint')
      .description('run a program and write a snapshot when a trigger fires (-c, -f/-x, --every, SIGUSR1/SIGINT)')
      .requiredOption('-t, --target <wasm>', 'the program')
      .addOption(argOption())
      .addOption(envOption())
      .addOption(dirOption())
      .addOption(invokeOption())
      .addOption(deterministicOption())
      .addOption(threadsOption())
      .argument('[args...]', 'more program arguments (after --)'),
  )
    .addHelpText(
      'after',
      `
Program arguments: each -a is one argument (repeatable), commas split one -a into several,
spaces never split; everything after -- is passed verbatim (mvvm checkpoint -t P -c 1000 -- -g 12 -n 1).
-c and -f stop the run after their checkpoint, also beside --every, unless --continue is given.
With no trigger only SIGUSR1 or SIGINT takes a checkpoint. Exit status 3: the program ended
and no snapshot was written (the trigger never came, or there was none).`,
    )
    .action(async (args: string[], o) => {
      if (o.threads === 'workers') throw refuseWorkers('checkpoint');
      setExit(await checkpointCommand(launchOf(o.target, o, args), o));
    });

  triggerOptions(
    cli
      .command('restore')
      .description('resume a program from a snapshot and run it to its end (or to the next trigger)')
      .requiredOption('-t, --target <wasm>', 'the program the snapshot was taken of')
      .argument('<snapshot>', 'the snapshot (an incremental one finds its bases by the names it recorded)')
      .addOption(dirOption())
      .option('--listen <[HOST:]PORT>', "grant a listening socket the snapshot asks for (in the snapshot's order); repeatable", collect(parseListen), [])
      .option('--base <FILE>', 'a base snapshot of an incremental chain; repeatable', collect((v) => v), []),
  ).action(async (snapshot: string, o) => setExit(await restoreCommand(o.target, snapshot, { ...o, dirs: o.dir })));

  cli
    .command('inspect')
    .description('summarize a snapshot: module, instruction count, call stack, memory, open files')
    .argument('<snapshot>')
    .option('--json', 'machine-readable output')
    .option('-t, --target <wasm>', 'take function names from this module (default: those recorded in the snapshot)')
    .option('--base <FILE>', 'a base snapshot of an incremental chain; repeatable', collect((v) => v), [])
    .action(async (snapshot: string, o) => inspect(snapshot, { json: o.json, wasm: o.target, base: o.base }));

  cli
    .command('debug')
    .description('step-debug a program, commands from stdin (help lists them)')
    .requiredOption('-t, --target <wasm>', 'the program')
    .argument('[snapshot]', 'start from this snapshot instead of the beginning')
    .option('-i, --interactive', 'accepted for MVVM compatibility (debug is always interactive)')
    .addOption(argOption())
    .addOption(envOption())
    .addOption(dirOption())
    .addOption(invokeOption())
    .option('--base <FILE>', 'a base snapshot of an incremental chain; repeatable', collect((v) => v), [])
    .action(async (snapshot: string | undefined, o) => {
      const session = snapshot ? await resume(o.target, snapshot, o.dir, o.base) : await start(launchOf(o.target, o));
      singleThreaded(session, 'the debugger');
      setExit(await debug(session));
    });
  schedulerCommands(cli, setExit);
  return cli;
}

/** The scheduler's commands load @mvvm/scheduler (immer, http) only when used: `mvvm run` starts no slower for them. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy require (tsx's source mode has no extensionless dynamic import)
const sched = async (): Promise<typeof import('./commands/scheduler')> => require('./commands/scheduler');

const controlOptions = (cmd: Command) =>
  cmd
    .option('--control <PATH|HOST:PORT>', "the daemon's control endpoint (default: $MVVM_SCHEDULER_CONTROL, else the unix socket of the daemon on $MIGRATION_PORT)")
    .option('--token-file <FILE>', 'the migration token (default $MVVM_MIGRATION_TOKEN)');

/** `mvvm scheduler` and the commands that talk to a running one (commands/scheduler.ts). */
function schedulerCommands(cli: Command, setExit: (code: number) => void): void {
  peerOptions(
    cli
      .command('scheduler')
      .description('run the scheduler daemon: time-slices tasks, monitors the host, migrates on thresholds, accepts migrations (with no task: a pure target)')
      .argument('[task]', 'a task to launch at once')
      .argument('[args...]', 'its arguments')
      .option('--listen <HOST:PORT>', 'accept migrations here (default 127.0.0.1:$MIGRATION_PORT, 9876; port 0: any free port)')
      .option('--targets <LIST>', 'migration targets ARCH@HOST:PORT,... (default $MIGRATION_TARGETS and $ARM_MIGRATION_HOST)')
      .addOption(dirOption())
      .addOption(envOption())
      .option('--control <PATH|HOST:PORT>', 'the control endpoint: a unix socket (default $MVVM_SCHEDULER_CONTROL, else /tmp/mvvm-scheduler-UID-PORT.sock) or a loopback HOST:PORT')
      .option('--module-cache <DIR>', 'modules by SHA-256, used for arriving tasks')
      .option('--no-precopy', 'stop-and-copy instead of pre-copy')
      .option('--output-dir <DIR>', "each launched task's stdout/stderr to DIR/task-ID.stdout|.stderr")
      .option('--proc-root <DIR>', 'read /proc from here (testing)')
      .option('--sys-root <DIR>', 'read /sys from here (testing)')
      .option('-v, --verbose', 'log every monitor sample')
      .passThroughOptions(),
  ).action(async (task: string | undefined, args: string[], o) => setExit(await (await sched()).schedulerCommand(task, args, o)));

  controlOptions(
    cli
      .command('launch')
      .description('launch a task in the running scheduler')
      .argument('<task>', 'the program')
      .argument('[args...]', 'its arguments')
      .addOption(dirOption())
      .addOption(envOption())
      .option('--to <HOST:PORT>', 'migrate it there at once')
      .passThroughOptions(),
  ).action(async (task: string, args: string[], o) => setExit(await (await sched()).launchCommand(task, args, o)));

  controlOptions(
    cli
      .command('ps')
      .description("the scheduler's tasks: state, host, instruction count, memory")
      .option('-w, --watch', 'follow changes (streamed as JSON patches of the task table)')
      .option('--json', 'machine-readable output'),
  ).action(async (o) => setExit(await (await sched()).psCommand(o)));

  for (const action of ['pause', 'resume', 'kill'] as const) {
    controlOptions(cli.command(action).description(`${action} a task of the scheduler`).argument('<task>', 'task id (mvvm ps)')).action(async (id: string, o) => setExit(await (await sched()).taskAction(action, id, o)));
  }

  controlOptions(cli.command('metrics').description("the scheduler monitor's last sample, thresholds and cost").option('--json', 'machine-readable output')).action(async (o) =>
    setExit(await (await sched()).metricsCommand(o)),
  );
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  try {
    await program((c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof Trap) {
      // The wasm call stack, innermost first, as node prints one: names, byte offsets, instructions.
      const stack = formatStack(trapStacks.get(e) ?? [], TRAP_FRAMES).map((l) => (l.startsWith('#') ? `    at ${l.replace(/^#\d+ /, '')}\n` : `    ${l}\n`));
      process.stderr.write(`mvvm: trap: ${message}\n${stack.join('')}`);
      return 134;
    }
    process.stderr.write(`mvvm: ${message}\n`);
    return e instanceof NoCheckpointError ? 3 : 1;
  }
}
