/* Producer/consumer on a bounded ring buffer with a futex mutex and two condition
 * variables (memory.atomic.wait32/notify): P producers put N items each, C consumers take
 * them until each gets a 0 (which main puts after the producers are joined). Consumers
 * block when the buffer is empty, producers when it is full. Main checks the count, the
 * sum and an order-independent checksum of the items.
 * Usage: prod_cons [producers=2] [consumers=3] [items=3000] [slots=8] */
#include "wasi_threads.h"

#define MAX_THREADS 8
#define MAX_SLOTS 64

static mutex_t mutex;
static cond_t not_empty, not_full;
static u32 ring[MAX_SLOTS];
static u32 slots, head, count;
static u32 items;

static u64 got_count[MAX_THREADS], got_sum[MAX_THREADS], got_hash[MAX_THREADS];
static thread_t producers[MAX_THREADS], consumers[MAX_THREADS];
static char stacks[2 * MAX_THREADS][8192] __attribute__((aligned(16)));

static u64 mix(u64 x) { x ^= x >> 31; x *= 0x9e3779b97f4a7c15ull; return x ^ (x >> 29); }

static void put_item(u32 v) {
  mutex_lock(&mutex);
  while (count == slots) cond_wait(&not_full, &mutex);
  ring[(head + count) % slots] = v;
  count++;
  cond_signal(&not_empty);
  mutex_unlock(&mutex);
}

static u32 take_item(void) {
  mutex_lock(&mutex);
  while (count == 0) cond_wait(&not_empty, &mutex);
  u32 v = ring[head];
  head = (head + 1) % slots;
  count--;
  cond_signal(&not_full);
  mutex_unlock(&mutex);
  return v;
}

static void produce(void *arg) {
  u32 p = (u32)(uintptr_t)arg;
  for (u32 i = 1; i <= items; i++) put_item((p + 1) * 1000000u + i);
}

static void consume(void *arg) {
  u32 c = (u32)(uintptr_t)arg;
  for (;;) {
    u32 v = take_item();
    if (v == 0) return;
    got_count[c]++;
    got_sum[c] += v;
    got_hash[c] += mix(v);
  }
}

int main(int argc, char **argv) {
  u32 np = argc > 1 ? (u32)parse_u64(argv[1]) : 2;
  u32 nc = argc > 2 ? (u32)parse_u64(argv[2]) : 3;
  items = argc > 3 ? (u32)parse_u64(argv[3]) : 3000;
  slots = argc > 4 ? (u32)parse_u64(argv[4]) : 8;
  if (np < 1 || np > MAX_THREADS || nc < 1 || nc > MAX_THREADS || slots < 1 || slots > MAX_SLOTS) return 2;
  if (threads_start(consumers, stacks[0], sizeof stacks[0], nc, consume) < 0) return 1;
  if (threads_start(producers, stacks[MAX_THREADS], sizeof stacks[0], np, produce) < 0) return 1;
  threads_join(producers, np);
  for (u32 i = 0; i < nc; i++) put_item(0);
  threads_join(consumers, nc);
  line_t l = {0};
  u64 n = 0, sum = 0, hash = 0, expect_sum = 0, expect_hash = 0;
  for (u32 i = 0; i < nc; i++) { n += got_count[i]; sum += got_sum[i]; hash += got_hash[i]; }
  for (u32 p = 0; p < np; p++)
    for (u32 i = 1; i <= items; i++) { u32 v = (p + 1) * 1000000u + i; expect_sum += v; expect_hash += mix(v); }
  put_str(&l, "producers "); put_u64(&l, np); put_str(&l, ", consumers "); put_u64(&l, nc);
  put_str(&l, ", slots "); put_u64(&l, slots); line_end(&l);
  put_str(&l, "items "); put_u64(&l, n); put_str(&l, " (expected "); put_u64(&l, (u64)np * items); put_str(&l, ")"); line_end(&l);
  put_str(&l, "sum "); put_u64(&l, sum); put_str(&l, " (expected "); put_u64(&l, expect_sum); put_str(&l, ")"); line_end(&l);
  put_str(&l, "checksum "); put_hex(&l, hash); put_str(&l, " (expected "); put_hex(&l, expect_hash); put_str(&l, ")"); line_end(&l);
  int ok = n == (u64)np * items && sum == expect_sum && hash == expect_hash && count == 0;
  put_str(&l, ok ? "ok" : "MISMATCH"); line_end(&l);
  return ok ? 0 : 1;
}
