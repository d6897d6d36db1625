/**
 * `mvvm debug -t prog.wasm [-i] [snap.mvvm]`: a step-debugger reading commands from
 * stdin, one per line, so it is scriptable (`printf 'step 100\nstack\n' | mvvm debug ...`).
 * Prompts only on a terminal. Debugger output goes to stdout, interleaved with the
 * program's own.
 */
import { createInterface } from 'node:readline';
import { parseCount, UsageError } from '../args';
import { Outcome, drive } from '../drive';
import { Session, writeSnapshot } from '../session';
import { TRAP_FRAMES, callStack, formatFrame, formatStack, functionName, liveThread, namingOf, trapStacks } from '../stack';
import { atCount, atFunctionEntry } from '../triggers';
import { formatSlot, hexdump, localTypes } from '../values';

const HELP = `commands:
  step [N]            run N instructions (default 1)          (s)
  until COUNT         run until the instruction count is COUNT
  to FUNC [K]         run to the K-th next entry into FUNC (name or index)
  continue            run to the end                          (c)
  stack               the call stack, innermost first        (bt)
  locals              the current frame's locals
  operands            the current frame's operand stack
  mem ADDR [LEN]      hex dump of linear memory (ADDR may be 0x...)
  checkpoint FILE     write a snapshot of this point
  info                instruction count, status, position
  quit                                                       (q)`;

export async function debug(s: Session): Promise<number> {
  const out = (line: string): void => void process.stdout.write(line + '\n');
  const m = s.machine;
  const where = () => {
    const [top] = callStack(liveThread(m), namingOf(m));
    return top ? `at instruction ${m.instructionCount} in ${formatFrame(top)}, depth ${m.thread.depth}` : `at instruction ${m.instructionCount}`;
  };
  let exitCode: number | null = null;
  const go = async (promise: Promise<Outcome>) => {
    const o = await promise;
    if (o.kind === 'exit') {
      exitCode = o.code;
      out(`program exited with code ${o.code} after ${m.instructionCount} instructions${o.results?.length ? `, results ${o.results.join(' ')}` : ''}`);
    } else out(`stopped ${where()}`);
  };
  const running = (): void => {
    if (exitCode !== null) throw new UsageError('the program has ended');
  };
  const stopWhen = (trigger: ReturnType<typeof atCount>) => go(drive(s, { triggers: [trigger], onFire: async () => false }));

  const commands: Record<string, (args: string[]) => Promise<void> | void> = {
    help: () => out(HELP),
    step: (a) => (running(), stopWhen(atCount(m.instructionCount + (a[0] ? parseCount(a[0], 'step') : 1)))),
    until: (a) => (running(), stopWhen(atCount(parseCount(a[0] ?? '', 'until')))),
    to: (a) => (running(), stopWhen(atFunctionEntry(m, a[0] ?? '', a[1] ? parseCount(a[1], 'to') : 1))),
    continue: () => (running(), go(drive(s))),
    stack: () => formatStack(callStack(liveThread(m), namingOf(m))).forEach(out),
    locals: () => frameSlots(s, 'locals').forEach(out),
    operands: () => frameSlots(s, 'operands').forEach(out),
    mem: (a) => {
      const addr = Number(a[0]);
      const len = a[1] ? Number(a[1]) : 64;
      const mem = m.memory;
      if (!mem) throw new UsageError('the module has no memory');
      if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > mem.byteLength) throw new UsageError(`mem: ${a.join(' ')} is outside memory (${mem.byteLength} bytes)`);
      hexdump(mem.u8.subarray(addr, addr + len), addr).forEach(out);
    },
    checkpoint: async (a) => {
      running();
      if (!a[0]) throw new UsageError('checkpoint FILE');
      const snap = await writeSnapshot(s, { path: a[0], incremental: false, compress: false, trigger: 'debugger' });
      out(`wrote ${a[0]} (${snap.bytes.length} bytes) ${where()}`);
    },
    info: () => out(`${m.thread.status} ${where()}`),
  };
  const aliases: Record<string, string> = { s: 'step', c: 'continue', bt: 'stack', x: 'mem', q: 'quit', '?': 'help' };

  const rl = createInterface({ input: process.stdin, terminal: !!process.stdin.isTTY, output: process.stdin.isTTY ? process.stdout : undefined });
  const prompt = () => process.stdin.isTTY && rl.prompt();
  rl.setPrompt('(mvvm) ');
  out(`${s.wasmPath}: ${where()} — 'help' lists the commands`);
  prompt();
  for await (const raw of rl) {
    const [word, ...args] = raw.trim().split(/\s+/);
    if (word) {
      const name = aliases[word] ?? word;
      if (name === 'quit') break;
      const cmd = commands[name];
      if (!cmd) out(`unknown command '${word}' (help lists them)`);
      else {
        try {
          await cmd(args);
        } catch (e) {
          // A trap ends the program; anything else (a bad argument) leaves it where it was.
          out(`error: ${(e as Error).message}`);
          for (const line of formatStack(trapStacks.get(e as Error) ?? [], TRAP_FRAMES)) out(`  ${line}`);
          if (m.thread.status === 'trapped' || m.thread.status === 'idle') exitCode = 134;
        }
      }
    }
    prompt();
  }
  rl.close();
  return exitCode ?? 0;
}

/** The current frame's locals or operand stack, read from the machine's state (slot pairs, host-independent). */
function frameSlots(s: Session, which: 'locals' | 'operands'): string[] {
  const m = s.machine;
  const st = m.thread.status;
  if (st !== 'running' && st !== 'suspended') return ['(no frame: the program is not running)'];
  const th = m.snapshot().thread;
  const index = Array.prototype.indexOf.call(m.instance.funcAddrs, th.funcAddr) as number;
  const f = m.store.functions[th.funcAddr];
  if (!f.compiled) return ['(in a host function)'];
  const types = localTypes(m, index);
  const names = m.instance.compiled.module.names.locals.get(index);
  const nLocals = f.compiled.numLocals;
  const [from, to] = which === 'locals' ? [th.fp, th.fp + nLocals] : [th.fp + nLocals, th.sp];
  const lines = [`${which} of ${functionName(namingOf(m), index)}:`];
  for (let slot = from; slot < to; slot++) {
    const i = slot - from;
    const label = which === 'locals' ? `${i}${names?.get(i) ? ` ${names.get(i)}` : ''}` : `${i}`;
    lines.push(`  [${label}] ${formatSlot(th.stack[2 * slot], th.stack[2 * slot + 1], which === 'locals' ? types[i] : undefined)}`);
  }
  if (lines.length === 1) lines.push('  (empty)');
  return lines;
}

