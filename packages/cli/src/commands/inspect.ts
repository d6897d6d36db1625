/** `mvvm inspect snap.mvvm [-t prog.wasm] [--json]`: what a snapshot holds, without running it. */
import { readFileSync, statSync } from 'node:fs';
import { DecodedSnapshot, ResolvedSnapshot, SnapshotError, toHex } from '@mvvm/snapshot';
import { loadChainFromFiles, readSnapshotFile } from '@mvvm/snapshot/node';
import { checkState } from '@mvvm/wasi/node';
import type { FdState } from '@mvvm/wasi/node';
import { formatBytes } from '../report';
import { compileFile } from '../session';
import { StackEntry, callStack, formatFrame, functionNames, importedFunctions } from '../stack';

export interface InspectFlags {
  json?: boolean;
  wasm?: string;
  base?: string[];
}

export async function inspect(path: string, f: InspectFlags): Promise<void> {
  const snap = await readSnapshotFile(path);
  // The whole chain, when its bases can be found: full memory figures. Otherwise this link alone.
  let chain: ResolvedSnapshot | null = null;
  let chainError: string | null = null;
  try {
    chain = await loadChainFromFiles(path, f.base ?? []);
  } catch (e) {
    if (!(e instanceof SnapshotError)) throw e;
    chainError = e.message;
  }
  const report = summarize(path, snap, chain, chainError, f.wasm);
  if (f.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(render(report).join('\n') + '\n');
}

function stackOf(snap: DecodedSnapshot, wasm?: string): StackEntry[] {
  if (wasm) {
    const compiled = compileFile(wasm, new Uint8Array(readFileSync(wasm)));
    const { module, code, functions } = compiled;
    const imported = importedFunctions(module);
    // Store addresses are function indices when one module is instantiated alone (imports first).
    const funcAddrs = Array.from({ length: imported + module.funcs.length }, (_, i) => i);
    // A snapshot holds each pc as an offset from its function's entry: translate the function to place it.
    const offset = (func: number, pc: number): number => {
      const f = functions[func - imported];
      if (!f) return -1;
      code.translate(f);
      return pc >= 0 && pc < f.end - f.entry ? code.wasmOffset(f.entry + pc) : -1;
    };
    return callStack(snap.machine.state.thread, { funcAddrs, names: functionNames(module), locate: { bytes: module.bytes, offset } });
  }
  return (snap.meta.stack as StackEntry[] | undefined) ?? callStack(snap.machine.state.thread, { funcAddrs: [], names: new Map() });
}

function summarize(path: string, snap: DecodedSnapshot, chain: ResolvedSnapshot | null, chainError: string | null, wasm?: string) {
  const h = snap.header;
  const t = snap.machine.state.thread;
  // Untrusted like the rest of the file: a crafted WASI state is one line (WasiRestoreError), not a TypeError.
  const wasi = snap.wasi === null || snap.wasi === undefined ? null : checkState(snap.wasi);
  return {
    file: path,
    size: statSync(path).size,
    id: toHex(snap.id),
    formatVersion: h.formatVersion,
    producer: h.producer,
    compressed: h.compressed,
    kind: h.incremental ? 'incremental' : 'full',
    base: h.incremental ? toHex(h.baseId) : null,
    chainLength: chain?.chain.length ?? null,
    chainError,
    moduleSha256: toHex(h.moduleHash),
    program: snap.meta.program ?? null,
    createdAt: snap.meta.createdAt ?? null,
    trigger: snap.meta.trigger ?? null,
    status: t.status,
    instructionCount: t.instructionCount,
    callDepth: t.frames.length / 3,
    stack: stackOf(snap, wasm),
    memories: snap.machine.memories.map((m, i) => ({
      pages: m.pages,
      bytes: m.pages * 65536,
      storedPages: m.indices.length,
      zeroedPages: m.zeroed.length,
      nonZeroPages: chain ? countNonZero(chain.state.memories[i].data) : null,
    })),
    fds: wasi?.fds?.map((d: FdState) => ({ fd: d.fd, kind: d.kind, stdio: d.kind === 'stdio' ? (d.stdio ?? d.fd) : null, path: guestPath(d), offset: d.offset, size: d.size ?? null })) ?? [],
    args: wasi?.args ?? null,
    exitCode: wasi?.exitCode ?? null,
    threads: threadsOf(snap),
  };
}

/** A thread group's threads (format version 3): status, count, where each waits, its innermost frame (from the meta). */
function threadsOf(snap: DecodedSnapshot) {
  const g = snap.group;
  if (!g) return null;
  const meta = Array.isArray(snap.meta.threads) ? (snap.meta.threads as Array<{ stack?: StackEntry[] } | null>) : [];
  return {
    quantum: g.quantum,
    threads: g.threads.map((t, id) => {
      const top = meta[id]?.stack?.[0];
      return {
        id,
        status: t.thread.status,
        instructionCount: t.thread.instructionCount,
        waitAddress: t.thread.wait?.address ?? null,
        at: top && typeof top.name === 'string' ? formatFrame(top) : null,
      };
    }),
  };
}

function guestPath(d: FdState): string | null {
  // A stdio fd keeps the stream it carries when fd_renumber moves it (older snapshots: its number).
  if (d.kind === 'stdio') return ['<stdin>', '<stdout>', '<stderr>'][d.stdio ?? d.fd] ?? '<stdio>';
  if (d.preopen === undefined) return null;
  const rel = (d.path ?? '').replace(/^\/+/, '');
  return rel ? `${d.preopen.replace(/\/+$/, '')}/${rel}` : d.preopen;
}

function countNonZero(data: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < data.length / 65536; p++) if (data.subarray(p * 65536, (p + 1) * 65536).some((b) => b !== 0)) n++;
  return n;
}

