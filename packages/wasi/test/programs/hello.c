// Printing, argv and environment, exit code: prints its arguments and selected env vars.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  printf("hello from wasi\n");
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  const char *names[] = {"GREETING", "EMPTY", "MISSING"};
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    printf("%s=%s\n", names[i], v ? v : "(unset)");
  }
  fprintf(stderr, "this goes to stderr\n");
  int code = argc > 1 ? atoi(argv[argc - 1]) : 0;
  return code;
}
