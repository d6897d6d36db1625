// NaN bits: computes NaNs from its arguments (so nothing is folded at compile time) in a long
// loop of float work, and prints their bit patterns. x86 hosts give fff8..., arm64 7ff8...;
// with `--deterministic` every host prints the canonical 7ff8000000000000 / 7fc00000.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long bits64(double x) { unsigned long long b; memcpy(&b, &x, 8); return b; }
static unsigned bits32(float x) { unsigned b; memcpy(&b, &x, 4); return b; }

int main(int argc, char **argv) {
  double zero = argc > 1 ? atof(argv[1]) : 0.0;
  int rounds = argc > 2 ? atoi(argv[2]) : 100000;
  double acc = 0;
  for (int i = 1; i <= rounds; i++) acc += sqrt((double)i) / i;
  printf("acc %.6f\n", acc);
  volatile double z = zero;
  volatile float zf = (float)zero;
  printf("div %016llx\n", bits64(z / z));
  printf("sqrt %016llx\n", bits64(sqrt(z - 1)));
  printf("mul %016llx\n", bits64((z / z) * acc));
  printf("f32 %08x\n", bits32(zf / zf));
  return 0;
}
