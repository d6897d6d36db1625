#!/bin/sh
# Rebuild the start-up and memory-growth bench programs (bench/startup/*.c -> *.wasm) with
# Debian's clang and wasi-libc:  apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
# The built .wasm files are committed. (large-module.ts generates the big module at bench time.)
set -eu
cd "$(dirname "$0")"
CLANG="${CLANG:-clang}"
for src in *.c; do
  out="${src%.c}.wasm"
  "$CLANG" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wl,--strip-all -o "$out" "$src"
  echo "built $out ($(wc -c < "$out") bytes)"
done
