/**
 * The escape suite: one table of attempts to reach outside a preopen — `..` in many forms,
 * absolute paths, host-made and guest-made symlinks (absolute, relative, chains, loops,
 * dangling with O_CREAT), renames and swaps of open directories, hard links, fd_renumber
 * onto the preopen, missing rights, files used as directories — and of crafted WASI states
 * handed to WASI.restore. Every attempt must be refused, with the errno (or the
 * WasiRestoreError) given, on both the Node host and the in-memory host; after each one
 * nothing outside the box has changed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALL_RIGHTS, DIRECTORY_RIGHTS, Errno, MemoryFs, NodeFs, OFlags, OutputSink, Rights, STREAM_RIGHTS, WASI, WasiRestoreError, memoryHost, nodeHost } from '../src/node';
import type { Host } from '../src/node';
import { readTree, tempDir } from './helpers';
import { RawGuest } from './raw-guest';

/** A directory tree on one host: `root` holds box/ (the preopen), outside/ and elsewhere/. */
interface Tree {
  root: string;
  box: string;
  host: Host | undefined;
  mkdir(rel: string): void;
  write(rel: string, text: string): void;
  symlink(target: string, rel: string): void;
  rename(from: string, to: string): void;
  rmdir(rel: string): void;
  /** Every entry under rel: path -> contents ('' for directories, '-> target' for links). */
  list(rel: string): Record<string, string>;
  rootEntries(): string[];
}

/** The Node host, resolving by directory handle (Linux) or, with `handles: false`, by path. */
function nodeTree(handles = true): Tree {
  const root = tempDir('mvvm-escape-');
  const at = (rel: string) => path.join(root, rel);
  return {
    root,
    box: at('box'),
    host: { ...nodeHost(), fs: new NodeFs({ handles }) },
    mkdir: (rel) => fs.mkdirSync(at(rel), { recursive: true }),
    write: (rel, text) => fs.writeFileSync(at(rel), text),
    symlink: (target, rel) => fs.symlinkSync(target, at(rel)),
    rename: (from, to) => fs.renameSync(at(from), at(to)),
    rmdir: (rel) => fs.rmdirSync(at(rel)),
    list: (rel) => readTree(at(rel)),
    rootEntries: () => fs.readdirSync(root).sort(),
  };
}

function memoryTree(): Tree {
  const mem = new MemoryFs();
  const root = '/root';
  const at = (rel: string) => `${root}/${rel}`;
  mem.mkdirp(root);
  return {
    root,
    box: at('box'),
    host: memoryHost(mem),
    mkdir: (rel) => mem.mkdirp(at(rel)),
    write: (rel, text) => mem.writeFile(at(rel), text),
    symlink: (target, rel) => mem.symlink(target, at(rel)),
    rename: (from, to) => mem.rename(at(from), at(to)),
    rmdir: (rel) => mem.rmdir(at(rel)),
    list: (rel) => Object.fromEntries(Object.entries(mem.list(at(rel))).map(([k, v]) => [k, typeof v === 'string' ? v : new TextDecoder().decode(v)])),
    rootEntries: () => Object.keys(mem.list(root)).filter((k) => /^[^/]+\/?$/.test(k)).map((k) => k.replace(/\/$/, '')).sort(),
  };
}

/** Symlinks the user's host put in the box, most pointing out of it ({root}: the tree's root). */
const HOST_LINKS: Record<string, string> = {
  'link-out': '../outside',
  'link-abs': '{root}/outside',
  'link-abs-file': '{root}/outside/secret.txt',
  chain1: 'chain2',
  chain2: '../outside/secret.txt',
  loop: 'loop',
  loopa: 'loopb',
  loopb: 'loopa',
  'sub/up': '..',
  'sub/upup': '../..',
  'sub/out2': '../../outside',
  'dangling-out': '../outside/new.txt',
  'dangling-abs': '{root}/outside/new2.txt',
};

