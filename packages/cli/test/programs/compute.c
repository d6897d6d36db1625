// Compute: a sieve and a small matrix power over heap memory, with arguments in MVVM's
// style (-nCOUNT -gSEED); prints as it goes and exits with a checksum-derived code.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned matrix_checksum(int n, unsigned seed, int rounds) {
  unsigned *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b), *c = malloc(n * n * sizeof *c);
  for (int i = 0; i < n * n; i++) { seed = seed * 1103515245u + 12345u; a[i] = seed >> 16; b[i] = i % 7; }
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        unsigned s = 0;
        for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
        c[i * n + j] = s;
      }
    memcpy(b, c, n * n * sizeof *c);
  }
  unsigned h = 0;
  for (int i = 0; i < n * n; i++) h = h * 31 + b[i];
  free(a); free(b); free(c);
  return h;
}

int main(int argc, char **argv) {
  int count = 20000;
  unsigned seed = 1;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "-n", 2) == 0) count = atoi(argv[i] + 2);
    else if (strncmp(argv[i], "-g", 2) == 0) seed = (unsigned)atoi(argv[i] + 2);
  }
  char *composite = calloc(count + 1, 1);
  int primes = 0;
  for (int i = 2; i <= count; i++) {
    if (composite[i]) continue;
    primes++;
    if (primes % 500 == 0) printf("prime #%d = %d\n", primes, i);
    for (long long j = (long long)i * i; j <= count; j += i) composite[j] = 1;
  }
  printf("%d primes up to %d\n", primes, count);
  unsigned h = matrix_checksum(24, seed, 3);
  printf("matrix checksum %08x\n", h);
  fprintf(stderr, "seed %u\n", seed);
  free(composite);
  return (int)(h % 5);
}
