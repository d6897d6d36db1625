// Clocks, sleeping (poll_oneoff), random: prints only facts that hold on every run.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(void) {
  long long r = ns(CLOCK_REALTIME);
  printf("realtime after 2020: %d\n", r > 1577836800LL * 1000000000LL);
  struct timespec res;
  printf("monotonic res ok: %d\n", clock_getres(CLOCK_MONOTONIC, &res) == 0 && (res.tv_sec > 0 || res.tv_nsec > 0));
  long long a = ns(CLOCK_MONOTONIC);
  struct timespec d = {0, 20 * 1000000};
  nanosleep(&d, NULL);
  long long b = ns(CLOCK_MONOTONIC);
  printf("slept at least 20ms: %d\n", b - a >= 20000000LL);
  usleep(5000);
  printf("monotonic non-decreasing: %d\n", ns(CLOCK_MONOTONIC) >= b);
  unsigned char buf[4096];
  memset(buf, 0, sizeof buf);
  getentropy(buf, 256);
  for (size_t at = 256; at < sizeof buf; at += 256) getentropy(buf + at, 256);
  int zeros = 0, distinct = 0, seen[256] = {0};
  for (size_t i = 0; i < sizeof buf; i++) { zeros += buf[i] == 0; if (!seen[buf[i]]++) distinct++; }
  printf("random looks random: %d\n", zeros < 64 && distinct > 200);
  return 0;
}
