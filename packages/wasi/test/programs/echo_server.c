// A TCP echo server on a preopened listening socket (fd 3): serves N connections (argv[1]),
// echoing what each sends until the peer closes, and logs byte counts.
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int conns = argc > 1 ? atoi(argv[1]) : 1;
  for (int i = 0; i < conns; i++) {
    int c = accept(3, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    char buf[1024];
    long total = 0;
    ssize_t n;
    while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
      send(c, buf, n, 0);
      total += n;
    }
    shutdown(c, SHUT_WR);
    close(c);
    printf("connection %d: echoed %ld bytes\n", i, total);
    fflush(stdout);
  }
  return 0;
}
