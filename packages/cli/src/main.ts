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
import { checkpointCommand, restoreCommand, run } from './commands/run';
import { Launch, resume, start } from './session';
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

function launchOf(wasm: string, o: { arg?: string[]; env: [string, string][]; dir: Launch['dirs']; invoke?: string; deterministic?: boolean; tier?: Tier }, rest: string[] = []): Launch {
  return { wasm, args: [...(o.arg ?? []), ...rest], env: Object.fromEntries(o.env), dirs: o.dir, invoke: o.invoke, deterministic: o.deterministic === true, tier: o.tier };
}

export function program(setExit: (code: number) => void): Command {
  const cli = new Command('mvvm')
    .description('Run WebAssembly programs, checkpoint them at any instruction and restore them anywhere')
    .version(VERSION)
    .enablePositionalOptions()
    .showHelpAfterError(false);

  cli
    .command('run')
    .description('run a WASI program to its end')
    .argument('<wasm>', 'the program')
    .argument('[args...]', 'its arguments')
    .addOption(dirOption())
    .addOption(envOption())
    .addOption(invokeOption())
    .addOption(deterministicOption())
    .addOption(tierOption())
    .passThroughOptions()
    .action(async (wasm: string, args: string[], o) => setExit(await run(launchOf(wasm, o, args))));

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
    .action(async (args: string[], o) => setExit(await checkpointCommand(launchOf(o.target, o, args), o)));

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
      setExit(await debug(session));
    });
  return cli;
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
