/**
 * The Node host: the real file system, host fds as stdio, TCP listeners. The only entry
 * with `node:` imports. Its WASI defaults to this host and to the process's stdio, like
 * node:wasi, so switching is `import { WASI } from '@mvvm/wasi/node'`.
 */
import { randomFillSync } from 'node:crypto';
import { NodeFs } from './fs/node-fs';
import type { Host } from './host';
import { NodeFdStream, NodeListener } from './io/node-io';
import { WASI as CoreWASI } from './wasi';
import type { WasiOptions } from './wasi';

export * from './index';
export { NodeFs } from './fs/node-fs';
export { NodeFdStream, NodeListener } from './io/node-io';

export function nodeHost(): Host {
  const fs = new NodeFs();
  return {
    fs,
    fdStream: (fd) => new NodeFdStream(fd),
    listen: (host, port) => new NodeListener(host, port),
    randomFill: (bytes) => randomFillSync(bytes), // node:crypto: also on Node 18, which has no global crypto
  };
}

export class WASI extends CoreWASI {
  constructor(options: WasiOptions = {}) {
    super({ ...options, host: options.host ?? nodeHost() });
  }

  static restore(state: Parameters<typeof CoreWASI.restore>[0], options: WasiOptions = {}): WASI {
    return new WASI({ ...options, restoreFrom: state });
  }

  /** Resolves once every preopened listener is bound (their ports are then in state()). */
  async listening(): Promise<Array<{ fd: number; host: string; port: number }>> {
    const out: Array<{ fd: number; host: string; port: number }> = [];
    for (const e of this.fds.entries.values()) {
      if (e.listener instanceof NodeListener) {
        await e.listener.ready;
        out.push({ fd: e.fd, ...e.listener.address });
      }
    }
    return out;
  }
}
export { runOnWorkers } from './worker-threads';
export type { WorkerThreadsOptions, WorkersOutcome } from './worker-threads';
