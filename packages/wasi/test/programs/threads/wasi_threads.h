/*
 * A small wasm32-wasi-threads runtime for the threaded test programs: Debian's wasi-libc
 * has no pthreads (and is not built with atomics, so it cannot be linked into a module
 * with a shared memory), so these programs use no libc at all. It gives them:
 *   _start (args, main, proc_exit), printing to stdout, thread spawning through
 *   wasi-threads (`wasi` `thread-spawn` + the exported `wasi_thread_start`), join, and a
 *   futex mutex and condition variable on memory.atomic.wait32 / memory.atomic.notify.
 * Include it in exactly one .c file (the program); build.sh has the flags.
 */
#include <stdint.h>
#include <stddef.h>

typedef uint32_t u32;
typedef uint64_t u64;

/* ---- WASI preview1 and wasi-threads imports ---- */
typedef struct { const void *buf; u32 len; } ciovec;
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int32_t wasi_fd_write(int32_t fd, const ciovec *iovs, u32 n, u32 *written);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_sizes_get")))
int32_t wasi_args_sizes_get(u32 *argc, u32 *size);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_get")))
int32_t wasi_args_get(char **argv, char *buf);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit"), noreturn))
void wasi_proc_exit(int32_t code);
/* wasi-threads: starts wasi_thread_start(tid, arg) in a new instance on this memory. */
__attribute__((import_module("wasi"), import_name("thread-spawn")))
int32_t wasi_thread_spawn(void *arg);

/* ---- atomics ---- */
#define load(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define store(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define fetch_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define exchange(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
static inline int cas(volatile int32_t *p, int32_t expected, int32_t desired) {
  return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/* memory.atomic.wait32: sleeps while *p == v (0 woken, 1 not equal, 2 timed out). */
static inline int futex_wait(volatile int32_t *p, int32_t v) {
  return __builtin_wasm_memory_atomic_wait32((int32_t *)p, v, -1);
}
/* memory.atomic.notify: wakes up to n waiters on p. */
static inline void futex_wake(volatile int32_t *p, u32 n) {
  __builtin_wasm_memory_atomic_notify((int32_t *)p, n);
}

/* ---- output (a whole line at a time: one fd_write, so lines of threads never mix) ---- */
typedef struct { char buf[256]; u32 len; } line_t;
static inline void put_str(line_t *l, const char *s) { while (*s && l->len < sizeof l->buf) l->buf[l->len++] = *s++; }
static inline void put_u64(line_t *l, u64 v) {
  char tmp[24]; int n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n && l->len < sizeof l->buf) l->buf[l->len++] = tmp[--n];
}
static inline void put_i64(line_t *l, int64_t v) {
  if (v < 0) { put_str(l, "-"); put_u64(l, (u64)0 - (u64)v); } else put_u64(l, (u64)v);
}
static inline void put_hex(line_t *l, u64 v) {
  for (int i = 60; i >= 0; i -= 4) if (l->len < sizeof l->buf) l->buf[l->len++] = "0123456789abcdef"[(v >> i) & 15];
}
static void line_end(line_t *l) {
  if (l->len < sizeof l->buf) l->buf[l->len++] = '\n';
  ciovec iov = { l->buf, l->len };
  u32 written;
  wasi_fd_write(1, &iov, 1, &written);
  l->len = 0;
}

/* ---- threads ---- */
typedef struct thread {
  void *stack_top;             /* read by wasi_thread_start before anything uses the stack */
  void (*fn)(void *);
  void *arg;
  volatile int32_t done;       /* 1 when fn returned; join waits on it */
  int32_t tid;
} thread_t;

/* Runs on the new thread's own stack (its instance's __stack_pointer was set from arg). */
__attribute__((noinline)) static void thread_body(thread_t *t) {
  t->fn(t->arg);
  store(&t->done, 1);
  futex_wake(&t->done, 1);
}

/* wasi-threads' entry point. It has no stack frame: it sets this instance's stack pointer
 * (a new instance starts with the main thread's) before calling anything. */
