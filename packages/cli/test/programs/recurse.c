// Deep recursion: a non-tail-recursive walk thousands of frames deep, plus Ackermann,
// so checkpoints land with long call stacks.
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static unsigned depth_walk(int depth, unsigned acc) {
  if (depth == 0) return acc;
  unsigned below = depth_walk(depth - 1, acc * 2654435761u + (unsigned)depth);
  if (depth % 1000 == 0) printf("unwinding depth %d: %08x\n", depth, below);
  return below ^ (unsigned)depth;
}

__attribute__((noinline)) static int ackermann(int m, int n) {
  if (m == 0) return n + 1;
  if (n == 0) return ackermann(m - 1, 1);
  return ackermann(m - 1, ackermann(m, n - 1));
}

int main(int argc, char **argv) {
  int depth = argc > 1 ? atoi(argv[1]) : 5000;
  printf("walk(%d) = %08x\n", depth, depth_walk(depth, 7));
  for (int n = 1; n <= 5; n++) printf("ackermann(2, %d) = %d\n", n, ackermann(2, n));
  printf("ackermann(3, 3) = %d\n", ackermann(3, 3));
  return 0;
}
