#!/usr/bin/env bash
# Writes again the .gz copies `cargo leptos build --precompress` made, with gzip -9: its
# own gzip is weak (the release WASM came out at 546 KiB against 463 KiB with gzip -9),
# and browsers without brotli get these files as they are.
#
#   scripts/regzip.sh SITE_ROOT
set -euo pipefail
site=${1:?usage: scripts/regzip.sh SITE_ROOT}
find "$site" -type f -name '*.gz' -print0 | while IFS= read -r -d '' copy; do
  original=${copy%.gz}
  [ -f "$original" ] && gzip -9 -n -c "$original" >"$copy"
done
