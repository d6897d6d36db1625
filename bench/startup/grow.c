/*
 * Memory growth, three ways (argv[1]):
 *   pages N   N calls of memory.grow(1), writing one byte into each new page
 *   malloc N  N mallocs of 1 MiB (libc grows the memory as it needs), one byte per page written
 *   steps N   memory.grow by 64 MiB, N times (N = 64 reaches 4 GiB), one byte per step written
 * Prints the final size in pages and a checksum of the bytes read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: grow pages|malloc|steps N\n");
    return 2;
  }
  long n = atol(argv[2]);
  unsigned sum = 0;
  if (strcmp(argv[1], "pages") == 0) {
    for (long i = 0; i < n; i++) {
      long old = __builtin_wasm_memory_grow(0, 1);
      if (old < 0) { printf("grow failed at %ld\n", i); return 1; }
      volatile unsigned char *p = (unsigned char *)(old * 65536);
      p[i & 0xffff] = (unsigned char)i;
      sum = sum * 31 + p[i & 0xffff];
    }
  } else if (strcmp(argv[1], "malloc") == 0) {
    for (long i = 0; i < n; i++) {
      volatile unsigned char *p = malloc(1 << 20);
      if (!p) { printf("malloc failed at %ld\n", i); return 1; }
      for (long k = 0; k < (1 << 20); k += 65536) p[k] = (unsigned char)(i + k);
      for (long k = 0; k < (1 << 20); k += 65536) sum = sum * 31 + p[k];
    }
  } else if (strcmp(argv[1], "steps") == 0) {
    for (long i = 0; i < n; i++) {
      long old = __builtin_wasm_memory_grow(0, 1024);
      if (old < 0) { printf("grow failed at step %ld\n", i); return 1; }
      volatile unsigned char *p = (unsigned char *)((unsigned long)old * 65536);
      p[12345] = (unsigned char)i;
      sum = sum * 31 + p[12345];
    }
  }
  printf("pages %lu checksum %u\n", (unsigned long)__builtin_wasm_memory_size(0), sum);
  return 0;
}
