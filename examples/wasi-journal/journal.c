/* A WASI program for the CLI walkthrough: appends numbered lines to a journal file in the
 * preopened directory, printing as it goes, then prints the journal's size and a checksum.
 * Usage: journal.wasm [lines] (default 2000); the directory is preopened as /data. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long long mix(unsigned long long h, unsigned long long v) {
  h ^= v;
  h *= 0x100000001b3ULL;
  return h ^ (h >> 29);
}

int main(int argc, char **argv) {
  int lines = argc > 1 ? atoi(argv[1]) : 2000;
  FILE *f = fopen("/data/journal.txt", "w");
  if (!f) { perror("open /data/journal.txt"); return 1; }
  unsigned long long h = 0xcbf29ce484222325ULL;
  for (int i = 1; i <= lines; i++) {
    for (int k = 0; k < 200; k++) h = mix(h, (unsigned long long)i * k);
    fprintf(f, "entry %d %016llx\n", i, h);
    if (i % (lines / 4 > 0 ? lines / 4 : 1) == 0) printf("wrote %d of %d entries\n", i, lines);
  }
  long size = ftell(f);
  fclose(f);
  printf("journal: %ld bytes, checksum %016llx\n", size, h);
  return 0;
}
