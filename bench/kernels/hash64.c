/* i64 hashing: xxHash64-style mixing (multiplies, shifts, xors, rotates)
   over a 16 KiB buffer, `n` passes; each pass seeds the next. Returns i64. */
#define BUF_WORDS 2048
static unsigned long long buf[BUF_WORDS];

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline unsigned long long rotl64(unsigned long long x, int r) {
  return (x << r) | (x >> (64 - r));
}

static inline unsigned long long round64(unsigned long long acc, unsigned long long input) {
  acc += input * P2;
  acc = rotl64(acc, 31);
  return acc * P1;
}

static inline unsigned long long merge(unsigned long long acc, unsigned long long val) {
  acc ^= round64(0, val);
  return acc * P1 + P4;
}

static unsigned long long xxh64_like(unsigned long long seed) {
  unsigned long long v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
  for (int i = 0; i < BUF_WORDS; i += 4) {
    v1 = round64(v1, buf[i]);
    v2 = round64(v2, buf[i + 1]);
    v3 = round64(v3, buf[i + 2]);
    v4 = round64(v4, buf[i + 3]);
  }
  unsigned long long h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
  h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4);
  h += (unsigned long long)BUF_WORDS * 8;
  h ^= h >> 33; h *= P2;
  h ^= h >> 29; h *= P3;
  h ^= h >> 32;
  return h;
}

__attribute__((export_name("run"))) long long run(int n) {
  unsigned long long s = 0x0123456789ABCDEFULL;
  for (int i = 0; i < BUF_WORDS; i++) { /* splitmix64 fill */
    s += 0x9E3779B97F4A7C15ULL;
    unsigned long long z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    buf[i] = z ^ (z >> 31);
  }
  unsigned long long h = P5;
  for (int pass = 0; pass < n; pass++) {
    h = xxh64_like(h);
    buf[h & (BUF_WORDS - 1)] ^= h; /* make every pass depend on the previous */
  }
  return (long long)h;
}
