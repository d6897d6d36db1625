// What a program sees of its launch: arguments, environment, and whether each stdio fd is a
// terminal (wasi-libc's isatty: a character device without seek/tell rights). All of it on
// stderr, so that stdout can be redirected anywhere by the test.
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) fprintf(stderr, "arg %s\n", argv[i]);
  for (char **e = environ; *e; e++) fprintf(stderr, "env %s\n", *e);
  fprintf(stderr, "isatty 0=%d 1=%d 2=%d\n", isatty(0), isatty(1), isatty(2));
  printf("stdout line\n");
  return 0;
}
