#!/bin/sh
# Rebuilds journal.wasm from journal.c with Debian's clang and wasi-libc.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o journal.wasm journal.c
echo "built journal.wasm ($(wc -c < journal.wasm) bytes)"
