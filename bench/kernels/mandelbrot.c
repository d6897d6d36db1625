/* f64 math: Mandelbrot set over an n x n grid, max 64 iterations per point.
   Returns the total iteration count mixed with the inside-the-set count. */
#define MAX_ITER 64

__attribute__((export_name("run"))) int run(int n) {
  unsigned int total = 0, inside = 0;
  for (int py = 0; py < n; py++) {
    double ci = 2.0 * (double)py / (double)n - 1.0;
    for (int px = 0; px < n; px++) {
      double cr = 2.5 * (double)px / (double)n - 2.0;
      double zr = 0.0, zi = 0.0;
      int it = 0;
      while (it < MAX_ITER) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0) break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        it++;
      }
      total += (unsigned)it;
      if (it == MAX_ITER) inside++;
    }
  }
  return (int)(total * 2654435761u ^ inside);
}
