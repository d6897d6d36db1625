#!/bin/sh
# Builds every test program with Debian's clang and wasi-libc:
#   apt-get install clang lld wasi-libc libclang-rt-dev-wasm32
set -eu
cd "$(dirname "$0")"
for src in *.c; do
  clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wno-unused-result "$src" -o "${src%.c}.wasm"
done
ls -l *.wasm
