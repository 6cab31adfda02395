#!/usr/bin/env bash
# Prints the size of the release WASM bundle: raw, gzipped (gzip -9) and as served (the
# .br and .gz files `cargo leptos build --release --precompress` made beside it), with
# the goals of issue 16 (300 KiB gzipped, 250 KiB brotli).
#
#   scripts/wasm-size.sh [SITE_ROOT]      (default target/site-release, then target/site)
set -euo pipefail
cd "$(dirname "$0")/.."
sites=("${1:-target/site-release}")
[ -n "${1:-}" ] || sites+=(target/site)
wasm=""
for site in "${sites[@]}"; do
  wasm=$(find "$site/pkg" -maxdepth 1 -name 'skalin*.wasm' 2>/dev/null | head -1)
  [ -n "$wasm" ] && break
done
[ -n "$wasm" ] || { echo "no WASM bundle in ${sites[*]}: run 'make release-site' first" >&2; exit 1; }

kib() { echo "scale=1; $1/1024" | bc; }
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "release WASM $wasm"
printf '  raw          %8d bytes  %7s KiB\n' "$raw" "$(kib "$raw")"
printf '  gzip -9      %8d bytes  %7s KiB   (goal 300 KiB)\n' "$gz" "$(kib "$gz")"
for ext in br gz; do
  if [ -f "$wasm.$ext" ]; then
    served=$(stat -c %s "$wasm.$ext")
    goal=""; [ "$ext" = br ] && goal="   (goal 250 KiB)"
    printf '  served .%s    %8d bytes  %7s KiB%s\n' "$ext" "$served" "$(kib "$served")" "$goal"
  fi
done
