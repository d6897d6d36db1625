/* Memory loops on bytes: sieve of Eratosthenes over a static byte array,
   repeated `n` times with a round-dependent twist so no pass can be skipped. */
#define SIZE 65536
static unsigned char flags[SIZE];

__attribute__((export_name("run"))) int run(int n) {
  unsigned int checksum = 0;
  for (int round = 0; round < n; round++) {
    for (int i = 0; i < SIZE; i++) flags[i] = 1;
    flags[0] = flags[1] = 0;
    for (int i = 2; i * i < SIZE; i++) {
      if (flags[i]) {
        for (int j = i * i; j < SIZE; j += i) flags[j] = 0;
      }
    }
    /* scan-and-update: count primes and mark every (round+2)-th prime */
    unsigned int count = 0;
    for (int i = 0; i < SIZE; i++) {
      if (flags[i]) {
        count++;
        if (count % (unsigned)(round % 7 + 2) == 0) flags[i] = 2;
      }
    }
    unsigned int h = count;
    for (int i = 0; i < SIZE; i += 97) h = h * 31u + flags[i];
    checksum = checksum * 1000003u ^ h;
  }
  return (int)checksum;
}
