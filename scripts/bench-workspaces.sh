#!/usr/bin/env bash
# Many workspaces synced side by side: WORKSPACES workspaces, each connected to its own
# Intercom (one `server sandbox --workspaces` hub, COMPANIES / CONTACTS / TICKETS each),
# a full run of each queued at once, then worked by SERVERS server processes on
# PostgreSQL, and by one on SQLite. Prints the records/s of all of them together, the
# spread of the runs' finishing times (fairness: the first and the last to finish), and
# each process's peak memory.
#
#   scripts/bench-workspaces.sh [SERVER_BINARY]
#
# Defaults: 50 workspaces of 1,000 companies, 10,000 contacts, 1,000 tickets; 2 servers
# working 4 runs each; the release binary (built if missing). BACKENDS="postgres sqlite".
set -euo pipefail
cd "$(dirname "$0")/.."

WORKSPACES=${WORKSPACES:-50}
COMPANIES=${COMPANIES:-1000}
CONTACTS=${CONTACTS:-10000}
TICKETS=${TICKETS:-1000}
SERVERS=${SERVERS:-2}
CONCURRENCY=${CONCURRENCY:-4}
BACKENDS=${BACKENDS:-postgres sqlite}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
SERVER=${1:-target/release/server}
KEY=$(printf 'ab%.0s' $(seq 32))

if [[ ! -x $SERVER ]]; then
  echo "==> building $SERVER (cargo build --release -p server)"
  cargo build --release -p server
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> sandbox: $WORKSPACES Intercom workspaces of $COMPANIES companies, $CONTACTS contacts, $TICKETS tickets"
"$SERVER" sandbox --port 0 --workspaces "$WORKSPACES" --companies "$COMPANIES" --contacts "$CONTACTS" \
  --tickets "$TICKETS" --conversations 0 --rate-limit 100000 > "$WORK/sandbox.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 600); do
  grep -q "Sandbox Intercom at" "$WORK/sandbox.out" && break
  sleep 0.5
done
SANDBOX=$(grep -o 'http://[0-9.:]*' "$WORK/sandbox.out" | head -1)
[[ -n $SANDBOX ]] || { cat "$WORK/sandbox.out"; exit 1; }

token() { if [[ $1 == 1 ]]; then echo sandbox-token; else echo "sandbox-token-$1"; fi; }

# Runs SQL on the backend's database and prints the result, unaligned.
query() {
  if [[ $BACKEND == postgres ]]; then psql "$DB" -qtAX -c "$1"; else sqlite3 "$DB_FILE" "$1"; fi
}

bench() {
  BACKEND=$1
  local servers=$2
  if [[ $BACKEND == postgres ]]; then
    local name="skalin_bench_ws_$$"
    psql "$PG_ADMIN" -qc "drop database if exists $name" -c "create database $name" >/dev/null
    DB="${PG_ADMIN%/*}/$name"
  else
    command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
    DB_FILE="$WORK/bench.db"
    rm -f "$DB_FILE"*
    DB="sqlite://$DB_FILE"
  fi
  echo "==> $BACKEND: $WORKSPACES workspaces connected and a run of each queued"
  local common=(--intercom-base-url "$SANDBOX" --secret-key "$KEY")
  for n in $(seq "$WORKSPACES"); do
    RUST_LOG=warn "$SERVER" --database-url "$DB" workspace add --name "Bench $n" --slug "ws-$n" >/dev/null
    RUST_LOG=warn "$SERVER" --database-url "$DB" connect --workspace "ws-$n" --access-token "$(token "$n")" \
      --zone us "${common[@]}" >/dev/null
    RUST_LOG=warn "$SERVER" --database-url "$DB" sync --workspace "ws-$n" --queue "${common[@]}" >/dev/null
  done

  echo "==> $BACKEND: $servers server process(es), $CONCURRENCY runs each at once"
  local started servers_pids=()
  started=$(date +%s.%N)
  for s in $(seq "$servers"); do
    RUST_LOG=warn "$SERVER" --database-url "$DB" serve --addr 127.0.0.1:0 --sync-concurrency "$CONCURRENCY" \
      "${common[@]}" > "$WORK/server-$s.out" 2>&1 &
    servers_pids+=($!)
    PIDS+=($!)
  done
  while [[ $(query "select count(*) from sync_runs where status in ('queued', 'running')") != 0 ]]; do
    sleep 1
  done
  local ended
  ended=$(date +%s.%N)
  for pid in "${servers_pids[@]}"; do
    local peak
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    echo "    server $pid: peak memory $((peak / 1024)) MiB"
    kill "$pid"
  done
  local records statuses first_start
  records=$(query "select sum(done) from sync_run_objects")
  statuses=$(query "select status || ' ' || count(*) from sync_runs group by status")
  first_start=$(query "select min(started_at) from sync_runs")
  awk -v s="$started" -v e="$ended" -v r="$records" \
    'BEGIN { t = e - s; printf "    %d records in %.1f s: %.0f records/s\n", r, t, r / t }'
  echo "    runs: $(echo "$statuses" | tr '\n' ',' | sed 's/,$//')"
  local spread='{ t[NR] = $1 } END { printf "first %d, median %d, last %d\n", t[1], t[int((NR + 1) / 2)], t[NR] }'
  echo "    waited before starting (s): $(query "select started_at - $first_start from sync_runs order by 1" | awk "$spread")"
  echo "    finished after (s, from the first start): $(query "select finished_at - $first_start from sync_runs order by 1" | awk "$spread")"
  if [[ $BACKEND == postgres ]]; then
    psql "$PG_ADMIN" -qc "drop database if exists skalin_bench_ws_$$ with (force)" >/dev/null
  fi
}

for backend in $BACKENDS; do
  if [[ $backend == postgres ]]; then bench postgres "$SERVERS"; else bench sqlite 1; fi
done