__attribute__((export_name("wasi_thread_start")))
void wasi_thread_start(int32_t tid, thread_t *t) {
  __asm__ volatile(".globaltype __stack_pointer, i32\n\tlocal.get %0\n\tglobal.set __stack_pointer" :: "r"(t->stack_top));
  thread_body(t);
}

/* Starts fn(arg) on a new thread with the given stack; returns the tid (> 0) or a negative error. */
static inline int32_t thread_create(thread_t *t, void *stack, u32 stack_size, void (*fn)(void *), void *arg) {
  t->stack_top = (char *)stack + (stack_size & ~15u);
  t->fn = fn;
  t->arg = arg;
  t->done = 0;
  t->tid = wasi_thread_spawn(t);
  return t->tid;
}

static inline void thread_join(thread_t *t) {
  while (load(&t->done) == 0) futex_wait(&t->done, 0);
}

/* Starts fn((void *)i) for i = 0 .. n-1 on threads ts[i], each on its stack_size bytes of
 * stacks; 0, or -1 (said on stdout) when a spawn failed. */
static inline int threads_start(thread_t *ts, char *stacks, u32 stack_size, u32 n, void (*fn)(void *)) {
  for (u32 i = 0; i < n; i++) {
    if (thread_create(&ts[i], stacks + i * stack_size, stack_size, fn, (void *)(uintptr_t)i) <= 0) {
      line_t l = {0};
      put_str(&l, "thread-spawn failed");
      line_end(&l);
      return -1;
    }
  }
  return 0;
}

static inline void threads_join(thread_t *ts, u32 n) {
  for (u32 i = 0; i < n; i++) thread_join(&ts[i]);
}

/* ---- mutex (Drepper, "Futexes are tricky": 0 free, 1 locked, 2 locked with waiters) ---- */
typedef struct { volatile int32_t state; } mutex_t;
static inline void mutex_lock(mutex_t *m) {
  int32_t c = 0;
  if (__atomic_compare_exchange_n(&m->state, &c, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return;
  if (c != 2) c = exchange(&m->state, 2);
  while (c != 0) {
    futex_wait(&m->state, 2);
    c = exchange(&m->state, 2);
  }
}
static inline void mutex_unlock(mutex_t *m) {
  if (fetch_add(&m->state, -1) != 1) {
    store(&m->state, 0);
    futex_wake(&m->state, 1);
  }
}

/* ---- spinlock (no wait: busy threads only) ---- */
typedef struct { volatile int32_t held; } spinlock_t;
static inline void spin_lock(spinlock_t *s) { while (exchange(&s->held, 1)) while (load(&s->held)) {} }
static inline void spin_unlock(spinlock_t *s) { store(&s->held, 0); }

/* ---- condition variable (a sequence number to wait on) ---- */
typedef struct { volatile int32_t seq; } cond_t;
static inline void cond_wait(cond_t *c, mutex_t *m) {
  int32_t seq = load(&c->seq);
  mutex_unlock(m);
  futex_wait(&c->seq, seq);
  mutex_lock(m);
}
static inline void cond_broadcast(cond_t *c) {
  fetch_add(&c->seq, 1);
  futex_wake(&c->seq, 0xffffffffu);
}
static inline void cond_signal(cond_t *c) {
  fetch_add(&c->seq, 1);
  futex_wake(&c->seq, 1);
}

/* ---- arguments and the entry point ---- */
static inline u64 parse_u64(const char *s) { u64 v = 0; while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0'); return v; }

int main(int argc, char **argv);

static char arg_buf[1024];
static char *arg_ptrs[16];

__attribute__((export_name("_start")))
void _start(void) {
  u32 argc = 0, size = 0;
  int32_t code;
  if (wasi_args_sizes_get(&argc, &size) != 0 || argc > 16 || size > sizeof arg_buf) code = 2;
  else {
    wasi_args_get(arg_ptrs, arg_buf);
    code = main((int)argc, arg_ptrs);
  }
  wasi_proc_exit(code);
}
