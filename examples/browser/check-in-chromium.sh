#!/bin/sh
# Builds the example, serves it on localhost and loads it in headless Chromium (Debian's
# chromium package), printing what the page shows. Not part of npm test: it needs Chromium.
set -eu
cd "$(dirname "$0")/../.."
npx tsx examples/browser/build.ts
cd examples/browser/out
python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$(mktemp -d)" --virtual-time-budget=20000 --dump-dom \
  http://127.0.0.1:8765/index.html 2>/dev/null | grep -o '<pre id="result">[^<]*</pre>'
