#!/bin/sh
# Rebuilds the threaded test programs for wasm32-wasi-threads with Debian's clang and lld
# (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32). No libc is linked in: Debian's
# wasi-libc has no pthreads and is not built with atomics; wasi_threads.h is the small
# runtime they use instead (_start, output, thread-spawn, join, futex mutex/condition).
# Each module imports a shared memory (env.memory, at most 64 pages = 4 MiB), imports
# wasi.thread-spawn and exports wasi_thread_start, as wasi-threads asks.
set -eu
cd "$(dirname "$0")"
for p in parallel_sum mutex_counter prod_cons; do
  clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -matomics -mbulk-memory -nostdlib \
    -Wl,--import-memory,--shared-memory,--max-memory=4194304 -Wl,-z,stack-size=65536 \
    -Wl,--strip-debug -o "$p.wasm" "$p.c"
  echo "built $p.wasm ($(wc -c < "$p.wasm") bytes)"
done
