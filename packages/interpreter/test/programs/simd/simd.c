/*
 * Kernels that clang -O3 -msimd128 auto-vectorises (i8/i16/i32/i64/f32/f64 lanes, loads,
 * stores, shuffles, reductions, comparisons and selects), for the SIMD tests: run(n)
 * returns a checksum of all of them, and the buffers stay in memory for comparison.
 * Built twice by build.sh: with -msimd128 (simd.wasm) and without (scalar.wasm).
 * No libc calls and no imports: only `run` and the memory are exported.
 */
#include <stdint.h>

#define N 1024

static uint8_t a8[N], b8[N], c8[N];
static int16_t a16[N], b16[N], c16[N];
static int32_t a32[N], b32[N], c32[N];
static int64_t a64[N], c64[N];
static float af[N], bf[N], cf[N];
static double ad[N], bd[N], cd[N];

static uint32_t seed = 12345;
static uint32_t rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

static void fill(void) {
  for (int i = 0; i < N; i++) {
    a8[i] = (uint8_t)rnd();
    b8[i] = (uint8_t)rnd();
    a16[i] = (int16_t)rnd();
    b16[i] = (int16_t)rnd();
    a32[i] = (int32_t)rnd() - 0x400000;
    b32[i] = (int32_t)rnd() - 0x400000;
    a64[i] = (int64_t)rnd() * (int64_t)rnd();
    af[i] = (float)(int32_t)(rnd() & 0xffff) / 256.0f - 100.0f;
    bf[i] = (float)(int32_t)(rnd() & 0xffff) / 512.0f + 0.5f;
    ad[i] = (double)(int32_t)(rnd() & 0xfffff) / 1024.0 - 300.0;
    bd[i] = (double)(int32_t)(rnd() & 0xfffff) / 4096.0 + 0.25;
  }
}

__attribute__((noinline)) static void bytes(void) {
  for (int i = 0; i < N; i++) {
    unsigned s = a8[i] + b8[i];
    c8[i] = (uint8_t)(s > 255 ? 255 : s); /* saturating add */
    c8[i] ^= (uint8_t)((a8[i] + b8[i] + 1) >> 1); /* average */
    c8[i] = c8[i] > a8[i] ? c8[i] : a8[i]; /* max */
  }
}

__attribute__((noinline)) static int32_t shorts(void) {
  int32_t dot = 0;
  for (int i = 0; i < N; i++) {
    c16[i] = (int16_t)(a16[i] * b16[i] + (a16[i] >> 3));
    dot += (int32_t)a16[i] * b16[i];
  }
  return dot;
}

__attribute__((noinline)) static int64_t ints(void) {
  int64_t sum = 0;
  for (int i = 0; i < N; i++) {
    int32_t x = a32[i] * 3 - b32[i];
    c32[i] = x < 0 ? -x : x;
    c32[i] = c32[i] < b32[i] ? b32[i] : c32[i];
    sum += c32[i];
  }
  return sum;
}

__attribute__((noinline)) static uint64_t longs(void) {
  uint64_t h = 0;
  for (int i = 0; i < N; i++) {
    c64[i] = (a64[i] << 3) + (a64[i] >> 5) + (int64_t)a32[i];
    h ^= (uint64_t)c64[i];
  }
  return h;
}

__attribute__((noinline)) static float floats(void) {
  float acc = 0;
  for (int i = 0; i < N; i++) {
    cf[i] = af[i] * bf[i] + af[i] / bf[i];
    cf[i] = cf[i] < 0 ? -cf[i] : cf[i];
  }
  for (int i = 0; i < N; i++) acc += cf[i] * 0.001f;
  return acc;
}

__attribute__((noinline)) static double doubles(void) {
  double acc = 0;
  for (int i = 0; i < N; i++) {
    cd[i] = ad[i] * bd[i] - ad[i] / bd[i];
    cd[i] = cd[i] > 1000.0 ? 1000.0 : cd[i];
    acc += cd[i];
  }
  return acc;
}

__attribute__((noinline)) static uint32_t convert(void) {
  uint32_t h = 0;
  for (int i = 0; i < N; i++) {
    int32_t x = (int32_t)(af[i] * 16.0f);
    c32[i] = x + (int32_t)a8[i];
    h = h * 31u + (uint32_t)c32[i];
  }
  for (int i = 0; i < N; i++) cf[i] = (float)a32[i] * 0.5f + (float)a16[i];
  return h;
}

__attribute__((noinline)) static void reverse(void) {
  for (int i = 0; i < N; i++) c32[i] = a32[N - 1 - i] + b32[i];
}

uint32_t run(int n) {
  seed = 12345; /* every call computes the same: the bench calls run(n) repeatedly */
  fill();
  uint64_t check = 0;
  for (int r = 0; r < n; r++) {
    a8[r & (N - 1)] += (uint8_t)r;
    bytes();
    check = check * 1000003u + c8[r & (N - 1)];
    check += (uint32_t)shorts();
    check += (uint64_t)ints();
    check ^= longs();
    float f = floats();
    check += (uint32_t)(int32_t)(f * 16.0f);
    double d = doubles();
    check += (uint64_t)(int64_t)(d * 4.0);
    check += convert();
    reverse();
    check += (uint32_t)c32[r & (N - 1)];
    a32[(r * 7) & (N - 1)] ^= (int32_t)check;
  }
  return (uint32_t)(check ^ (check >> 32));
}