function render(r: ReturnType<typeof summarize>): string[] {
  const out = [
    `snapshot     ${r.file} (${formatBytes(r.size)}, ${r.kind}${r.compressed ? ', compressed' : ''})`,
    `id           ${r.id}`,
  ];
  if (r.base) out.push(`base         ${r.base}${r.chainLength ? ` (chain of ${r.chainLength})` : ''}${r.chainError ? ` — ${r.chainError}` : ''}`);
  out.push(
    `format       version ${r.formatVersion}, written by ${r.producer}`,
    `module       sha256 ${r.moduleSha256}${r.program ? ` (${r.program})` : ''}`,
  );
  if (r.createdAt) out.push(`taken        ${r.createdAt}${r.trigger ? `, ${r.trigger}` : ''}`);
  out.push(`state        ${r.status}, ${r.instructionCount} instructions, ${r.callDepth} frame${r.callDepth === 1 ? '' : 's'}`, 'stack');
  for (const [i, e] of r.stack.entries()) out.push(`  #${i} ${formatFrame(e)}`);
  r.memories.forEach((m, i) => {
    const content = m.nonZeroPages !== null ? `${m.nonZeroPages} not all zero` : 'contents need the base';
    out.push(`memory ${i}     ${m.pages} pages (${formatBytes(m.bytes)}), ${content}; this file stores ${m.storedPages}${r.kind === 'incremental' ? ` written since the base, ${m.zeroedPages} cleared` : ''}`);
  });
  if (r.threads) {
    const counts = new Map<string, number>();
    for (const t of r.threads.threads) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    out.push(`threads      ${r.threads.threads.length}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')} (quantum ${r.threads.quantum}; the state above is thread 0's)`);
    for (const t of r.threads.threads) {
      const what = t.waitAddress !== null ? `waiting on 0x${t.waitAddress.toString(16)}` : t.status;
      out.push(`  ${String(t.id).padStart(3)} ${what.padEnd(22)} ${String(t.instructionCount).padStart(10)} instructions${t.at ? `  ${t.at}` : ''}`);
    }
  }
  if (r.args) out.push(`args         ${JSON.stringify(r.args)}`);
  if (r.fds.length > 0) out.push('fds');
  for (const d of r.fds) {
    const where = d.kind === 'stdio' ? `${d.stdio === 0 ? 'read' : 'written'} ${d.offset} bytes` : d.kind === 'file' ? `offset ${d.offset}${d.size !== null ? `, size ${d.size}` : ''}` : '';
    out.push(`  ${String(d.fd).padStart(3)} ${d.kind.padEnd(8)} ${(d.path ?? '').padEnd(24)} ${where}`.trimEnd());
  }
  return out;
}
