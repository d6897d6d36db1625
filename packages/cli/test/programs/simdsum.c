/*
 * A WASI program whose loops clang -O3 -msimd128 vectorises (i8/i16/i32/f32/f64 lanes):
 * prints a checksum per round. Used by simd.test.ts to compare `mvvm run` with node:wasi
 * (V8) and checkpoint/restore mid-run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4096
static uint8_t a8[N], b8[N];
static int16_t a16[N];
static int32_t a32[N], b32[N];
static float af[N];
static double ad[N];

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  uint32_t seed = 7;
  for (int i = 0; i < N; i++) {
    seed = seed * 1664525u + 1013904223u;
    a8[i] = (uint8_t)(seed >> 24);
    b8[i] = (uint8_t)(seed >> 16);
    a16[i] = (int16_t)(seed >> 8);
    a32[i] = (int32_t)seed >> 4;
    b32[i] = (int32_t)(seed * 3u) >> 6;
    af[i] = (float)(int32_t)(seed >> 20) * 0.25f;
    ad[i] = (double)(int32_t)(seed >> 12) * 0.125;
  }
  for (int r = 0; r < rounds; r++) {
    uint32_t s8 = 0, s16 = 0;
    int64_t s32 = 0;
    float sf = 0;
    double sd = 0;
    for (int i = 0; i < N; i++) {
      unsigned x = a8[i] + b8[i];
      a8[i] = (uint8_t)(x > 255 ? 255 : x);
      s8 += a8[i];
    }
    for (int i = 0; i < N; i++) {
      a16[i] = (int16_t)(a16[i] * 3 + (int16_t)r);
      s16 += (uint16_t)a16[i];
    }
    for (int i = 0; i < N; i++) {
      a32[i] = (a32[i] ^ b32[i]) + (a32[i] >> 3);
      s32 += a32[i] < b32[i] ? a32[i] : b32[i];
    }
    for (int i = 0; i < N; i++) af[i] = af[i] * 0.5f + (float)r;
    for (int i = 0; i < N; i++) sf += af[i];
    for (int i = 0; i < N; i++) ad[i] = ad[i] * 0.75 - af[i];
    for (int i = 0; i < N; i++) sd += ad[i];
    printf("round %d: %u %u %lld %.3f %.3f\n", r, s8, s16, (long long)s32, sf, sd);
  }
  return 0;
}
