#!/usr/bin/env bash
# Prints the size of the release WASM bundle, raw and gzipped (what a browser downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=target/site/pkg/skalin.wasm
[ -f "$wasm" ] || wasm=target/site/pkg/skalin_bg.wasm
[ -f "$wasm" ] || { echo "no WASM bundle in target/site/pkg: run 'make release' first" >&2; exit 1; }
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'release WASM %s: %d bytes raw (%.1f KiB), %d bytes gzipped (%.1f KiB)\n' \
  "$wasm" "$raw" "$(echo "$raw/1024" | bc -l)" "$gz" "$(echo "$gz/1024" | bc -l)"
