#!/bin/sh
# Rebuild the WASI bench program(s) (bench/wasi/*.c -> *.wasm) with Debian's clang and
# wasi-libc:  apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
# The built .wasm files are committed.
set -eu
cd "$(dirname "$0")"
CLANG="${CLANG:-clang}"
for src in *.c; do
  out="${src%.c}.wasm"
  "$CLANG" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wno-unused-result \
    -Wl,--strip-all -o "$out" "$src"
  echo "built $out ($(wc -c < "$out") bytes)"
done
