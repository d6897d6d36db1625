#!/bin/sh
# Rebuilds the test programs with Debian's clang: freestanding wasm32 with the post-MVP
# features enabled (memcpy/memset come from clang's builtins as bulk-memory instructions).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib -mbulk-memory -mnontrapping-fptoint -msign-ext -mmutable-globals \
  -Wl,--no-entry -Wl,--export=run -o features.wasm features.c
echo "built features.wasm ($(wc -c < features.wasm) bytes)"
