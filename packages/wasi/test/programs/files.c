// Files and directories through libc: create, write, seek, read, pread/pwrite, append,
// truncate, stat, mkdir, readdir, rename, unlink, rmdir, symlink/readlink, link.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void check(int ok, const char *what) {
  if (!ok) { printf("FAIL %s: %s\n", what, strerror(errno)); exit(1); }
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *dir) {
  DIR *d = opendir(dir);
  check(d != NULL, "opendir");
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(char *), cmp);
  printf("ls %s:", dir);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

int main(void) {
  int fd = open("/sandbox/data.txt", O_CREAT | O_TRUNC | O_RDWR, 0644);
  check(fd >= 0, "open data.txt");
  check(write(fd, "0123456789", 10) == 10, "write");
  check(lseek(fd, 3, SEEK_SET) == 3, "lseek set");
  check(write(fd, "abc", 3) == 3, "overwrite");
  check(lseek(fd, -2, SEEK_END) == 8, "lseek end");
  char buf[64] = {0};
  check(read(fd, buf, sizeof buf) == 2, "read tail");
  printf("tail=%s\n", buf);
  check(pwrite(fd, "XY", 2, 12) == 2, "pwrite past end");
  memset(buf, 0, sizeof buf);
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  printf("pread n=%zd:", n);
  for (int i = 0; i < n; i++) printf(" %02x", (unsigned char)buf[i]);
  printf("\n");
  printf("tell=%lld\n", (long long)lseek(fd, 0, SEEK_CUR));
  check(ftruncate(fd, 5) == 0, "ftruncate");
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat");
  printf("size after truncate=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  close(fd);

  fd = open("/sandbox/data.txt", O_WRONLY | O_APPEND);
  check(fd >= 0, "open append");
  check(write(fd, "+app", 4) == 4, "append");
  close(fd);
  FILE *f = fopen("/sandbox/data.txt", "r");
  check(f != NULL, "fopen");
  memset(buf, 0, sizeof buf);
  fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  printf("content=%s\n", buf);

  check(mkdir("/sandbox/sub", 0755) == 0, "mkdir");
  check(mkdir("/sandbox/sub/deeper", 0755) == 0, "mkdir deeper");
  f = fopen("/sandbox/sub/a.txt", "w");
  fputs("file a\n", f);
  fclose(f);
  f = fopen("/sandbox/sub/b.txt", "w");
  fputs("file b\n", f);
  fclose(f);
  list("/sandbox/sub");
  check(rename("/sandbox/sub/a.txt", "/sandbox/sub/deeper/moved.txt") == 0, "rename");
  list("/sandbox/sub");
  list("/sandbox/sub/deeper");
  check(stat("/sandbox/sub/deeper/moved.txt", &st) == 0, "stat moved");
  printf("moved size=%lld\n", (long long)st.st_size);
  check(unlink("/sandbox/sub/b.txt") == 0, "unlink");
  printf("stat removed: %s\n", stat("/sandbox/sub/b.txt", &st) == 0 ? "exists" : strerror(errno));
  check(symlink("deeper/moved.txt", "/sandbox/sub/link") == 0, "symlink");
  memset(buf, 0, sizeof buf);
  check(readlink("/sandbox/sub/link", buf, sizeof buf) > 0, "readlink");
  printf("readlink=%s\n", buf);
  f = fopen("/sandbox/sub/link", "r");
  check(f != NULL, "open via symlink");
  memset(buf, 0, sizeof buf);
  fgets(buf, sizeof buf, f);
  fclose(f);
  printf("via link=%s", buf);
  check(link("/sandbox/sub/deeper/moved.txt", "/sandbox/hard.txt") == 0, "link");
  check(stat("/sandbox/hard.txt", &st) == 0, "stat hard");
  printf("hard nlink=%lld\n", (long long)st.st_nlink);
  check(unlink("/sandbox/sub/link") == 0, "unlink link");
  check(unlink("/sandbox/sub/deeper/moved.txt") == 0, "unlink moved");
  check(rmdir("/sandbox/sub/deeper") == 0, "rmdir deeper");
  list("/sandbox");
  printf("done\n");
  return 0;
}
