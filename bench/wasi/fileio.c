// bench/wasi/fileio.c: a file-I/O-heavy WASI program for `npm run bench` (the wasi section).
//
// In the preopened directory /sandbox it creates directories and files, writes many small
// and some large chunks, seeks and reads back (checksumming every byte), overwrites in
// place, truncates, appends, renames and unlinks, and lists the directories. Unbuffered
// POSIX calls throughout (open/read/write/lseek/...), so nearly every library call is one
// WASI call: tens of thousands of them per run.
//
//   fileio [rounds]        (default 4; npm run bench uses 10)
//
// Prints one line to stdout: "fileio rounds=R files=F bytes=B listed=L checksum=XXXXXXXX".
// The checksum depends only on file contents, sizes and names (directory listings are
// sorted first), never on inode numbers, times or the host's readdir order, so it must be
// equal under node:wasi and under @mvvm/wasi; so must the directory tree left behind.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NDIRS 4
#define NFILES 48          // files per round
#define SMALL_WRITES 120   // small writes per file
#define BIG_EVERY 12       // every 12th file also gets a large chunk
#define BIG_CHUNK (96 * 1024)
#define READS 80           // random-offset small reads per file
#define OVERWRITES 24      // in-place overwrites per file

static unsigned hash = 2166136261u;
static void mix_bytes(const unsigned char *p, size_t n) {
  unsigned h = hash;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  hash = h;
}
static void mix_u32(unsigned x) { mix_bytes((const unsigned char *)&x, sizeof x); }
static void mix_str(const char *s) { mix_bytes((const unsigned char *)s, strlen(s)); }

static unsigned rng = 12345u;
static unsigned next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static unsigned char big[BIG_CHUNK];
static unsigned char buf[4096];
static unsigned long long total_bytes = 0;

static void die(const char *what, const char *path) {
  printf("FAILED: %s %s: %s\n", what, path, strerror(errno));
  exit(2);
}

static void write_all(int fd, const void *p, size_t n, const char *path) {
  const unsigned char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w <= 0) die("write", path);
    c += w;
    n -= (size_t)w;
    total_bytes += (size_t)w;
  }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Lists dir (readdir = fd_readdir), sorts the names, stats each entry (path_filestat_get)
// and mixes name + type + size into the checksum. Returns the number of entries.
static int list_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) die("opendir", dir);
  char *names[1024];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n < 1024) names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_str);
  char path[256];
  for (int i = 0; i < n; i++) {
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (stat(path, &st) != 0) die("stat", path);
    mix_str(names[i]);
    mix_u32(S_ISDIR(st.st_mode) ? 1u : 0u);
    if (!S_ISDIR(st.st_mode)) mix_u32((unsigned)st.st_size);
    free(names[i]);
  }
  return n;
}

