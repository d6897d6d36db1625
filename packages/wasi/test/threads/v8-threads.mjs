// The V8 reference for wasi-threads programs: runs a module with Node's own WebAssembly,
// every wasm thread (the main one too) on a worker_threads Worker, all instances of the
// module on one shared WebAssembly.Memory, as wasmtime and the wasi-threads proposal do.
//
//   node packages/wasi/test/threads/v8-threads.mjs prog.wasm [args...]
//
// prints the program's stdout/stderr and exits with its exit code (a trap: 134 and a line
// on stderr). The JS main thread only coordinates: it creates the Workers that thread-spawn
// asks for (a worker blocked in memory.atomic.wait cannot receive messages, and a Worker's
// children die with it) and ends the process on proc_exit, a trap, or the end of _start.
// WASI is minimal: fd_write to stdout/stderr, args, environ (empty), clock_time_get,
// random_get, sched_yield, proc_exit; any other import returns ENOSYS.
import { readFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const ENOSYS = 52;
const EBADF = 8;
const EAGAIN = 6;

/** The limits of the module's imported memory, read from its import section. */
function importedMemory(bytes) {
  let p = 8;
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return result;
    }
  };
  const name = () => {
    const n = u32();
    const s = Buffer.from(bytes.subarray(p, p + n)).toString('utf8');
    p += n;
    return s;
  };
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 2) {
      for (let count = u32(); count > 0; count--) {
        const module = name();
        const field = name();
        const kind = bytes[p++];
        if (kind === 0) u32();
        else if (kind === 1) {
          p++;
          const flags = u32();
          u32();
          if (flags & 1) u32();
        } else if (kind === 2) {
          const flags = u32();
          const initial = u32();
          const maximum = flags & 1 ? u32() : undefined;
          return { module, field, initial, maximum, shared: (flags & 2) !== 0 };
        } else if (kind === 3) p += 2;
        else throw new Error(`import kind ${kind}`);
      }
    }
    p = end;
  }
  return null;
}

if (isMainThread) {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node v8-threads.mjs prog.wasm [args...]\n');
    process.exit(2);
  }
  const bytes = new Uint8Array(readFileSync(file));
  const module = new WebAssembly.Module(bytes);
  const mem = importedMemory(bytes);
  if (!mem || !mem.shared) {
    process.stderr.write(`${file}: imports no shared memory (not a wasi-threads module)\n`);
    process.exit(2);
  }
  const memory = new WebAssembly.Memory({ initial: mem.initial, maximum: mem.maximum, shared: true });
  // [0]: the last tid handed out (thread-spawn runs on any worker, so the counter is shared).
  const control = new Int32Array(new SharedArrayBuffer(4));
  const args = [file.split('/').pop(), ...rest];
  const workers = new Set();
  const end = (code) => {
    for (const w of workers) w.removeAllListeners('exit');
    process.exit(code);
  };
  const start = (tid, arg) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { module, memory, memoryImport: [mem.module, mem.field], control, args, tid, arg } });
    workers.add(w);
    w.on('message', (m) => {
      if (m.spawn !== undefined) start(m.spawn, m.arg);
      else if (m.exit !== undefined) end(m.exit);
    });
    w.on('error', (e) => {
      process.stderr.write(`thread ${tid}: ${e && e.message ? e.message : e}\n`);
      end(134);
    });
    w.on('exit', () => workers.delete(w));
  };
  start(0, 0);
} else {
  const { module, memory, memoryImport, control, args, tid, arg } = workerData;
  const view = () => new DataView(memory.buffer);
  const u8 = () => new Uint8Array(memory.buffer);
  const argBytes = args.map((a) => Buffer.from(a + '\0', 'utf8'));
  const preview1 = {
    fd_write(fd, iovs, n, written) {
      if (fd !== 1 && fd !== 2) return EBADF;
      const dv = view();
      let total = 0;
      const parts = [];
      for (let i = 0; i < n; i++) {
        const ptr = dv.getUint32(iovs + 8 * i, true);
        const len = dv.getUint32(iovs + 8 * i + 4, true);
        parts.push(Buffer.from(u8().slice(ptr, ptr + len)));
        total += len;
      }
      writeSync(fd, Buffer.concat(parts));
      dv.setUint32(written, total, true);
      return 0;
    },
    args_sizes_get(argc, size) {
      const dv = view();
      dv.setUint32(argc, argBytes.length, true);
      dv.setUint32(size, argBytes.reduce((s, b) => s + b.length, 0), true);
      return 0;
    },
    args_get(argv, buf) {
      const dv = view();
      let p = buf;
      argBytes.forEach((b, i) => {
        dv.setUint32(argv + 4 * i, p, true);
        u8().set(b, p);
        p += b.length;
      });
      return 0;
    },
    environ_sizes_get(count, size) {
      view().setUint32(count, 0, true);
      view().setUint32(size, 0, true);
      return 0;
    },
    environ_get() {
      return 0;
    },
    clock_time_get(id, _precision, out) {
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : process.hrtime.bigint();
      view().setBigUint64(out, ns, true);
      return 0;
    },
    random_get(buf, len) {
      randomFillSync(u8(), buf, len);
      return 0;
    },
    sched_yield() {
      return 0;
    },
    proc_exit(code) {
      parentPort.postMessage({ exit: code });
      // The coordinator ends the process; this thread does nothing more.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    },
  };
  const imports = { [memoryImport[0]]: { [memoryImport[1]]: memory }, wasi_snapshot_preview1: {}, wasi: {} };
  imports.wasi['thread-spawn'] = (startArg) => {
    const newTid = Atomics.add(control, 0, 1) + 1;
    if (newTid > 0x1fffffff) return -EAGAIN;
    parentPort.postMessage({ spawn: newTid, arg: startArg });
    return newTid;
  };
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function' || imp.module !== 'wasi_snapshot_preview1') continue;
    imports.wasi_snapshot_preview1[imp.name] = preview1[imp.name] ?? (() => ENOSYS);
  }
  const instance = new WebAssembly.Instance(module, imports);
  if (tid === 0) {
    instance.exports._start();
    parentPort.postMessage({ exit: 0 });
  } else {
    instance.exports.wasi_thread_start(tid, arg);
  }
}
