/* Memory loops on i32 words: dense integer matrix multiply C = A * B (N x N),
   `n` rounds; each round perturbs A from the previous result. */
#define N 48
static int A[N * N], B[N * N], C[N * N];

__attribute__((export_name("run"))) int run(int n) {
  unsigned int seed = 12345u;
  for (int i = 0; i < N * N; i++) {
    seed = seed * 1103515245u + 12345u;
    A[i] = (int)((seed >> 16) & 0xff) - 128;
    seed = seed * 1103515245u + 12345u;
    B[i] = (int)((seed >> 16) & 0xff) - 128;
  }
  unsigned int checksum = 0;
  for (int round = 0; round < n; round++) {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        int sum = 0;
        for (int k = 0; k < N; k++) sum += A[i * N + k] * B[k * N + j];
        C[i * N + j] = sum;
      }
    }
    unsigned int h = 0;
    for (int i = 0; i < N * N; i++) {
      h = h * 31u + (unsigned)C[i];
      A[i] = (C[i] >> 7) ^ (A[i] & 0x3f);
      A[i] = (A[i] & 0x1ff) - 256;
    }
    checksum ^= h + (unsigned)round;
  }
  return (int)checksum;
}
