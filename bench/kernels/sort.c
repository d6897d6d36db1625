/* Sorting: quicksort (median-of-three, insertion sort for small ranges)
   and heapsort on the same pseudo-random i32 array of n elements. */
#define MAX_N (1 << 20)
static int a[MAX_N], b[MAX_N];

static void insertion(int *v, int lo, int hi) {
  for (int i = lo + 1; i <= hi; i++) {
    int x = v[i], j = i - 1;
    while (j >= lo && v[j] > x) { v[j + 1] = v[j]; j--; }
    v[j + 1] = x;
  }
}

static void quicksort(int *v, int lo, int hi) {
  while (hi - lo > 16) {
    int mid = lo + (hi - lo) / 2;
    int x = v[lo], y = v[mid], z = v[hi];
    int pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) { int t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; }
    else { quicksort(v, i, hi); hi = j; }
  }
  insertion(v, lo, hi);
}

static void sift(int *v, int start, int end) {
  int root = start;
  while (2 * root + 1 <= end) {
    int child = 2 * root + 1;
    if (child + 1 <= end && v[child] < v[child + 1]) child++;
    if (v[root] < v[child]) { int t = v[root]; v[root] = v[child]; v[child] = t; root = child; }
    else return;
  }
}

static void heapsort(int *v, int count) {
  for (int start = (count - 2) / 2; start >= 0; start--) sift(v, start, count - 1);
  for (int end = count - 1; end > 0; end--) {
    int t = v[end]; v[end] = v[0]; v[0] = t;
    sift(v, 0, end - 1);
  }
}

__attribute__((export_name("run"))) int run(int n) {
  if (n > MAX_N) n = MAX_N;
  if (n < 0) n = 0;
  unsigned int seed = 0xC0FFEEu;
  for (int i = 0; i < n; i++) {
    seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
    a[i] = (int)seed;
    b[i] = (int)seed;
  }
  if (n > 0) { quicksort(a, 0, n - 1); heapsort(b, n); }
  unsigned int h = 0;
  for (int i = 0; i < n; i++) {
    if (a[i] != b[i] || (i > 0 && a[i - 1] > a[i])) return -1; /* sort bug */
    h = h * 31u + (unsigned)a[i] + (unsigned)i;
  }
  return (int)h;
}
