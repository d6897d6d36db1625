// A long sequence of writes and seeks over several open files, with work in between so
// snapshots land mid-sequence. Output and files must not depend on where it was snapshotted.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned hash = 2166136261u;
static void mix(const char *s, int n) { for (int i = 0; i < n; i++) hash = (hash ^ (unsigned char)s[i]) * 16777619u; }

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 40;
  int log = open("/sandbox/log.txt", O_CREAT | O_WRONLY | O_APPEND, 0644);
  int data = open("/sandbox/data.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
  int input = open("/sandbox/input.txt", O_RDONLY);
  int seq = open("/sandbox/seq.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (log < 0 || data < 0 || input < 0 || seq < 0) { printf("open failed\n"); return 1; }
  char line[128];
  for (int i = 0; i < rounds; i++) {
    int n = snprintf(line, sizeof line, "round %d\n", i);
    write(log, line, n);
    // overwrite a record in the middle, then extend the file
    lseek(data, (i * 7) % (i + 1) * 4, SEEK_SET);
    write(data, &i, sizeof i);
    lseek(data, 0, SEEK_END);
    write(data, line, n);
    // some computation between the writes
    unsigned x = i;
    for (int k = 0; k < 2000; k++) x = x * 1103515245u + 12345u;
    mix((char *)&x, sizeof x);
    // unbuffered reads and writes: both depend on the offsets the fds carry
    n = read(input, line, 13);
    if (n > 0) { mix(line, n); printf("in: %.*s|\n", (int)n, line); write(seq, line, n); }
    write(seq, "/", 1);
    if (i % 10 == 9) printf("progress %d hash=%08x\n", i + 1, hash);
  }
  char buf[256];
  lseek(data, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(data, buf, sizeof buf)) > 0) mix(buf, n);
  printf("final hash=%08x\n", hash);
  close(log);
  close(data);
  close(input);
  close(seq);
  return 0;
}
