// The symlink-swap escape of issue 7, as a guest would write it: open a directory, move it
// away, put a symlink to somewhere outside where it was, and look up through the old fd.
// Also the same with the swap made on the host while the guest waits on stdin. Prints one
// line per attempt: "<what> errno=<n> data=<bytes read, or ->". Run in a sandbox whose
// parent holds outside/secret.txt and a host-made symlink box/evil -> ../outside.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define PRE 3
#define DIR_RIGHTS (__WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_PATH_CREATE_FILE | \
                    __WASI_RIGHTS_PATH_CREATE_DIRECTORY | __WASI_RIGHTS_PATH_FILESTAT_GET)
#define FILE_RIGHTS (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)

static __wasi_fd_t open_dir(__wasi_fd_t at, const char *path) {
  __wasi_fd_t fd = (__wasi_fd_t)-1;
  __wasi_errno_t e = __wasi_path_open(at, 0, path, __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, DIR_RIGHTS | FILE_RIGHTS, 0, &fd);
  printf("open dir %s errno=%d\n", path, e);
  return fd;
}

static void try_read(const char *what, __wasi_fd_t dir, const char *path) {
  __wasi_fd_t fd;
  char buf[64];
  __wasi_size_t n = 0;
  __wasi_errno_t e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  if (e == 0) {
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_fd_read(fd, &iov, 1, &n);
    __wasi_fd_close(fd);
  }
  if (n == 0) printf("%s errno=%d data=-\n", what, e);
  else printf("%s errno=%d data=%.*s\n", what, e, (int)n, buf);
}

static void try_create(const char *what, __wasi_fd_t dir, const char *path) {
  __wasi_fd_t fd;
  __wasi_errno_t e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, __WASI_OFLAGS_CREAT, FILE_RIGHTS, 0, 0, &fd);
  if (e == 0) {
    __wasi_ciovec_t iov = {(const uint8_t *)"planted\n", 8};
    __wasi_size_t n;
    __wasi_fd_write(fd, &iov, 1, &n);
    __wasi_fd_close(fd);
  }
  printf("%s errno=%d\n", what, e);
}

static void try_readdir(const char *what, __wasi_fd_t dir) {
  uint8_t buf[256];
  __wasi_size_t used = 0;
  __wasi_errno_t e = __wasi_fd_readdir(dir, buf, sizeof buf, 0, &used);
  // The names listed, so a listing of the outside directory would show in the output.
  printf("%s errno=%d names=", what, e);
  for (__wasi_size_t at = 0; e == 0 && at + sizeof(__wasi_dirent_t) <= used;) {
    __wasi_dirent_t d;
    memcpy(&d, buf + at, sizeof d);
    at += sizeof d;
    if (at + d.d_namlen > used) break;
    printf("%.*s,", (int)d.d_namlen, (const char *)buf + at);
    at += d.d_namlen;
  }
  printf("\n");
}

int main(void) {
  // 1. The sequence: the guest's own symlink to outside is refused when made ...
  __wasi_path_create_directory(PRE, "a");
  __wasi_fd_t a = open_dir(PRE, "a");
  printf("rename a errno=%d\n", __wasi_path_rename(PRE, "a", PRE, "a.moved"));
  printf("symlink a -> ../../../../etc errno=%d\n", __wasi_path_symlink("../../../../etc", PRE, "a"));
  printf("symlink a -> ../outside errno=%d\n", __wasi_path_symlink("../outside", PRE, "a"));
  // ... 2. so it moves the host's own symlink evil -> ../outside into place instead. The
  // old fd still means the directory it was opened on (now a.moved): nothing outside.
  printf("rename evil errno=%d\n", __wasi_path_rename(PRE, "evil", PRE, "a"));
  try_read("read a-fd/secret.txt", a, "secret.txt");
  try_create("create a-fd/planted.txt", a, "planted.txt");
  try_read("read a/secret.txt", PRE, "a/secret.txt");
  try_create("create a/planted.txt", PRE, "a/planted.txt");
  // 3. Nested: an fd on n/m, its ancestor moved away and replaced by the symlink.
  __wasi_path_create_directory(PRE, "n");
  __wasi_path_create_directory(PRE, "n/m");
  __wasi_fd_t m = open_dir(PRE, "n/m");
  printf("rename n errno=%d\n", __wasi_path_rename(PRE, "n", PRE, "n.moved"));
  printf("rename a errno=%d\n", __wasi_path_rename(PRE, "a", PRE, "n"));
  try_read("read m-fd/secret.txt", m, "secret.txt");
  try_create("create m-fd/planted.txt", m, "planted.txt");
  // 4. The host swaps h for a symlink to outside while the guest waits on stdin.
  __wasi_fd_t h = open_dir(PRE, "h");
  char c;
  __wasi_iovec_t iov = {(uint8_t *)&c, 1};
  __wasi_size_t got;
  printf("wait errno=%d\n", __wasi_fd_read(0, &iov, 1, &got));
  try_read("read h-fd/secret.txt", h, "secret.txt");
  try_create("create h-fd/planted.txt", h, "planted.txt");
  try_readdir("readdir h-fd", h);
  printf("mkdir h-fd/d errno=%d\n", __wasi_path_create_directory(h, "d"));
  return 0;
}
