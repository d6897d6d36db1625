// WASI preview1 corners that the public WASI test suite found wrong, through raw WASI calls
// on the preopen fd 3 (which holds f.txt, made by the test). Prints "<what> errno=<n>" and
// "<what> atim=<ns> mtim=<ns>" lines; the test compares them with the expected ones.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static const int pre = 3;

static void show(const char *what, __wasi_errno_t e) {
  printf("%s errno=%d\n", what, e);
  fflush(stdout);  // before stdout moves between fds
}

static void times(const char *what, __wasi_fd_t fd, const char *path, int follow) {
  __wasi_filestat_t st;
  __wasi_errno_t e = path ? __wasi_path_filestat_get(fd, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, &st)
                          : __wasi_fd_filestat_get(fd, &st);
  if (e) show(what, e);
  else printf("%s atim=%llu mtim=%llu\n", what, (unsigned long long)st.atim, (unsigned long long)st.mtim);
  fflush(stdout);
}

static void put(__wasi_fd_t fd, const char *s) {
  __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  __wasi_size_t n;
  __wasi_fd_write(fd, &iov, 1, &n);
}

int main(void) {
  // sock_shutdown: the fd's type is checked before its rights.
  show("sock_shutdown bad fd", __wasi_sock_shutdown(99, __WASI_SDFLAGS_WR));
  show("sock_shutdown directory", __wasi_sock_shutdown(pre, __WASI_SDFLAGS_WR));
  __wasi_fd_t f;
  show("open f.txt", __wasi_path_open(pre, 0, "f.txt", 0, __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES | __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS, 0, 0, &f));
  show("sock_shutdown file", __wasi_sock_shutdown(f, __WASI_SDFLAGS_WR));

  // Links to a new name ending in '/': that would be a directory, which a link is not.
  show("link to link/", __wasi_path_link(pre, 0, "f.txt", pre, "link/"));
  show("symlink to sym/", __wasi_path_symlink("f.txt", pre, "sym/"));
  show("mkdir d", __wasi_path_create_directory(pre, "d"));
  show("link to existing d/", __wasi_path_link(pre, 0, "f.txt", pre, "d/"));
  show("symlink to existing d/", __wasi_path_symlink("f.txt", pre, "d/"));
  show("symlink to existing f.txt/", __wasi_path_symlink("x", pre, "f.txt/"));
  show("link to link", __wasi_path_link(pre, 0, "f.txt", pre, "link"));
  show("symlink to sym", __wasi_path_symlink("f.txt", pre, "sym"));

  // fd_renumber onto a closed fd, as dup2 does.
  show("renumber onto closed 40", __wasi_fd_renumber(f, 40));
  __wasi_fdstat_t fst;
  show("old number after renumber", __wasi_fd_fdstat_get(f, &fst));
  show("renumber from closed 41", __wasi_fd_renumber(41, 40));
  put(40, "written through 40\n");
  char line[64];
  snprintf(line, sizeof line, "stdout onto closed 50 errno=%d\n", __wasi_fd_renumber(1, 50));
  put(50, line);  // fd 1 is closed now: libc's stdout would write nowhere
  put(50, "stdout through 50\n");
  show("stdout back onto closed 1", __wasi_fd_renumber(50, 1));
  put(1, "stdout back on 1\n");

  // Times: only the one asked for changes, to the nanosecond where the host keeps them.
  times("before", 40, 0, 0);
  show("fd set mtim", __wasi_fd_filestat_set_times(40, 0, 1700000000123456789ull, __WASI_FSTFLAGS_MTIM));
  times("after fd set mtim", 40, 0, 0);
  show("path set atim", __wasi_path_filestat_set_times(pre, 0, "f.txt", 1600000000987654321ull, 0, __WASI_FSTFLAGS_ATIM));
  times("after path set atim", pre, "f.txt", 0);
  show("symlink set mtim", __wasi_path_filestat_set_times(pre, 0, "sym", 0, 1500000000000000001ull, __WASI_FSTFLAGS_MTIM));
  times("symlink", pre, "sym", 0);
  times("its target", pre, "sym", 1);
  return 0;
}