function populate(t: Tree): void {
  t.mkdir('outside/sub');
  t.write('outside/secret.txt', 'SECRET');
  t.write('outside/sub/secret.txt', 'SECRET');
  t.mkdir('elsewhere');
  t.mkdir('box/sub/deeper');
  t.mkdir('box/sw');
  t.mkdir('box/anc/child');
  t.write('box/inside.txt', 'inside');
  t.write('box/sub/f.txt', 'f');
  t.write('box/sub/deeper/g.txt', 'g');
  for (const [name, target] of Object.entries(HOST_LINKS)) t.symlink(target.replace('{root}', t.root), `box/${name}`);
}

const PRE = 3;

/** How many fds this process has open (Linux), to catch leaked handles; 0 elsewhere. */
function openHostFds(): number {
  return process.platform === 'linux' ? fs.readdirSync('/proc/self/fd').length : 0;
}
const { NOTCAPABLE, NOENT, NOTDIR, LOOP, BADF } = Errno;

/** Opens a directory the attempt needs; failing here is a broken test, not a refusal. */
function dir(g: RawGuest, at: number, p: string, rights?: { base?: number; inheriting?: number }): number {
  const r = g.openDir(at, p, rights);
  if (r.errno !== 0) throw new Error(`setup: opening ${p} failed with errno ${r.errno}`);
  return r.fd;
}

/** Steps the guest takes that must succeed (setting up the attempt). */
function ok(errno: number, what: string): void {
  if (errno !== 0) throw new Error(`setup: ${what} failed with errno ${errno}`);
}

/** The swap of issue 7 by the guest: opens `opened`, moves `top` (it or an ancestor) away and the host's link-out into its place; the fd. */
function guestSwap(g: RawGuest, opened: string, top: string): number {
  const fd = dir(g, PRE, opened);
  ok(g.rename(PRE, top, PRE, `${top}.moved`), `rename ${top}`);
  ok(g.rename(PRE, 'link-out', PRE, top), 'rename link-out');
  return fd;
}

interface Attempt {
  name: string;
  errno: Errno;
  run(g: RawGuest, t: Tree): number;
}

const read = (p: string, errno: Errno, follow = true): Attempt => ({ name: `read ${p}${follow ? '' : ' (nofollow)'}`, errno, run: (g, t) => g.readFile(PRE, p.replace('{root}', t.root), follow).errno });
const create = (p: string, errno: Errno, oflags = OFlags.CREAT, follow = true): Attempt => ({
  name: `create ${p} (oflags ${oflags}${follow ? '' : ', nofollow'})`,
  errno,
  run: (g, t) => g.open(PRE, p.replace('{root}', t.root), { oflags, follow, base: Rights.FD_WRITE, inheriting: 0 }).errno,
});
const fromDir = (d: string, p: string, errno: Errno): Attempt => ({ name: `read ${p} from an fd on ${d}`, errno, run: (g) => g.readFile(dir(g, PRE, d), p).errno });

