#!/usr/bin/env bash
# The full-sync benchmark with the sandbox Intercom in its own process, so that the
# benchmark's peak memory is the sync engine's alone. Extra arguments go to the bench,
# e.g. `scripts/bench-memory.sh --backend sqlite --latency-ms 200`.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPANIES=${COMPANIES:-10000}
CONTACTS=${CONTACTS:-100000}
TICKETS=${TICKETS:-10000}
PORT=${PORT:-4019}
LATENCY_MS=0
args=("$@")
for i in "${!args[@]}"; do
  if [[ "${args[$i]}" == "--latency-ms" ]]; then LATENCY_MS="${args[$((i + 1))]}"; fi
done

cargo build --release -p server --bin server
cargo bench -p skalin-tests --bench sync_full --no-run

${CARGO_TARGET_DIR:-target}/release/server sandbox --port "$PORT" --companies "$COMPANIES" --contacts "$CONTACTS" \
  --tickets "$TICKETS" --latency-ms "$LATENCY_MS" > /tmp/bench-sandbox.log 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if grep -q "Sandbox Intercom at" /tmp/bench-sandbox.log; then break; fi
  sleep 0.2
done
cargo bench -p skalin-tests --bench sync_full -- --sandbox-url "http://127.0.0.1:$PORT" "$@"
