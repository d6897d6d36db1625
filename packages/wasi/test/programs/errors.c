// Error paths: each failing call prints the errno name libc gives; exits with 3.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *what, int r) {
  printf("%-28s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

int main(void) {
  report("open missing", open("/sandbox/nope.txt", O_RDONLY));
  report("open missing dir/file", open("/sandbox/nodir/x.txt", O_RDONLY));
  int fd = open("/sandbox/w.txt", O_CREAT | O_WRONLY, 0644);
  report("open w.txt", fd);
  char c;
  report("read write-only fd", (int)read(fd, &c, 1));
  report("excl existing", open("/sandbox/w.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
  report("mkdir d", mkdir("/sandbox/d", 0755));
  report("mkdir existing", mkdir("/sandbox/d", 0755));
  int g = open("/sandbox/d/f", O_CREAT | O_WRONLY, 0644);
  close(g);
  report("rmdir non-empty", rmdir("/sandbox/d"));
  report("unlink directory", unlink("/sandbox/d"));
  report("rmdir a file", rmdir("/sandbox/w.txt"));
  report("open file as dir", open("/sandbox/w.txt/", O_RDONLY | O_DIRECTORY));
  report("write dir", open("/sandbox/d", O_WRONLY));
  report("close twice 1", close(fd));
  report("close twice 2", close(fd));
  report("lseek bad fd", (int)lseek(99, 0, SEEK_SET));
  report("negative seek", (int)lseek(g = open("/sandbox/w.txt", O_RDONLY), -5, SEEK_SET));
  report("rename missing", rename("/sandbox/missing", "/sandbox/x"));
  return 3;
}
