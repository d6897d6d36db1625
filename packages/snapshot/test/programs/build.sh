#!/bin/sh
# Rebuilds the snapshot package's test programs with Debian's clang (freestanding wasm32, no imports).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o pages.wasm pages.c
echo "built pages.wasm ($(wc -c < pages.wasm) bytes)"
