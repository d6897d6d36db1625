import type { ValTypeName } from '@mvvm/interpreter';

type Sig = { params: ValTypeName[]; results: ValTypeName[] };
const I = 'i32' as const;
const L = 'i64' as const;
const e = (...params: ValTypeName[]): Sig => ({ params, results: ['i32'] });

/**
 * The core wasm signature of each of the 46 preview1 functions (the witx lowered: pointers,
 * sizes, fds and flags are i32; 64-bit types i64; results after the errno become out-pointers).
 * test/witx.test.ts derives the same from the witx and compares.
 */
export const SIGNATURES: Record<string, Sig> = {
  args_get: e(I, I),
  args_sizes_get: e(I, I),
  environ_get: e(I, I),
  environ_sizes_get: e(I, I),
  clock_res_get: e(I, I),
  clock_time_get: e(I, L, I),
  fd_advise: e(I, L, L, I),
  fd_allocate: e(I, L, L),
  fd_close: e(I),
  fd_datasync: e(I),
  fd_fdstat_get: e(I, I),
  fd_fdstat_set_flags: e(I, I),
  fd_fdstat_set_rights: e(I, L, L),
  fd_filestat_get: e(I, I),
  fd_filestat_set_size: e(I, L),
  fd_filestat_set_times: e(I, L, L, I),
  fd_pread: e(I, I, I, L, I),
  fd_prestat_get: e(I, I),
  fd_prestat_dir_name: e(I, I, I),
  fd_pwrite: e(I, I, I, L, I),
  fd_read: e(I, I, I, I),
  fd_readdir: e(I, I, I, L, I),
  fd_renumber: e(I, I),
  fd_seek: e(I, L, I, I),
  fd_sync: e(I),
  fd_tell: e(I, I),
  fd_write: e(I, I, I, I),
  path_create_directory: e(I, I, I),
  path_filestat_get: e(I, I, I, I, I),
  path_filestat_set_times: e(I, I, I, I, L, L, I),
  path_link: e(I, I, I, I, I, I, I),
  path_open: e(I, I, I, I, I, L, L, I, I),
  path_readlink: e(I, I, I, I, I, I),
  path_remove_directory: e(I, I, I),
  path_rename: e(I, I, I, I, I, I),
  path_symlink: e(I, I, I, I, I),
  path_unlink_file: e(I, I, I),
  poll_oneoff: e(I, I, I, I),
  proc_exit: { params: [I], results: [] },
  proc_raise: e(I),
  sched_yield: e(),
  random_get: e(I, I),
  sock_accept: e(I, I, I),
  sock_recv: e(I, I, I, I, I, I),
  sock_send: e(I, I, I, I, I),
  sock_shutdown: e(I, I),
};
