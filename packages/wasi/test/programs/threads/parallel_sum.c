/* Parallel sum with atomics: T threads sum slices of a shared array, adding each chunk's
 * sum with i64.atomic.rmw.add, counting chunks with i32.atomic.rmw.add and keeping the
 * maximum with a compare-exchange loop. Main checks against a sequential sum.
 * Usage: parallel_sum [threads=4] [n=100000] */
#include "wasi_threads.h"

#define MAX_THREADS 8
#define MAX_N 262144
#define CHUNK 500

static u32 data[MAX_N];
static u32 n_items;
static volatile int64_t total;
static volatile int32_t chunks;
static volatile int32_t maximum;
static volatile int32_t started;

static thread_t threads[MAX_THREADS];
static u32 bounds[MAX_THREADS + 1];
static char stacks[MAX_THREADS][8192] __attribute__((aligned(16)));

static void sum_slice(void *arg) {
  u32 t = (u32)(uintptr_t)arg;
  fetch_add(&started, 1);
  for (u32 i = bounds[t]; i < bounds[t + 1]; i += CHUNK) {
    u32 end = i + CHUNK < bounds[t + 1] ? i + CHUNK : bounds[t + 1];
    int64_t s = 0;
    int32_t mx = 0;
    for (u32 j = i; j < end; j++) {
      s += data[j];
      if ((int32_t)data[j] > mx) mx = (int32_t)data[j];
    }
    fetch_add(&total, s);
    fetch_add(&chunks, 1);
    int32_t seen = load(&maximum);
    while (seen < mx && !cas(&maximum, seen, mx)) seen = load(&maximum);
  }
}

int main(int argc, char **argv) {
  u32 t = argc > 1 ? (u32)parse_u64(argv[1]) : 4;
  n_items = argc > 2 ? (u32)parse_u64(argv[2]) : 100000;
  if (t < 1 || t > MAX_THREADS || n_items > MAX_N) return 2;
  u32 x = 12345;
  for (u32 i = 0; i < n_items; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (x >> 8) & 0xfffff;
  }
  for (u32 i = 0; i <= t; i++) bounds[i] = (u32)((u64)n_items * i / t);
  if (threads_start(threads, stacks[0], sizeof stacks[0], t, sum_slice) < 0) return 1;
  threads_join(threads, t);
  line_t l = {0};
  int64_t expect = 0;
  int32_t expect_max = 0;
  u32 expect_chunks = 0;
  for (u32 i = 0; i < t; i++) expect_chunks += (bounds[i + 1] - bounds[i] + CHUNK - 1) / CHUNK;
  for (u32 i = 0; i < n_items; i++) {
    expect += data[i];
    if ((int32_t)data[i] > expect_max) expect_max = (int32_t)data[i];
  }
  put_str(&l, "threads "); put_u64(&l, t); put_str(&l, " started "); put_u64(&l, (u64)started);
  put_str(&l, ", items "); put_u64(&l, n_items); line_end(&l);
  put_str(&l, "sum "); put_i64(&l, total); put_str(&l, " (sequential "); put_i64(&l, expect); put_str(&l, ")"); line_end(&l);
  put_str(&l, "chunks "); put_u64(&l, (u64)chunks); put_str(&l, " (expected "); put_u64(&l, expect_chunks); put_str(&l, ")"); line_end(&l);
  put_str(&l, "max "); put_u64(&l, (u64)maximum); put_str(&l, " (sequential "); put_u64(&l, (u64)expect_max); put_str(&l, ")"); line_end(&l);
  int ok = total == expect && (u32)chunks == expect_chunks && maximum == expect_max;
  put_str(&l, ok ? "ok" : "MISMATCH"); line_end(&l);
  return ok ? 0 : 1;
}