const ATTEMPTS: Attempt[] = [
  // `..` in many forms, and absolute paths
  read('../outside/secret.txt', NOTCAPABLE),
  read('..', NOTCAPABLE),
  read('../', NOTCAPABLE),
  read('./../outside/secret.txt', NOTCAPABLE),
  read('sub/../../outside/secret.txt', NOTCAPABLE),
  read('sub/../sub/../../outside/secret.txt', NOTCAPABLE),
  read('sub/deeper/../../../outside/secret.txt', NOTCAPABLE),
  read('..//outside/secret.txt', NOTCAPABLE),
  read('./.././outside/secret.txt', NOTCAPABLE),
  read('sub/./../..', NOTCAPABLE),
  read('../box/inside.txt', NOTCAPABLE),
  read('inside.txt/../../outside/secret.txt', NOTDIR),
  read('/etc/passwd', NOTCAPABLE),
  read('/', NOTCAPABLE),
  read('{root}/outside/secret.txt', NOTCAPABLE),
  read('//outside/secret.txt', NOTCAPABLE),
  read('{root}/box/inside.txt', NOTCAPABLE),
  // host-made symlinks: relative, absolute, chains, loops, dangling
  read('link-out/secret.txt', NOTCAPABLE),
  read('link-out/sub/secret.txt', NOTCAPABLE),
  read('link-abs/secret.txt', NOTCAPABLE),
  read('link-abs-file', NOTCAPABLE),
  read('chain1', NOTCAPABLE),
  read('sub/upup/outside/secret.txt', NOTCAPABLE),
  read('sub/up/../outside/secret.txt', NOTCAPABLE),
  read('sub/out2/secret.txt', NOTCAPABLE),
  read('loop', LOOP),
  read('loopa', LOOP),
  read('dangling-out', NOTCAPABLE),
  read('link-out', LOOP, false),
  // below an opened directory: `..` may not climb above it
  fromDir('sub', '../inside.txt', NOTCAPABLE),
  fromDir('sub', '../../outside/secret.txt', NOTCAPABLE),
  fromDir('sub', 'up/inside.txt', NOTCAPABLE),
  fromDir('sub/deeper', '../../../outside/secret.txt', NOTCAPABLE),
  // creating through escaping paths, dangling symlinks with O_CREAT
  create('link-out/new.txt', NOTCAPABLE),
  create('dangling-out', NOTCAPABLE),
  create('dangling-abs', NOTCAPABLE),
  create('dangling-out', LOOP, OFlags.CREAT, false),
  create('dangling-out', NOTCAPABLE, OFlags.CREAT | OFlags.EXCL),
  create('link-out/secret.txt', NOTCAPABLE, OFlags.CREAT | OFlags.TRUNC),
  create('../planted.txt', NOTCAPABLE),
  create('/tmp/planted.txt', NOTCAPABLE),
  create('sub/out2/planted.txt', NOTCAPABLE),
  // every other path call through an escaping path
  { name: 'mkdir link-out/newdir', errno: NOTCAPABLE, run: (g) => g.mkdir(PRE, 'link-out/newdir') },
  { name: 'mkdir ../newdir', errno: NOTCAPABLE, run: (g) => g.mkdir(PRE, '../newdir') },
  { name: 'rmdir link-out/sub', errno: NOTCAPABLE, run: (g) => g.rmdir(PRE, 'link-out/sub') },
  { name: 'unlink link-out/secret.txt', errno: NOTCAPABLE, run: (g) => g.unlink(PRE, 'link-out/secret.txt') },
  { name: 'unlink ../outside/secret.txt', errno: NOTCAPABLE, run: (g) => g.unlink(PRE, '../outside/secret.txt') },
  { name: 'rename link-out/secret.txt in', errno: NOTCAPABLE, run: (g) => g.rename(PRE, 'link-out/secret.txt', PRE, 'stolen.txt') },
  { name: 'rename inside.txt to ../outside', errno: NOTCAPABLE, run: (g) => g.rename(PRE, 'inside.txt', PRE, '../outside/moved.txt') },
  { name: 'rename inside.txt into link-out', errno: NOTCAPABLE, run: (g) => g.rename(PRE, 'inside.txt', PRE, 'link-out/moved.txt') },
  { name: 'stat link-out (follow)', errno: NOTCAPABLE, run: (g) => g.stat(PRE, 'link-out') },
  { name: 'stat link-abs-file (follow)', errno: NOTCAPABLE, run: (g) => g.stat(PRE, 'link-abs-file') },
  { name: 'stat link-out/secret.txt (nofollow)', errno: NOTCAPABLE, run: (g) => g.stat(PRE, 'link-out/secret.txt', false) },
  { name: 'set times of link-out/secret.txt', errno: NOTCAPABLE, run: (g) => g.setTimes(PRE, 'link-out/secret.txt') },
  { name: 'readlink through link-out', errno: NOTCAPABLE, run: (g) => g.readlink(PRE, 'link-out/x').errno },
  { name: 'symlink created through link-out', errno: NOTCAPABLE, run: (g) => g.symlink('x', PRE, 'link-out/planted') },
  // guest-made symlinks: refused when they leave the preopen; inside ones cannot be used to climb out
  { name: 'symlink -> ../outside', errno: NOTCAPABLE, run: (g) => g.symlink('../outside', PRE, 'g') },
  { name: 'symlink -> ../../../../etc', errno: NOTCAPABLE, run: (g) => g.symlink('../../../../etc', PRE, 'g') },
  { name: 'symlink -> /etc/passwd', errno: NOTCAPABLE, run: (g) => g.symlink('/etc/passwd', PRE, 'g') },
  { name: 'symlink -> sub/../../outside', errno: NOTCAPABLE, run: (g) => g.symlink('sub/../../outside', PRE, 'g') },
  { name: 'symlink -> sub/../..', errno: NOTCAPABLE, run: (g) => g.symlink('sub/../..', PRE, 'g') },
  { name: 'symlink sub/g -> ../../outside', errno: NOTCAPABLE, run: (g) => g.symlink('../../outside', PRE, 'sub/g') },
  {
    name: 'guest symlink sub/g -> .. (inside), then climb through it',
    errno: NOTCAPABLE,
    run: (g) => (ok(g.symlink('..', PRE, 'sub/g'), 'symlink'), g.readFile(PRE, 'sub/g/../outside/secret.txt').errno),
  },
  {
    name: 'guest symlink c -> sub/up/.. (lexically inside), then through it',
    errno: NOTCAPABLE,
    run: (g) => (ok(g.symlink('sub/up/..', PRE, 'c'), 'symlink'), g.readFile(PRE, 'c/outside/secret.txt').errno),
  },
  { name: 'guest symlink loop', errno: LOOP, run: (g) => (ok(g.symlink('gl', PRE, 'gl'), 'symlink'), g.readFile(PRE, 'gl').errno) },
  {
    name: 'guest dangling symlink through sub/up, O_CREAT',
    errno: NOTCAPABLE,
    run: (g) => (ok(g.symlink('sub/up/../new.txt', PRE, 'gd'), 'symlink'), g.createFile(PRE, 'gd', 'planted')),
  },
  // renames and swaps of open directories
  {
    name: 'guest moves an open dir away and moves link-out into its place; read through the old fd',
    errno: NOENT,
    run: (g) => g.readFile(guestSwap(g, 'sw', 'sw'), 'secret.txt').errno,
  },
  { name: 'the same, read through the new name', errno: NOTCAPABLE, run: (g) => (guestSwap(g, 'sw', 'sw'), g.readFile(PRE, 'sw/secret.txt').errno) },
  {
    name: 'guest moves the ancestor of an open dir and puts link-out there',
    errno: NOENT,
    run: (g) => g.readFile(guestSwap(g, 'anc/child', 'anc'), 'secret.txt').errno,
  },
  ...(
    [
      ['read', (g: RawGuest, fd: number) => g.readFile(fd, 'secret.txt').errno],
      ['create', (g: RawGuest, fd: number) => g.createFile(fd, 'planted.txt', 'planted')],
      ['readdir', (g: RawGuest, fd: number) => g.readdir(fd).errno],
      ['mkdir', (g: RawGuest, fd: number) => g.mkdir(fd, 'd')],
    ] as const
  ).map(
    ([what, op]): Attempt => ({
      name: `host swaps an open dir for a symlink to outside; ${what} through the fd`,
      errno: NOTCAPABLE,
      run: (g, t) => {
        const fd = dir(g, PRE, 'sw');
        t.rename('box/sw', 'box/sw.away');
        t.symlink('../outside', 'box/sw');
        return op(g, fd);
      },
    }),
  ),
  {
    name: 'host removes an open dir and puts a symlink there',
    errno: NOTCAPABLE,
    run: (g, t) => {
      const fd = dir(g, PRE, 'sw');
      t.rmdir('box/sw');
      t.symlink('../outside', 'box/sw');
      return g.readFile(fd, 'secret.txt').errno;
    },
  },
  {
    name: 'host moves an open dir out of the box; create through the fd',
    errno: NOENT,
    run: (g, t) => {
      const fd = dir(g, PRE, 'sw');
      t.rename('box/sw', 'elsewhere/sw');
      return g.createFile(fd, 'planted.txt', 'planted');
    },
  },
  // hard links: path_link never reaches outside
  { name: 'link ../outside/secret.txt', errno: NOTCAPABLE, run: (g) => g.link(PRE, '../outside/secret.txt', PRE, 'h') },
  { name: 'link inside.txt to ../outside/h', errno: NOTCAPABLE, run: (g) => g.link(PRE, 'inside.txt', PRE, '../outside/h') },
  { name: 'link chain1 (follow)', errno: NOTCAPABLE, run: (g) => g.link(PRE, 'chain1', PRE, 'h', true) },
  { name: 'link link-abs-file (follow)', errno: NOTCAPABLE, run: (g) => g.link(PRE, 'link-abs-file', PRE, 'h', true) },
  { name: 'link link-out/secret.txt', errno: NOTCAPABLE, run: (g) => g.link(PRE, 'link-out/secret.txt', PRE, 'h') },
  // fd_renumber onto the preopen
  {
    name: 'renumber a subdirectory onto the preopen, climb from it',
    errno: NOTCAPABLE,
    run: (g) => (ok(g.renumber(dir(g, PRE, 'sub'), PRE), 'renumber'), g.readFile(PRE, '../inside.txt').errno),
  },
  {
    name: 'renumber a file onto the preopen, open through it',
    errno: NOTCAPABLE, // a file fd never holds path_open
    run: (g) => {
      const f = g.open(PRE, 'inside.txt', { base: Rights.FD_READ, inheriting: 0 });
      ok(f.errno, 'open');
      ok(g.renumber(f.fd, PRE), 'renumber');
      return g.readFile(PRE, 'inside.txt').errno;
    },
  },
  {
    // fd_renumber onto a closed fd is allowed (as wasmer and the preview1 adapters do): the
    // preopen moves to 99 and stays the same box there, and its old number is gone.
    name: 'renumber the preopen onto a free number, climb from it there',
    errno: NOTCAPABLE,
    run: (g) => {
      ok(g.renumber(PRE, 99), 'renumber');
      if (g.readFile(PRE, 'inside.txt').errno !== BADF) throw new Error('the old preopen number still works');
      return g.readFile(99, '../outside/secret.txt').errno;
    },
  },
  // missing rights
  { name: 'open through a dir fd without path_open', errno: NOTCAPABLE, run: (g) => g.readFile(dir(g, PRE, 'sub', { base: Rights.FD_READDIR }), 'f.txt').errno },
  {
    name: 'open for writing below a dir that passes on only fd_read',
    errno: NOTCAPABLE,
    run: (g) => g.open(dir(g, PRE, 'sub', { base: Rights.PATH_OPEN, inheriting: Rights.FD_READ }), 'f.txt', { base: Rights.FD_WRITE, inheriting: 0 }).errno,
  },
  {
    name: 'fd_fdstat_set_rights adds fd_write',
    errno: NOTCAPABLE,
    run: (g) => {
      const f = g.open(PRE, 'inside.txt', { base: Rights.FD_READ, inheriting: 0 });
      ok(f.errno, 'open');
      return g.setRights(f.fd, Rights.FD_READ | Rights.FD_WRITE, 0);
    },
  },
  { name: 'mkdir through a dir fd without path_create_directory', errno: NOTCAPABLE, run: (g) => g.mkdir(dir(g, PRE, 'sub', { base: Rights.PATH_OPEN }), 'd') },
  { name: 'unlink through a dir fd without path_unlink_file', errno: NOTCAPABLE, run: (g) => g.unlink(dir(g, PRE, 'sub', { base: Rights.PATH_OPEN }), 'f.txt') },
  {
    name: 'write to a file opened read-only',
    errno: NOTCAPABLE,
    run: (g) => {
      const f = g.open(PRE, 'inside.txt', { base: Rights.FD_READ, inheriting: 0 });
      ok(f.errno, 'open');
      return g.write(f.fd, 'overwritten');
    },
  },
  // a file used as a directory
  read('inside.txt/x', NOTDIR),
  read('inside.txt/', NOTDIR),
  read('inside.txt/..', NOTDIR),
  { name: 'open inside.txt with O_DIRECTORY', errno: NOTDIR, run: (g) => g.openDir(PRE, 'inside.txt').errno },
  {
    name: 'open relative to a file fd',
    errno: NOTCAPABLE, // a file fd never holds path_open
    run: (g) => {
      const f = g.open(PRE, 'inside.txt', { base: Rights.FD_READ, inheriting: 0 });
      ok(f.errno, 'open');
      return g.readFile(f.fd, 'x').errno;
    },
  },
];