static void file_path(char *out, size_t cap, int round, int i) {
  snprintf(out, cap, "/sandbox/d%d/r%d-f%02d.dat", i % NDIRS, round, i);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 4;
  char path[256], path2[256], line[128];
  int files = 0, listed = 0;

  for (int d = 0; d < NDIRS; d++) {
    snprintf(path, sizeof path, "/sandbox/d%d", d);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
  }
  if (mkdir("/sandbox/kept", 0755) != 0 && errno != EEXIST) die("mkdir", "/sandbox/kept");
  int journal = open("/sandbox/journal.log", O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (journal < 0) die("open", "/sandbox/journal.log");

  for (int r = 0; r < rounds; r++) {
    // 1. create and fill: many small writes, some large chunks
    for (int i = 0; i < NFILES; i++, files++) {
      file_path(path, sizeof path, r, i);
      int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
      if (fd < 0) die("open", path);
      for (int k = 0; k < SMALL_WRITES; k++) {
        unsigned len = 8 + next() % 57;
        for (unsigned j = 0; j < len; j++) buf[j] = (unsigned char)next();
        write_all(fd, buf, len, path);
      }
      if (i % BIG_EVERY == 0) {
        unsigned len = BIG_CHUNK / 2 + next() % (BIG_CHUNK / 2);
        for (unsigned j = 0; j < len; j += 4) {
          unsigned v = next();
          memcpy(big + j, &v, 4);
        }
        write_all(fd, big, len, path);
      }
      close(fd);
    }

    // 2. reopen, seek + small reads, overwrite in place, read everything back
    for (int i = 0; i < NFILES; i++) {
      file_path(path, sizeof path, r, i);
      int fd = open(path, O_RDWR);
      if (fd < 0) die("reopen", path);
      struct stat st;
      if (fstat(fd, &st) != 0) die("fstat", path);
      off_t size = st.st_size;
      mix_u32((unsigned)size);
      for (int k = 0; k < READS; k++) {
        off_t at = (off_t)(next() % (unsigned)size);
        if (lseek(fd, at, SEEK_SET) != at) die("lseek", path);
        ssize_t n = read(fd, buf, 1 + next() % 48);
        if (n < 0) die("read", path);
        mix_bytes(buf, (size_t)n);
      }
      for (int k = 0; k < OVERWRITES; k++) {
        off_t at = (off_t)(next() % (unsigned)size);
        int n = snprintf(line, sizeof line, "<%d:%d>", r, k);
        if (at + n > size) at = size - n;
        if (lseek(fd, at, SEEK_SET) != at) die("lseek", path);
        write_all(fd, line, (size_t)n, path);
      }
      off_t cur = lseek(fd, 0, SEEK_CUR);
      mix_u32((unsigned)cur);
      if (lseek(fd, 0, SEEK_SET) != 0) die("rewind", path);
      ssize_t n;
      while ((n = read(fd, buf, i % 2 ? sizeof buf : 512)) > 0) mix_bytes(buf, (size_t)n);
      if (n < 0) die("read", path);
      if (i % 7 == 3) {
        if (ftruncate(fd, size / 2) != 0) die("ftruncate", path);
        if (lseek(fd, 0, SEEK_END) != size / 2) die("lseek end", path);
      }
      close(fd);
      int jn = snprintf(line, sizeof line, "r%d f%02d size=%ld hash=%08x\n", r, i, (long)size, hash);
      write_all(journal, line, (size_t)jn, "journal");
    }

    // 3. rename, unlink, list
    for (int i = 0; i < NFILES; i++) {
      file_path(path, sizeof path, r, i);
      if (i % 3 == 0) {
        if (unlink(path) != 0) die("unlink", path);
      } else if (i % 3 == 1) {
        snprintf(path2, sizeof path2, "/sandbox/d%d/r%d-moved%02d.dat", (i + 1) % NDIRS, r, i);
        if (rename(path, path2) != 0) die("rename", path);
      } else if (i % 12 == 2) {
        snprintf(path2, sizeof path2, "/sandbox/kept/r%d-%02d.dat", r, i);
        if (rename(path, path2) != 0) die("rename", path);
      }
    }
    for (int d = 0; d < NDIRS; d++) {
      snprintf(path, sizeof path, "/sandbox/d%d", d);
      listed += list_dir(path);
    }
    listed += list_dir("/sandbox/kept");
    // files from two rounds ago go away (keeps the tree, and the run's disk use, bounded)
    if (r >= 2) {
      for (int i = 0; i < NFILES; i++) {
        if (i % 3 == 0) continue;
        if (i % 3 == 1) snprintf(path, sizeof path, "/sandbox/d%d/r%d-moved%02d.dat", (i + 1) % NDIRS, r - 2, i);
        else if (i % 12 == 2) continue; // kept
        else file_path(path, sizeof path, r - 2, i);
        if (unlink(path) != 0) die("unlink old", path);
      }
    }
  }
  close(journal);
  listed += list_dir("/sandbox");

  // read the journal back in small pieces
  int jfd = open("/sandbox/journal.log", O_RDONLY);
  if (jfd < 0) die("open", "/sandbox/journal.log");
  ssize_t n;
  while ((n = read(jfd, buf, 100)) > 0) mix_bytes(buf, (size_t)n);
  close(jfd);

  printf("fileio rounds=%d files=%d bytes=%llu listed=%d checksum=%08x\n", rounds, files, total_bytes, listed, hash);
  return 0;
}
