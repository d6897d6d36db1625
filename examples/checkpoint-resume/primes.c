/* A small compute job with state in linear memory, locals and nested calls:
 * sieve primes below n, then fold them into a checksum with a recursive helper. */
#define MAX 200000
static unsigned char composite[MAX];

__attribute__((noinline)) static unsigned long long fold(const unsigned *p, int count, unsigned long long acc) {
  if (count == 0) return acc;
  return fold(p + 1, count - 1, (acc ^ *p) * 0x100000001b3ULL);
}

static unsigned primes[MAX / 2];

__attribute__((export_name("run"))) unsigned long long run(int n) {
  if (n > MAX) n = MAX;
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (composite[i]) continue;
    primes[count++] = (unsigned)i;
    for (int j = i * 2; j < n; j += i) composite[j] = 1;
  }
  unsigned long long acc = 0xcbf29ce484222325ULL;
  for (int k = 0; k + 64 <= count; k += 64) acc = fold(primes + k, 64, acc);
  return acc;
}