// ---- crafted WASI states ----

type Fd = Record<string, unknown>;
const stdio = (fd: number, which: number): Fd => ({ fd, kind: 'stdio', filetype: 2, rightsBase: STREAM_RIGHTS & ~(which === 0 ? Rights.FD_WRITE : Rights.FD_READ), rightsInheriting: 0, fdflags: 0, offset: 0, stdio: which });
const preopen = (fd: number, name: string): Fd => ({ fd, kind: 'preopen', filetype: 3, rightsBase: DIRECTORY_RIGHTS, rightsInheriting: ALL_RIGHTS, fdflags: 0, offset: 0, preopen: name });
const fileFd = (p: unknown, extra: Fd = {}): Fd => ({ fd: 4, kind: 'file', filetype: 4, rightsBase: Rights.FD_READ, rightsInheriting: 0, fdflags: 0, offset: 0, preopen: '/sandbox', path: p, ...extra });
const dirFd = (p: string): Fd => ({ fd: 4, kind: 'dir', filetype: 3, rightsBase: DIRECTORY_RIGHTS, rightsInheriting: ALL_RIGHTS, fdflags: 0, offset: 0, preopen: '/sandbox', path: p });
const stateWith = (...fds: Fd[]): Record<string, unknown> => ({ version: 1, args: ['p'], env: {}, fds: [stdio(0, 0), stdio(1, 1), stdio(2, 2), preopen(3, '/sandbox'), ...fds], exitCode: null, monotonicNs: '0', logEvents: 0 });

