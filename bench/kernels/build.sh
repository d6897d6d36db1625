#!/bin/sh
# Rebuild every bench kernel (bench/kernels/*.c -> *.wasm).
# Freestanding wasm32: no libc, no imports, MVP feature set (clang 14 defaults),
# exporting only `run` (plus the module's own linear memory).
set -eu
cd "$(dirname "$0")"
CLANG="${CLANG:-clang}"
for src in *.c; do
  out="${src%.c}.wasm"
  "$CLANG" --target=wasm32 -O2 -nostdlib -fno-builtin \
    -Wl,--no-entry -Wl,--export=run -Wl,--strip-all \
    -o "$out" "$src"
  # Fail loudly if a kernel accidentally needs an import (e.g. memset/memcpy).
  if command -v wasm-objdump >/dev/null 2>&1; then
    if wasm-objdump -x -j Import "$out" 2>/dev/null | grep -q ' <- '; then
      echo "error: $out has imports:" >&2
      wasm-objdump -x -j Import "$out" >&2
      exit 1
    fi
  fi
  echo "built $out ($(wc -c < "$out") bytes)"
done
