#!/bin/sh
# Rebuilds the SIMD test program with Debian's clang and wasi-libc sysroot
# (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32): simd.wasm auto-vectorised
# with -msimd128, scalar.wasm the same source without. No libc is linked in (no imports).
set -eu
cd "$(dirname "$0")"
for variant in simd scalar; do
  flags=""
  [ "$variant" = simd ] && flags="-msimd128"
  clang --target=wasm32-wasi --sysroot=/usr -O3 $flags -nostartfiles -nostdlib \
    -Wl,--no-entry -Wl,--export=run -o "$variant.wasm" simd.c
  echo "built $variant.wasm ($(wc -c < "$variant.wasm") bytes)"
done
