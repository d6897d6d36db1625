/* Indirect calls (call_indirect): objects with a table of function pointers (C's virtual
   methods: a vtable per kind of shape, chosen at run time) and an insertion sort calling
   a comparator through a pointer (qsort's), n rounds over 256 shapes. */
#define N 256
#define K 64

typedef struct Shape Shape;
typedef struct {
  int (*area)(const Shape *);
  int (*scale)(Shape *, int);
} VTable;
struct Shape {
  const VTable *vt;
  int a, b;
};

static int rect_area(const Shape *s) { return s->a * s->b; }
static int tri_area(const Shape *s) { return (s->a * s->b) >> 1; }
static int square_area(const Shape *s) { return s->a * s->a; }
static int circle_area(const Shape *s) { return (s->a * s->a * 355) / 113; }
static int scale_both(Shape *s, int k) { s->a = (s->a * k + 7) & 1023; s->b = (s->b + k) & 1023; return s->a; }
static int scale_one(Shape *s, int k) { s->a = (s->a + k * 3) & 1023; return s->a ^ s->b; }

static const VTable vtables[4] = {
  {rect_area, scale_both}, {tri_area, scale_both}, {square_area, scale_one}, {circle_area, scale_one},
};
static Shape shapes[N];
static int keys[K];

static int ascending(int x, int y) { return x < y ? -1 : x > y; }
static int descending(int x, int y) { return y < x ? -1 : y > x; }
static int (*const comparators[2])(int, int) = {ascending, descending};

__attribute__((noinline)) static void sort(int *v, int n, int (*cmp)(int, int)) {
  for (int i = 1; i < n; i++) {
    int x = v[i], j = i - 1;
    while (j >= 0 && cmp(v[j], x) > 0) { v[j + 1] = v[j]; j--; }
    v[j + 1] = x;
  }
}

__attribute__((export_name("run"))) int run(int n) {
  unsigned int seed = 0xC0FFEEu;
  for (int i = 0; i < N; i++) {
    seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
    shapes[i].vt = &vtables[seed & 3];
    shapes[i].a = (int)((seed >> 4) & 1023);
    shapes[i].b = (int)((seed >> 14) & 1023);
  }
  unsigned int h = 0;
  for (int r = 0; r < n; r++) {
    for (int i = 0; i < N; i++) {
      Shape *s = &shapes[i];
      h = h * 31u + (unsigned)s->vt->area(s);
      h ^= (unsigned)s->vt->scale(s, (r + i) & 7);
    }
    for (int i = 0; i < K; i++) keys[i] = shapes[(i * 5 + r) & (N - 1)].vt->area(&shapes[(i * 5 + r) & (N - 1)]);
    sort(keys, K, comparators[r & 1]);
    for (int i = 0; i < K; i++) h = h * 33u + (unsigned)keys[i];
  }
  return (int)h;
}
