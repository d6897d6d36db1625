// Sandbox escape attempts through raw WASI calls (libc would refuse some of them itself).
// Prints "<attempt> errno=<n>" for each; the tests compare with the spec's errnos.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static void try_open(int dirfd, const char *path, int follow) {
  __wasi_fd_t fd;
  __wasi_errno_t e = __wasi_path_open(dirfd, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, 0,
                                      __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  printf("open %s errno=%d\n", path, e);
  if (e == 0) __wasi_fd_close(fd);
}

int main(void) {
  int pre = 3;  // the preopen
  try_open(pre, "inside.txt", 1);
  try_open(pre, "../outside.txt", 1);
  try_open(pre, "sub/../../outside.txt", 1);
  try_open(pre, "/etc/passwd", 1);
  try_open(pre, "escape", 1);        // symlink -> ../outside.txt
  try_open(pre, "abs", 1);           // symlink -> /etc/passwd
  try_open(pre, "sub/up/inside.txt", 1);  // sub/up -> .. : stays inside: allowed
  try_open(pre, "loop", 1);          // loop -> loop
  try_open(pre, "escape", 0);        // not following: a symlink itself is not openable
  __wasi_fd_t sub;
  __wasi_errno_t e = __wasi_path_open(pre, 0, "sub", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR, __WASI_RIGHTS_FD_READ, 0, &sub);
  printf("open sub errno=%d\n", e);
  try_open(sub, "../inside.txt", 1);  // above the directory fd: refused even though inside the preopen
  // rights: sub was opened without PATH_CREATE_FILE
  __wasi_fd_t fd;
  e = __wasi_path_open(sub, 0, "new.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
  printf("create without right errno=%d\n", e);
  // rights beyond what the directory passes on
  e = __wasi_path_open(sub, 0, "f.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
  printf("write right not inherited errno=%d\n", e);
  e = __wasi_path_create_directory(pre, "../mkdir-outside");
  printf("mkdir outside errno=%d\n", e);
  e = __wasi_path_symlink("/etc/passwd", pre, "newabs");
  printf("symlink absolute errno=%d\n", e);
  e = __wasi_path_rename(pre, "inside.txt", pre, "../moved-outside");
  printf("rename outside errno=%d\n", e);
  __wasi_filestat_t st;
  e = __wasi_path_filestat_get(pre, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "escape", &st);
  printf("stat through escape errno=%d\n", e);
  e = __wasi_path_unlink_file(pre, "sub/../../outside.txt");
  printf("unlink outside errno=%d\n", e);
  char buf[8];
  __wasi_size_t nread;
  __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
  e = __wasi_fd_read(42, &iov, 1, &nread);
  printf("read bad fd errno=%d\n", e);
  e = __wasi_fd_read(pre, &iov, 1, &nread);
  printf("read a directory errno=%d\n", e);
  return 0;
}
