import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { OutputSink, WASI, WasiOptions } from '../src/node';

export const PROGRAMS = path.join(__dirname, 'programs');

export function wasmBytes(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(fs.readFileSync(path.join(PROGRAMS, `${name}.wasm`)));
}

export function tempDir(prefix = 'mvvm-wasi-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Every file under dir as relative path -> `leaf(contents)` (by default the contents as a
 * latin1 string), directories as '' with a trailing slash, symlinks as '-> target'.
 */
export function readTree(dir: string, leaf: (contents: Buffer) => string = (b) => b.toString('latin1')): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, r);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out[r] = '-> ' + fs.readlinkSync(full);
      else if (st.isDirectory()) {
        out[r + '/'] = '';
        visit(r);
      } else out[r] = leaf(fs.readFileSync(full));
    }
  };
  visit('');
  return out;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunSpec {
  args?: string[];
  env?: Record<string, string>;
  /** Host directory preopened as /sandbox. */
  dir?: string;
  /** Contents of stdin, given as a file. */
  stdin?: string;
}

/** Runs a program under node:wasi (V8), stdio through files as node:wasi needs host fds. */
export async function runNodeWasi(name: string, spec: RunSpec): Promise<RunResult> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { WASI: NodeWASI } = require('node:wasi');
  const io = tempDir('mvvm-wasi-io-');
  const inPath = path.join(io, 'in');
  fs.writeFileSync(inPath, spec.stdin ?? '');
  const fin = fs.openSync(inPath, 'r');
  const fout = fs.openSync(path.join(io, 'out'), 'w');
  const ferr = fs.openSync(path.join(io, 'err'), 'w');
  try {
    const wasi = new NodeWASI({
      version: 'preview1',
      args: spec.args ?? [name],
      env: spec.env ?? {},
      preopens: spec.dir ? { '/sandbox': spec.dir } : {},
      returnOnExit: true,
      stdin: fin,
      stdout: fout,
      stderr: ferr,
    });
    const module = await WebAssembly.compile(wasmBytes(name));
    // getImportObject() is Node 20's: Node 18's node:wasi has wasiImport.
    const imports = typeof wasi.getImportObject === 'function' ? wasi.getImportObject() : { wasi_snapshot_preview1: wasi.wasiImport };
    const instance = await WebAssembly.instantiate(module, imports);
    const code = wasi.start(instance) ?? 0;
    return { stdout: fs.readFileSync(path.join(io, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(io, 'err'), 'utf8'), code };
  } finally {
    for (const f of [fin, fout, ferr]) fs.closeSync(f);
    fs.rmSync(io, { recursive: true, force: true });
  }
}

/** Runs a program on the interpreter with the Node host. */
export async function runOurs(name: string, spec: RunSpec, extra: Partial<WasiOptions> = {}): Promise<RunResult & { wasi: WASI; machine: Machine }> {
  const stdout = new OutputSink();
  const stderr = new OutputSink();
  const wasi = new WASI({
    args: spec.args ?? [name],
    env: spec.env ?? {},
    preopens: spec.dir ? { '/sandbox': spec.dir } : {},
    stdin: spec.stdin ?? '',
    stdout,
    stderr,
    ...extra,
  });
  const machine = await Machine.instantiate(wasmBytes(name), wasi.getImports());
  const code = await wasi.start(machine);
  wasi.close();
  return { stdout: stdout.text(), stderr: stderr.text(), code, wasi, machine };
}
