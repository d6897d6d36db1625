/**
 * `mvvm restore` treats the snapshot as untrusted: preopens and listeners come only from
 * its own --dir and --listen, what the snapshot asks for is printed (--verbose), and a
 * snapshot asking for more — or holding a crafted WASI state — is refused with one line
 * before the program runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { checkpoint, moduleHash } from '@mvvm/snapshot';
import { DIRECTORY_RIGHTS, ALL_RIGHTS, OutputSink, WASI } from '@mvvm/wasi/node';
import type { FdState } from '@mvvm/wasi/node';
import { PROGRAMS, mvvm, workdir, writeInput } from './cli-harness';

const FILES = join(PROGRAMS, 'files.wasm');

/** A checksummed snapshot of files.wasm part-way, its WASI state changed by `edit`. */
async function crafted(dir: string, name: string, edit: (fds: FdState[]) => void): Promise<void> {
  const bytes = new Uint8Array(readFileSync(FILES));
  const wasi = new WASI({ args: ['files.wasm'], preopens: { '/data': join(dir, 'data') }, stdout: new OutputSink(), stderr: new OutputSink() });
  const m = await Machine.instantiate(bytes, wasi.getImports());
  m.begin('_start', []);
  m.step(200_000);
  const state = wasi.state();
  wasi.close();
  edit(state.fds);
  const snap = await checkpoint(m, { moduleHash: await moduleHash(bytes), wasi: state, meta: {} });
  writeFileSync(join(dir, name), snap.bytes);
}

test('restore without --dir for the snapshot\'s preopen is refused with one line; with it, it runs', () => {
  const dir = workdir(writeInput);
  expect(mvvm(['checkpoint', '-t', FILES, '-d', 'data::/data', '-c', '200000', '-o', 's.mvvm'], dir).code).toBe(0);
  const refused = mvvm(['restore', '-t', FILES, 's.mvvm'], dir);
  expect(refused.stderr.toString()).toMatch(/^mvvm: the snapshot asks for preopen '\/data', not granted on this host \([^\n]*--dir HOST::GUEST[^\n]*\)\n$/);
  expect(refused.code).toBe(1);
  expect(refused.stdout.length).toBe(0);
  // Granting another guest name does not help: the snapshot's recorded host directory is never used.
  expect(mvvm(['restore', '-t', FILES, '-d', 'data::/other', 's.mvvm'], dir).stderr.toString()).toMatch(/^mvvm: the snapshot asks for preopen '\/data', not granted/);
  const ok = mvvm(['restore', '-t', FILES, '-d', 'data::/data', '--verbose', 's.mvvm'], dir);
  expect(ok.stderr.toString()).toMatch(/^mvvm: the snapshot asks for preopen '\/data'\n/m);
  const ref = mvvm(['run', '--dir', 'data::/data', FILES], workdir(writeInput));
  expect(ok.code).toBe(ref.code);
  expect(ok.stdout.length).toBeGreaterThan(0);
});

test('a crafted snapshot asking for another preopen and a listener is refused, naming both', async () => {
  const dir = workdir(writeInput);
  await crafted(dir, 'x.mvvm', (fds) => {
    fds.push({ fd: 20, kind: 'preopen', filetype: 3, rightsBase: DIRECTORY_RIGHTS, rightsInheriting: ALL_RIGHTS, fdflags: 0, offset: 0, preopen: '/host' });
    fds.push({ fd: 21, kind: 'listener', filetype: 6, rightsBase: 0, rightsInheriting: 0, fdflags: 0, offset: 0, listen: { host: '0.0.0.0', port: 8080 } });
  });
  const r = mvvm(['restore', '-t', FILES, '-d', 'data::/data', 'x.mvvm'], dir);
  expect(r.stderr.toString()).toBe("mvvm: the snapshot asks for preopen '/host' and a listening socket (fd 21, it had 0.0.0.0:8080), not granted on this host (options.preopens / options.listen; mvvm restore --dir HOST::GUEST / --listen HOST:PORT)\n");
  expect(r.code).toBe(1);
});

test('a crafted path or stdio fd in the WASI state is refused with one line naming the field', async () => {
  const dir = workdir(writeInput);
  await crafted(dir, 'path.mvvm', (fds) => {
    const file = fds.find((f) => f.kind === 'file')!;
    file.path = '../../../../etc/passwd';
  });
  await crafted(dir, 'stdio.mvvm', (fds) => {
    fds.push({ ...fds[1], fd: 9, stdio: undefined });
  });
  const a = mvvm(['restore', '-t', FILES, '-d', 'data::/data', 'path.mvvm'], dir);
  expect(a.stderr.toString()).toMatch(/^mvvm: WASI state: fds\[\d+\]\.path '\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd' is not a plain relative path[^\n]*\n$/);
  expect(a.code).toBe(1);
  const b = mvvm(['restore', '-t', FILES, '-d', 'data::/data', 'stdio.mvvm'], dir);
  expect(b.stderr.toString()).toMatch(/^mvvm: WASI state: fds\[\d+\]\.stdio is missing and fd 9 is not 0, 1 or 2[^\n]*\n$/);
  // inspect reads the same state: the same line, not a TypeError.
  const c = mvvm(['inspect', 'path.mvvm'], dir);
  expect(c.stderr.toString()).toMatch(/^mvvm: WASI state: fds\[\d+\]\.path '\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd' is not a plain relative path[^\n]*\n$/);
  expect(c.code).toBe(1);
});

test('--listen takes [HOST:]PORT', () => {
  const r = mvvm(['restore', '-t', FILES, '--listen', 'nope', 'x.mvvm'], workdir());
  expect(r.stderr.toString()).toBe("mvvm: --listen 'nope': expected [HOST:]PORT\n");
});
