import { Errno, FileType } from '../constants';
import { fail } from '../errors';
import type { DirEntry, FileStat, Handle, HostFs, OpenFlags } from './types';

/** One inode. Directories hold children, files bytes (with spare capacity), symlinks a target. */
class MemNode {
  data = new Uint8Array(0);
  size = 0;
  children: Map<string, MemNode> | null;
  target = '';
  nlink = 1;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
  constructor(readonly filetype: FileType, readonly ino: bigint, now: bigint) {
    this.children = filetype === FileType.DIRECTORY ? new Map() : null;
    this.atim = this.mtim = this.ctim = now;
  }

  stat(): FileStat {
    const size = this.filetype === FileType.SYMBOLIC_LINK ? this.target.length : this.filetype === FileType.DIRECTORY ? 4096 : this.size;
    return { filetype: this.filetype, dev: 1n, ino: this.ino, nlink: BigInt(this.nlink), size: BigInt(size), atim: this.atim, mtim: this.mtim, ctim: this.ctim };
  }

  ensureCapacity(n: number): void {
    if (n <= this.data.length) return;
    const next = new Uint8Array(Math.max(n, this.data.length * 2, 64));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

const MAX_SYMLINKS = 40;

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * A POSIX-like file system in memory: usable in a browser, and cheap to clone for tests.
 * Paths are absolute ('/'-separated). Besides the HostFs operations it has convenience
 * helpers (writeFile, readFile, mkdirp, list) for setting up and inspecting a tree.
 */
export class MemoryFs implements HostFs {
  private nextIno = 1n;
  private root: MemNode;
  private handles = new Map<Handle, { node: MemNode; read: boolean; write: boolean }>();
  private nextHandle = 1;

  constructor() {
    this.root = this.newNode(FileType.DIRECTORY);
    this.root.nlink = 2;
  }

  private newNode(t: FileType): MemNode {
    return new MemNode(t, this.nextIno++, nowNs());
  }

  /** Walks to the parent of the last component; intermediate symlinks are followed. */
  private walk(path: string, followFinal: boolean, depth = 0): { parent: MemNode; name: string; node: MemNode | undefined } {
    if (!path.startsWith('/')) fail(Errno.INVAL, `memory fs paths are absolute: ${path}`);
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    const stack: MemNode[] = [this.root];
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i];
      const dir = stack[stack.length - 1];
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        if (i === parts.length - 1) return { parent: stack[stack.length - 1], name: '.', node: stack[stack.length - 1] };
        continue;
      }
      if (dir.children === null) fail(Errno.NOTDIR);
      const node = dir.children.get(name);
      const last = i === parts.length - 1;
      if (last && !(followFinal && node?.filetype === FileType.SYMBOLIC_LINK)) return { parent: dir, name, node };
      if (node === undefined) fail(Errno.NOENT);
      if (node.filetype === FileType.SYMBOLIC_LINK) {
        if (depth >= MAX_SYMLINKS) fail(Errno.LOOP);
        const base = node.target.startsWith('/') ? '' : '/' + this.pathOf(stack);
        const rest = parts.slice(i + 1).join('/');
        return this.walk(base + '/' + node.target + (rest ? '/' + rest : ''), followFinal, depth + 1);
      }
      if (last) return { parent: dir, name, node };
      if (node.children === null) fail(Errno.NOTDIR);
      stack.push(node);
    }
    return { parent: stack[stack.length - 1], name: '.', node: stack[stack.length - 1] };
  }

  private pathOf(stack: MemNode[]): string {
    const names: string[] = [];
    for (let i = 1; i < stack.length; i++) {
      for (const [n, c] of stack[i - 1].children!) if (c === stack[i]) names.push(n);
    }
    return names.join('/');
  }

  private get(path: string, follow: boolean): MemNode {
    const { node } = this.walk(path, follow);
    if (node === undefined) fail(Errno.NOENT);
    return node;
  }

  private handle(h: Handle) {
    const e = this.handles.get(h);
    if (!e) fail(Errno.BADF);
    return e;
  }

  lstat(path: string): FileStat {
    return this.get(path, false).stat();
  }

  open(path: string, flags: OpenFlags): Handle {
    const w = this.walk(path, true);
    let node = w.node;
    if (node === undefined) {
      if (!flags.create) fail(Errno.NOENT);
      if (flags.directory) fail(Errno.INVAL);
      if (w.name === '.' || w.name === '..') fail(Errno.EXIST);
      node = this.newNode(FileType.REGULAR_FILE);
      w.parent.children!.set(w.name, node);
      w.parent.mtim = node.mtim;
    } else {
      if (flags.create && flags.exclusive) fail(Errno.EXIST);
      if (node.filetype === FileType.SYMBOLIC_LINK) fail(Errno.LOOP);
      if (flags.directory && node.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
      if (node.filetype === FileType.DIRECTORY && (flags.write || flags.truncate)) fail(Errno.ISDIR);
      if (flags.truncate && node.size !== 0) {
        node.size = 0;
        node.mtim = node.ctim = nowNs();
      }
    }
    const h = this.nextHandle++;
    this.handles.set(h, { node, read: flags.read, write: flags.write });
    return h;
  }

  close(h: Handle): void {
    this.handle(h);
    this.handles.delete(h);
  }

  fstat(h: Handle): FileStat {
    return this.handle(h).node.stat();
  }

  read(h: Handle, dst: Uint8Array, position: number): number {
    const e = this.handle(h);
    if (!e.read) fail(Errno.BADF);
    if (e.node.filetype === FileType.DIRECTORY) fail(Errno.ISDIR);
    const n = Math.max(0, Math.min(dst.length, e.node.size - position));
    dst.set(e.node.data.subarray(position, position + n));
    return n;
  }

  write(h: Handle, src: Uint8Array, position: number): number {
    const e = this.handle(h);
    if (!e.write) fail(Errno.BADF);
    const node = e.node;
    const end = position + src.length;
    node.ensureCapacity(end);
    if (position > node.size) node.data.fill(0, node.size, position);
    node.data.set(src, position);
    node.size = Math.max(node.size, end);
    node.mtim = node.ctim = nowNs();
    return src.length;
  }

  truncate(h: Handle, size: number): void {
    const e = this.handle(h);
    if (!e.write) fail(Errno.INVAL);
    const node = e.node;
    node.ensureCapacity(size);
    if (size > node.size) node.data.fill(0, node.size, size);
    node.size = size;
    node.mtim = node.ctim = nowNs();
  }

  sync(h: Handle): void {
    this.handle(h);
  }

  futimes(h: Handle, atim: bigint | null, mtim: bigint | null): void {
    setTimes(this.handle(h).node, atim, mtim);
  }

  utimes(path: string, atim: bigint | null, mtim: bigint | null, followSymlink: boolean): void {
    setTimes(this.get(path, followSymlink), atim, mtim);
  }

  readdir(path: string): DirEntry[] {
    const n = this.get(path, true);
    if (n.children === null) fail(Errno.NOTDIR);
    return [...n.children].map(([name, c]) => ({ name, filetype: c.filetype, ino: c.ino }));
  }

  mkdir(path: string): void {
    const w = this.walk(path, false);
    if (w.node !== undefined) fail(Errno.EXIST);
    const d = this.newNode(FileType.DIRECTORY);
    d.nlink = 2;
    w.parent.children!.set(w.name, d);
  }

  rmdir(path: string): void {
    const w = this.walk(path, false);
    if (w.node === undefined) fail(Errno.NOENT);
    if (w.node.children === null) fail(Errno.NOTDIR);
    if (w.node === this.root || w.name === '.' || w.name === '..') fail(Errno.BUSY);
    if (w.node.children.size > 0) fail(Errno.NOTEMPTY);
    w.parent.children!.delete(w.name);
  }

  unlink(path: string): void {
    const w = this.walk(path, false);
    if (w.node === undefined) fail(Errno.NOENT);
    if (w.node.filetype === FileType.DIRECTORY) fail(Errno.ISDIR);
    w.parent.children!.delete(w.name);
    w.node.nlink--;
  }

  rename(from: string, to: string): void {
    const a = this.walk(from, false);
    if (a.node === undefined) fail(Errno.NOENT);
    const b = this.walk(to, false);
    if (b.name === '.' || b.name === '..' || a.name === '.' || a.name === '..') fail(Errno.BUSY);
    if (a.node === b.node) return;
    const isDir = a.node.filetype === FileType.DIRECTORY;
    if (isDir && (to + '/').startsWith(from.replace(/\/*$/, '/'))) fail(Errno.INVAL); // into itself
    if (b.node !== undefined) {
      const targetDir = b.node.filetype === FileType.DIRECTORY;
      if (isDir && !targetDir) fail(Errno.NOTDIR);
      if (!isDir && targetDir) fail(Errno.ISDIR);
      if (targetDir && b.node.children!.size > 0) fail(Errno.NOTEMPTY);
    }
    a.parent.children!.delete(a.name);
    b.parent.children!.set(b.name, a.node);
  }

  symlink(target: string, path: string): void {
    const w = this.walk(path, false);
    if (w.node !== undefined) fail(Errno.EXIST);
    const s = this.newNode(FileType.SYMBOLIC_LINK);
    s.target = target;
    w.parent.children!.set(w.name, s);
  }

  readlink(path: string): string {
    const n = this.get(path, false);
    if (n.filetype !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
    return n.target;
  }

  link(existing: string, newPath: string): void {
    const n = this.get(existing, false);
    if (n.filetype === FileType.DIRECTORY) fail(Errno.PERM);
    const w = this.walk(newPath, false);
    if (w.node !== undefined) fail(Errno.EXIST);
    w.parent.children!.set(w.name, n);
    n.nlink++;
  }

  // ---- helpers for setting up and inspecting a tree (not used by the guest) ----

  mkdirp(path: string): void {
    let at = '';
    for (const part of path.split('/').filter(Boolean)) {
      at += '/' + part;
      const w = this.walk(at, true);
      if (w.node === undefined) this.mkdir(at);
      else if (w.node.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR, `${at} is not a directory`);
    }
  }

  writeFile(path: string, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const h = this.open(path, { read: false, write: true, create: true, exclusive: false, truncate: true, directory: false });
    this.write(h, bytes, 0);
    this.close(h);
  }

  readFile(path: string): Uint8Array {
    const n = this.get(path, true);
    if (n.filetype !== FileType.REGULAR_FILE) fail(Errno.ISDIR, `${path} is not a file`);
    return n.data.slice(0, n.size);
  }

  exists(path: string): boolean {
    try {
      return this.walk(path, false).node !== undefined;
    } catch {
      return false;
    }
  }

  /** Every file under `dir` (recursively) as relative path -> contents; symlinks as '-> target'. */
  list(dir = '/'): Record<string, Uint8Array | string> {
    const out: Record<string, Uint8Array | string> = {};
    const visit = (n: MemNode, rel: string) => {
      for (const [name, c] of [...n.children!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const p = rel ? rel + '/' + name : name;
        if (c.filetype === FileType.DIRECTORY) {
          out[p + '/'] = '';
          visit(c, p);
        } else if (c.filetype === FileType.SYMBOLIC_LINK) out[p] = '-> ' + c.target;
        else out[p] = c.data.slice(0, c.size);
      }
    };
    visit(this.get(dir, true), '');
    return out;
  }

  /** A deep copy of the whole tree (open handles are not copied): a "copy of the directory". */
  clone(): MemoryFs {
    const copy = new MemoryFs();
    const seen = new Map<MemNode, MemNode>();
    const dup = (n: MemNode): MemNode => {
      const had = seen.get(n);
      if (had) return had;
      const c = new MemNode(n.filetype, n.ino, n.ctim);
      seen.set(n, c);
      c.size = n.size;
      c.data = n.data.slice(0, n.size);
      c.target = n.target;
      c.nlink = n.nlink;
      c.atim = n.atim;
      c.mtim = n.mtim;
      if (n.children) for (const [name, ch] of n.children) c.children!.set(name, dup(ch));
      return c;
    };
    copy.root = dup(this.root);
    copy.nextIno = this.nextIno;
    return copy;
  }
}

/** Times are kept to the nanosecond here; null leaves one as it is. */
function setTimes(n: { atim: bigint; mtim: bigint }, atim: bigint | null, mtim: bigint | null): void {
  if (atim !== null) n.atim = atim;
  if (mtim !== null) n.mtim = mtim;
}
