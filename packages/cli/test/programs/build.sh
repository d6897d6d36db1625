#!/bin/sh
# Rebuilds the CLI's end-to-end test programs with Debian's clang and wasi-libc.
set -eu
cd "$(dirname "$0")"
for p in files compute recurse nanbits probe; do
  clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o "$p.wasm" "$p.c"
  echo "built $p.wasm ($(wc -c < "$p.wasm") bytes)"
done
# SIMD: auto-vectorised with -O3 -msimd128
clang --target=wasm32-wasi --sysroot=/usr -O3 -msimd128 -Wl,--strip-debug -o simdsum.wasm simdsum.c
echo "built simdsum.wasm ($(wc -c < simdsum.wasm) bytes)"
