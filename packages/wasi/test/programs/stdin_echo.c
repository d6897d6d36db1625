// stdin: reads to end of input, echoes it upper-cased, then the byte and line counts.
#include <ctype.h>
#include <stdio.h>

int main(void) {
  int c, bytes = 0, lines = 0;
  while ((c = getchar()) != EOF) {
    bytes++;
    if (c == '\n') lines++;
    putchar(toupper(c));
  }
  printf("bytes=%d lines=%d\n", bytes, lines);
  return 0;
}
