/* A counter protected by a mutex: T threads each do K increments as a read, some work,
 * and a write of the counter (a lost update without the lock). The lock is a futex mutex
 * (memory.atomic.wait32/notify) or, with "spin", a spinlock. Main checks T*K.
 * Usage: mutex_counter [threads=4] [increments=2000] [futex|spin] */
#include "wasi_threads.h"

#define MAX_THREADS 8

static mutex_t mutex;
static spinlock_t spin;
static int use_spin;
static u32 increments;
static volatile u32 counter;
static volatile u64 mixed; /* also updated in the critical section: a second shared word */
static u64 per_thread[MAX_THREADS];

static thread_t threads[MAX_THREADS];
static char stacks[MAX_THREADS][8192] __attribute__((aligned(16)));

static void work(void *arg) {
  u32 t = (u32)(uintptr_t)arg;
  for (u32 k = 0; k < increments; k++) {
    if (use_spin) spin_lock(&spin); else mutex_lock(&mutex);
    u32 v = counter;
    u64 m = mixed;
    for (u32 w = 0; w < 20; w++) m = m * 6364136223846793005ull + 1442695040888963407ull;
    mixed = m ^ (t + 1);
    counter = v + 1;
    if (use_spin) spin_unlock(&spin); else mutex_unlock(&mutex);
    per_thread[t]++;
  }
}

int main(int argc, char **argv) {
  u32 t = argc > 1 ? (u32)parse_u64(argv[1]) : 4;
  increments = argc > 2 ? (u32)parse_u64(argv[2]) : 2000;
  use_spin = argc > 3 && argv[3][0] == 's';
  if (t < 1 || t > MAX_THREADS) return 2;
  if (threads_start(threads, stacks[0], sizeof stacks[0], t, work) < 0) return 1;
  threads_join(threads, t);
  line_t l = {0};
  u64 sum = 0;
  for (u32 i = 0; i < t; i++) sum += per_thread[i];
  put_str(&l, use_spin ? "spinlock" : "futex mutex"); put_str(&l, ", threads "); put_u64(&l, t);
  put_str(&l, ", increments "); put_u64(&l, increments); line_end(&l);
  put_str(&l, "counter "); put_u64(&l, counter); put_str(&l, " (expected "); put_u64(&l, (u64)t * increments);
  put_str(&l, ", per-thread total "); put_u64(&l, sum); put_str(&l, ")"); line_end(&l);
  int ok = counter == (u64)t * increments && sum == counter;
  put_str(&l, ok ? "ok" : "MISMATCH"); line_end(&l);
  return ok ? 0 : 1;
}
