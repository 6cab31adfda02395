#!/usr/bin/env bash
# How fast `server sync` resumes a run whose process was killed with -9, the goal being
# "within 5 s of being started again". Starts `server sandbox` with enough contacts and
# latency for a long run, runs `server sync` into a fresh SQLite file, kills it with -9
# during the contacts walk (a kill during the company scroll is covered by the sync test
# `a_run_killed_during_the_company_scroll_closes_the_scroll_it_left_open…`), starts `server sync` again, and prints the seconds from that
# start to the first progress it writes (the run's done count rising in the database),
# then how long it took to the end. It also prints when the run was taken over.
#
# The debug binary (`cargo build -p server`): a release build takes ~20 min on 2 cores.
# Its start-up and its page writes are slower than a release build's, so the figure is an
# upper bound. Needs the sqlite3 command.
#
#   scripts/bench-resume.sh                          # 300 companies, 30,000 contacts, 200 ms
#   CONTACTS=60000 LATENCY_MS=300 scripts/bench-resume.sh
set -euo pipefail
cd "$(dirname "$0")/.."

COMPANIES=${COMPANIES:-300}
CONTACTS=${CONTACTS:-30000}
TICKETS=${TICKETS:-100}
LATENCY_MS=${LATENCY_MS:-200}
PORT=${PORT:-4029}
# Killed once this share of the contacts (in %) is in.
KILL_AT_PERCENT=${KILL_AT_PERCENT:-30}

command -v sqlite3 > /dev/null || { echo "this script reads the run's progress with sqlite3: install it" >&2; exit 1; }
cargo build -p server --bin server
server=${CARGO_TARGET_DIR:-target}/debug/server

work=$(mktemp -d)
db="$work/resume.db"
key=$(printf 'cd%.0s' $(seq 1 32))
intercom="http://127.0.0.1:$PORT"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$server" sandbox --port "$PORT" --companies "$COMPANIES" --contacts "$CONTACTS" --tickets "$TICKETS" \
  --latency-ms "$LATENCY_MS" > "$work/sandbox.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if grep -q "Sandbox Intercom at" "$work/sandbox.log"; then break; fi
  sleep 0.2
done
grep -q "Sandbox Intercom at" "$work/sandbox.log" || { cat "$work/sandbox.log" >&2; exit 1; }

# `exec`, so that the PID in $! is the server's own, the one kill -9 must hit.
skalin() { exec "$server" --database-url "sqlite://$db" "$@" --intercom-base-url "$intercom" --secret-key "$key"; }
now() { date +%s.%N; }
since() { awk -v end="$(now)" -v start="$1" 'BEGIN { printf "%.2f", end - start }'; }
query() { sqlite3 -cmd '.timeout 5000' "$db" "$1"; }
done_count() { query "select coalesce(sum(done), 0) from sync_run_objects where run_id = 1"; }

(skalin connect --access-token sandbox-token --zone us > /dev/null)

echo "sandbox: $COMPANIES companies, $CONTACTS contacts, $TICKETS tickets, ${LATENCY_MS} ms a call"
first_start=$(now)
(skalin sync > "$work/first.out" 2> "$work/first.err") &
first=$!
pids+=("$first")
while true; do
  contacts=$(query "select coalesce(max(done), 0) || ' ' || coalesce(max(expected), 0) from sync_run_objects \
                    where run_id = 1 and object = 'contacts'" 2> /dev/null || echo "0 0")
  read -r done expected <<< "$contacts"
  if [ "$expected" -gt 0 ] && [ $((done * 100)) -ge $((expected * KILL_AT_PERCENT)) ]; then break; fi
  if ! kill -0 "$first" 2> /dev/null; then
    echo "the first sync ended before it could be killed; give it more contacts or latency" >&2
    exit 1
  fi
  sleep 0.1
done
kill -9 "$first"
wait "$first" 2> /dev/null || true
before=$(done_count)
echo "killed the first sync (kill -9) after $(since "$first_start") s: $done of $expected contacts in, $before records done ($(query "select group_concat(object || ' ' || done, ', ') from sync_run_objects where run_id = 1"))"

second_start=$(now)
(skalin sync > "$work/second.out" 2> "$work/second.err") &
second=$!
pids+=("$second")
dead_worker=$(query "select claimed_by from sync_runs where id = 1")
[[ "$dead_worker" == *":$first:"* ]] || { echo "the run is held by $dead_worker, not the killed $first" >&2; exit 1; }
claimed=""
resumed=""
while kill -0 "$second" 2> /dev/null; do
  if [ -z "$claimed" ] && [ "$(query "select claimed_by from sync_runs where id = 1")" != "$dead_worker" ]; then
    claimed=$(since "$second_start")
    echo "taken over: the run claimed $claimed s after the second start (from $dead_worker)"
  fi
  if [ -z "$resumed" ] && [ "$(done_count)" -gt "$before" ]; then
    resumed=$(since "$second_start")
    echo "resumed: first new progress $resumed s after the second start ($(query "select group_concat(object || ' ' || done, ', ') from sync_run_objects where run_id = 1"))"
  fi
  sleep 0.05
done
status=0
wait "$second" || status=$?
[ -n "$resumed" ] || echo "resumed: no new progress seen before the second sync ended" >&2
echo "second sync ended after $(since "$second_start") s with exit status $status"
echo "total, first start to the end: $(since "$first_start") s"
grep "^Run #" "$work/second.out" || cat "$work/second.err" >&2
