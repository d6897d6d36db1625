// File I/O across a checkpoint: reads /data/input.txt line by line, keeps /data/out.txt
// open while appending a transformed copy, seeks back to patch a header, and reports to
// stdout and stderr. Every open fd and offset must survive a restore.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

static unsigned long hash_line(const char *s) {
  unsigned long h = 5381;
  while (*s) h = h * 33 + (unsigned char)*s++;
  return h;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/data";
  char in_path[256], out_path[256];
  snprintf(in_path, sizeof in_path, "%s/input.txt", dir);
  snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
  FILE *in = fopen(in_path, "r");
  if (!in) { fprintf(stderr, "cannot open %s\n", in_path); return 2; }
  FILE *out = fopen(out_path, "w+");
  if (!out) { fprintf(stderr, "cannot create %s\n", out_path); return 2; }
  fprintf(out, "lines=%08d\n", 0);
  char line[512];
  int n = 0;
  unsigned long total = 0;
  while (fgets(line, sizeof line, in)) {
    for (char *p = line; *p; p++) *p = (char)toupper((unsigned char)*p);
    unsigned long h = hash_line(line);
    total += h;
    fprintf(out, "%05d %016lx %s", n, h, line);
    if (n % 25 == 0) {
      printf("line %d hash %lx\n", n, h);
      fflush(out);
    }
    if (n % 60 == 0) fprintf(stderr, "progress %d\n", n);
    n++;
  }
  fseek(out, 0, SEEK_SET);
  fprintf(out, "lines=%08d\n", n);
  fclose(out);
  fclose(in);
  printf("done: %d lines, total %lx\n", n, total);
  return n % 7;
}
