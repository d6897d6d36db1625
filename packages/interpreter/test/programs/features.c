/* Built with the post-MVP features current clang emits (bulk memory, non-trapping
 * float-to-int, sign extension, multi-value, reference types): memcpy/memset become
 * memory.copy/fill, float casts become saturating truncations. run(n) returns a checksum
 * that V8 and this interpreter must agree on. */
#include <stdint.h>

/* Freestanding: no libc headers; clang lowers these builtins to memory.fill / memory.copy. */
#define memset __builtin_memset
#define memcpy __builtin_memcpy
#define memmove __builtin_memmove

static uint8_t a[1 << 16], b[1 << 16];

__attribute__((noinline)) static int64_t casts(double x) {
  int32_t i = (int32_t)x;          /* i32.trunc_sat_f64_s */
  uint32_t u = (uint32_t)(x * 3);  /* i32.trunc_sat_f64_u */
  int64_t l = (int64_t)(x * 1e10); /* i64.trunc_sat_f64_s */
  int8_t s8 = (int8_t)i;           /* i32.extend8_s */
  int16_t s16 = (int16_t)u;        /* i32.extend16_s */
  return l ^ ((int64_t)i << 7) ^ u ^ s8 ^ s16;
}

__attribute__((export_name("run"))) int64_t run(int n) {
  int64_t h = 0;
  for (int r = 0; r < n; r++) {
    memset(a, r & 0xff, sizeof a);                  /* memory.fill */
    for (int i = 0; i < 256; i++) a[i * 97 % sizeof a] = (uint8_t)(i * r);
    memcpy(b, a + (r % 1000), sizeof b - 1000);     /* memory.copy */
    memmove(b + 7, b, 4096);                        /* overlapping memory.copy */
    for (int i = 0; i < 64; i++) h = h * 31 + b[i * 1021 % sizeof b];
    h ^= casts((double)(r - n / 2) * 12345.678);
  }
  return h;
}
