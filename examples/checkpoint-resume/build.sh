#!/bin/sh
# Rebuilds primes.wasm from primes.c with Debian's clang (freestanding wasm32, no imports).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -fno-builtin -Wl,--no-entry -Wl,--export=run -o primes.wasm primes.c
echo "built primes.wasm ($(wc -c < primes.wasm) bytes)"