interface CraftedState {
  name: string;
  state: () => unknown;
  message: RegExp;
}

const CRAFTED: CraftedState[] = [
  { name: 'file ../../../../etc/passwd', state: () => stateWith(fileFd('../../../../etc/passwd')), message: /^WASI state: fds\[4\]\.path '\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd' is not a plain relative path/ },
  { name: 'dir ../../etc', state: () => stateWith(dirFd('../../etc')), message: /^WASI state: fds\[4\]\.path/ },
  { name: 'file /etc/passwd', state: () => stateWith(fileFd('/etc/passwd')), message: /fds\[4\]\.path '\/etc\/passwd' is absolute/ },
  { name: 'file sub/../../outside/secret.txt', state: () => stateWith(fileFd('sub/../../outside/secret.txt')), message: /fds\[4\]\.path/ },
  { name: 'file through a host symlink to outside', state: () => stateWith(fileFd('link-out/secret.txt')), message: /^fd 4: '\/sandbox\/link-out\/secret\.txt' cannot be resolved inside preopen/ },
  { name: 'file through sub/upup', state: () => stateWith(fileFd('sub/upup/outside/secret.txt')), message: /cannot be resolved inside preopen/ },
  { name: 'file that is a symlink out', state: () => stateWith(fileFd('link-abs-file')), message: /link-abs-file' .*has file type 7 on this host, 4 in the state/ },
  { name: 'dir that is a symlink', state: () => stateWith(dirFd('sub/up')), message: /has file type 7 on this host, 3 in the state/ },
  { name: 'file with a NUL', state: () => stateWith(fileFd('inside.txt\0/../../x')), message: /fds\[4\]\.path contains a NUL/ },
  { name: 'a preopen the user did not grant', state: () => stateWith(preopen(5, '/host')), message: /^the snapshot asks for preopen '\/host', not granted on this host/ },
  { name: 'a file under a preopen not granted', state: () => stateWith(fileFd('passwd', { preopen: '/etc' })), message: /^the snapshot asks for preopen '\/etc', not granted/ },
  { name: 'a listener the user did not grant', state: () => stateWith({ fd: 4, kind: 'listener', filetype: 6, rightsBase: 0, rightsInheriting: 0, fdflags: 0, offset: 0, listen: { host: '0.0.0.0', port: 8080 } }), message: /^the snapshot asks for a listening socket \(fd 4, it had 0\.0\.0\.0:8080\), not granted/ },
  { name: 'stdio at fd 7 without its stream', state: () => stateWith({ ...stdio(7, 1), stdio: undefined }), message: /fds\[4\]\.stdio is missing and fd 7 is not 0, 1 or 2/ },
  { name: 'stdio naming stream 5', state: () => stateWith(stdio(7, 5)), message: /fds\[4\]\.stdio is 5, out of range 0\.\.2/ },
  { name: 'a preopen with a path', state: () => stateWith({ ...preopen(5, '/sandbox'), path: '../..' }), message: /fds\[4\]\.path of a preopen must be empty/ },
  { name: 'a preopen name that is not a string', state: () => stateWith({ ...preopen(5, '/x'), preopen: 42 }), message: /^WASI state: fds\[4\]\.preopen is not a string$/ },
  { name: 'rights a file never has', state: () => stateWith(fileFd('inside.txt', { rightsBase: Rights.PATH_OPEN })), message: /fds\[4\]\.rightsBase holds bits 2000 \(hex\) that a file fd never has/ },
  { name: 'a file fd of an unknown type (FIFO)', state: () => stateWith(fileFd('inside.txt', { filetype: 0 })), message: /fds\[4\]\.filetype 0 cannot be reopened as a file/ },
  { name: 'fds not a list', state: () => ({ ...stateWith(), fds: 'all' }), message: /^WASI state: fds is not a list$/ },
  { name: 'a negative fd', state: () => stateWith(fileFd('inside.txt', { fd: -1 })), message: /fds\[4\]\.fd is -1, out of range/ },
  { name: 'one fd twice', state: () => stateWith(fileFd('inside.txt', { fd: 3 })), message: /fds\[4\]\.fd 3 appears twice/ },
  { name: 'too many args', state: () => ({ ...stateWith(), args: new Array(65_537).fill('a') }), message: /^WASI state: args has 65537 entries \(at most 65536\)$/ },
  { name: 'an offset beyond 2^53', state: () => stateWith(fileFd('inside.txt', { offset: 2 ** 60 })), message: /fds\[4\]\.offset is .*out of range/ },
  { name: 'not an object', state: () => 'state', message: /^WASI state: the WASI state is not an object$/ },
  { name: 'an fd field the runtime does not know', state: () => stateWith(fileFd('inside.txt', { hostFd: 9 })), message: /^WASI state: fds\[4\]\.hostFd is not a field of a WASI state$/ },
  { name: 'a top-level field the runtime does not know', state: () => ({ ...stateWith(), preopens: { '/host': '/etc' } }), message: /^WASI state: preopens is not a field of a WASI state$/ },
];

describe.each([
  ['Node host', () => nodeTree()],
  ['Node host resolving by path', () => nodeTree(false)],
  ['in-memory host', memoryTree],
])('escapes on the %s', (_name, makeTree) => {
  test(`${ATTEMPTS.length} guest attempts and ${CRAFTED.length} crafted states, all refused`, () => {
    expect(ATTEMPTS.length + CRAFTED.length).toBeGreaterThanOrEqual(70);
    const results: string[] = [];
    const expected: string[] = [];
    for (const a of ATTEMPTS) {
      const t = makeTree();
      populate(t);
      const outsideBefore = t.list('outside');
      const fdsBefore = openHostFds();
      const wasi = new WASI({ preopens: { '/sandbox': t.box }, host: t.host, stdout: new OutputSink(), stderr: new OutputSink() });
      const errno = a.run(new RawGuest(wasi), t);
      wasi.close();
      // Every host fd the attempt opened (directory handles of lookups included) is closed again.
      expect({ attempt: a.name, fds: openHostFds() }).toEqual({ attempt: a.name, fds: fdsBefore });
      results.push(`${a.name}: errno ${errno}`);
      expected.push(`${a.name}: errno ${a.errno}`);
      // Nothing outside the box changed, appeared or vanished (elsewhere/ may hold only the moved, empty sw/).
      expect({ attempt: a.name, outside: t.list('outside'), root: t.rootEntries() }).toEqual({ attempt: a.name, outside: outsideBefore, root: ['box', 'elsewhere', 'outside'] });
      expect({ attempt: a.name, elsewhere: Object.values(t.list('elsewhere')).filter((v) => v !== '') }).toEqual({ attempt: a.name, elsewhere: [] });
    }
    expect(results).toEqual(expected);
    for (const c of CRAFTED) {
      const t = makeTree();
      populate(t);
      let error: unknown = null;
      try {
        WASI.restore(c.state() as never, { preopens: { '/sandbox': t.box }, host: t.host, stdout: new OutputSink(), stderr: new OutputSink() }).close();
      } catch (e) {
        error = e;
      }
      expect({ state: c.name, error: error instanceof WasiRestoreError, message: (error as Error | null)?.message }).toEqual({ state: c.name, error: true, message: expect.stringMatching(c.message) });
      expect((error as Error).message).not.toMatch(/\n/);
    }
  });
});

describe('a directory swapped for a symlink between the check and the use (a concurrent host process)', () => {
  /** The Node host whose lstat of `box/d` lets "another process" swap d for a symlink to outside right after. */
  function racing(handles: boolean): { tree: Tree; swaps: () => number } {
    const tree = nodeTree(handles);
    const nodeFs = new NodeFs({ handles });
    let swaps = 0;
    const lstat = nodeFs.lstat.bind(nodeFs);
    nodeFs.lstat = (p: string) => {
      const st = lstat(p);
      if (p.endsWith('/d') && swaps === 0) {
        swaps++;
        tree.rename('box/d', 'box/d.away');
        tree.symlink('../outside', 'box/d');
      }
      return st;
    };
    tree.host = { ...nodeHost(), fs: nodeFs };
    return { tree, swaps: () => swaps };
  }

  const attempt = (handles: boolean) => {
    const { tree, swaps } = racing(handles);
    tree.mkdir('outside');
    tree.write('outside/secret.txt', 'SECRET');
    tree.mkdir('box/d');
    const wasi = new WASI({ preopens: { '/sandbox': tree.box }, host: tree.host });
    const r = new RawGuest(wasi).readFile(PRE, 'd/secret.txt');
    wasi.close();
    expect(swaps()).toBe(1);
    return r;
  };

  // The handle walk needs /proc/self/fd.
  (process.platform === 'linux' ? test : test.skip)('resolving by directory handle (Linux): refused, nothing outside read', () => {
    // d is entered with O_DIRECTORY|O_NOFOLLOW relative to the root's handle: now a symlink, ENOTDIR.
    expect(attempt(true)).toEqual({ errno: NOTDIR, data: '' });
  });

  test('resolving by path (the in-memory host, Node off Linux): the race SECURITY.md describes is real', () => {
    expect(attempt(false)).toEqual({ errno: 0, data: 'SECRET' });
  });
});
