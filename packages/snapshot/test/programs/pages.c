// Test program for the snapshot package (no imports): writes across many 64 KiB pages,
// grows memory, clears pages back to zero and recurses, so that full and incremental
// snapshots taken at any instruction see every kind of page change.
#define PAGE 65536
#define NPAGES 24

// Freestanding: the compiler turns the clearing loop into a memset call, so provide one.
void *memset(void *d, int c, unsigned long n) {
  volatile unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}

static unsigned char area[NPAGES * PAGE];

static unsigned mix(unsigned h, unsigned v) { return (h ^ v) * 16777619u; }

__attribute__((noinline)) static unsigned walk(int depth, unsigned h) {
  if (depth == 0) return h;
  area[(depth * 7919) % (NPAGES * PAGE)] ^= (unsigned char)h;
  return walk(depth - 1, mix(h, depth)) + 1;
}

__attribute__((export_name("run"))) unsigned run(int rounds) {
  unsigned h = 2166136261u;
  for (int r = 0; r < rounds; r++) {
    int page = (r * 5) % NPAGES;
    for (int i = 0; i < PAGE; i += 4093) area[page * PAGE + i] = (unsigned char)(h >> (i & 15));
    if (r % 3 == 2) { // clear a page that held data: an incremental snapshot must record it as zeroed
      int z = ((r - 2) * 5) % NPAGES;
      for (int i = 0; i < PAGE; i++) area[z * PAGE + i] = 0;
    }
    if (r == rounds / 2) { // grow by two pages and write into the new one
      int old = __builtin_wasm_memory_grow(0, 2);
      if (old > 0) ((unsigned char *)0)[old * PAGE + PAGE + 17] = 42;
    }
    h = walk(40 + r % 17, h);
    for (int i = 0; i < NPAGES * PAGE; i += 8191) h = mix(h, area[i]);
  }
  return h;
}
