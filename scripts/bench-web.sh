#!/usr/bin/env bash
# The web app as an admin meets it, on the release build: a server filled by `server sync`
# from `server sandbox` (300 companies, 1,000 contacts, 100 tickets), then
#  1. page timings: cold loads of the Intercom settings page and the Sync runs page in
#     headless Chromium (scripts/page-timings.py: first byte, DOMContentLoaded, hydrated);
#  2. wrk, 32 connections for 20 s: the settings page rendered on the server and the
#     list_customers server function, signed in, accepting brotli and gzip as browsers
#     do, then accepting neither (no compression, as every answer was sent before).
#
#   scripts/bench-web.sh [SERVER_BINARY] [SITE_ROOT]
#
# Defaults: target/release/server and target/site (`make release` builds both). Give
# another binary and its site (say, built from an older commit) to compare. LOADS,
# DURATION, CONNECTIONS and THREADS override 10, 20 s, 32 and 2; PAGES=0 skips step 1,
# WRK=0 step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
server=$(realpath "${1:-target/release/server}")
site=$(realpath "${2:-target/site}")
duration=${DURATION:-20s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}

[ -x "$server" ] || { echo "no server binary at $server: run 'make release' first" >&2; exit 1; }
# Server functions' paths end with a hash of where the crate was built: the binary knows it.
list_path=$(grep -ao '/api/list_customers[0-9]*' "$server" | head -1 || true)
[ -n "$list_path" ] || { echo "no list_customers route found in $server" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  echo "==> installing wrk from the OS packages" >&2
  apt_get() { if [ "$(id -u)" = 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi; }
  apt_get update -qq && DEBIAN_FRONTEND=noninteractive apt_get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Any HTTP answer will do (the sandbox answers 401 without a token).
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "$1 never answered" >&2; exit 1; }

export SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export DATABASE_URL="sqlite://$work/skalin.db"
export RUST_LOG=warn
intercom_port=$(free_port)
app_port=$(free_port)
export INTERCOM_BASE_URL="http://127.0.0.1:$intercom_port"

"$server" sandbox --port "$intercom_port" --companies 300 --contacts 1000 --tickets 100 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "$INTERCOM_BASE_URL/me"
workspace=bench
"$server" workspace add --name Bench --slug "$workspace" >/dev/null
"$server" connect --workspace "$workspace" --access-token sandbox-token --zone us >/dev/null
"$server" sync --workspace "$workspace" >/dev/null
"$server" user add --workspace "$workspace" --email bench@example.com --role admin \
  --password bench-password-1 >/dev/null
"$server" serve --addr "127.0.0.1:$app_port" --site-root "$site" --sync-worker false >"$work/serve.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$app_port"
wait_for "$base/healthz"

cookie=$(curl -s -o /dev/null -D - -X POST "$base/auth/signin" \
  --data-urlencode email=bench@example.com --data-urlencode password=bench-password-1 --data-urlencode next=/ |
  grep -i '^set-cookie: skalin_session=' | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/')
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }

if [ "${PAGES:-1}" != 0 ]; then
  echo "== page timings ($site)"
  scripts/page-timings.py "$base" "$cookie" /integrations/intercom /integrations/intercom/sync --loads "${LOADS:-10}"
fi

[ "${WRK:-1}" = 0 ] && exit 0

cat >"$work/list.lua" <<'EOF'
wrk.method = "POST"
wrk.body = "page=1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
EOF

run() {
  local what=$1 path=$2; shift 2
  local bytes
  bytes=$(curl -s -H "Cookie: $cookie" -H "Accept-Encoding: $encoding" "$@" "$base$path" | wc -c)
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Cookie: $cookie" \
    -H "Accept-Encoding: $encoding" "${wrk_args[@]}" "$base$path")
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local errors
  errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  printf '%-34s %9s req/s   p99 %8s   %7d bytes/answer%s\n' "$what" "$rps" "$p99" "$bytes" "${errors:+   ($errors)}"
}

echo "== wrk: $server, $connections connections, $threads wrk threads, $duration each"
for encoding in "br, gzip" "identity"; do
  echo "-- Accept-Encoding: $encoding"
  wrk_args=()
  run "settings page (SSR)" /integrations/intercom
  wrk_args=(-s "$work/list.lua")
  run "list_customers (server function)" "$list_path" -X POST -H 'Content-Type: application/x-www-form-urlencoded' -H 'Accept: application/json' --data page=1
done
