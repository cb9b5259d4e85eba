#!/usr/bin/env bash
# Load benchmark of `expedite serve` on SQLite (issue 5): case reads and durable transitions
# at 64 concurrent connections, measured with wrk. Not a test: it prints what it measured.
#
#   bench/load.sh                 # 20 s per run, 64 connections, 2 wrk threads
#   DURATION=60s bench/load.sh
#   EXPEDITE_BIN=path/to/expedite bench/load.sh   # use a binary already built
#
# Needs wrk (apt-get install -y wrk), curl, and cargo. Everything runs on 127.0.0.1 and
# stops by itself; the database lives in a temporary folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18181}
# Cases written to: each transition delivers one unit to the next case in turn, naming the
# version that case will be at, so every request is a valid write as long as no case has
# two writes in flight (with 1024 cases and 64 connections it would take a request to
# wait out ~960 others). Any 409 is still counted and printed by wrk as non-2xx.
CASES=${CASES:-1024}

for tool in wrk curl cargo; do
    command -v "$tool" >/dev/null || { echo "load.sh needs $tool (wrk: apt-get install -y wrk)" >&2; exit 2; }
done

if [ -n "${EXPEDITE_BIN:-}" ]; then
    BIN=$EXPEDITE_BIN
else
    echo "==> building expedite (release)"
    cargo build --release -q -p expedite
    BIN="${CARGO_TARGET_DIR:-target}/release/expedite"
fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

DB="sqlite://$WORK/bench.db"
TOKEN=$("$BIN" token create --db "$DB" --role admin --name bench --format json \
    | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "could not create a token" >&2; exit 1; }

echo "==> starting expedite serve on 127.0.0.1:$PORT ($DB)"
RUST_LOG=warn "$BIN" serve --db "$DB" --addr "127.0.0.1:$PORT" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 50); do
    grep -q '^listening on' "$WORK/server.out" 2>/dev/null && break
    sleep 0.1
done
grep -q '^listening on' "$WORK/server.out" || { cat "$WORK/server.err" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"

# Case ids EE-D-000, EE-D-001, ... (base 36), the same as bench/transitions.lua computes.
DIGITS=({0..9} {A..Z})
case_id() { local i=$1; echo "EE-D-${DIGITS[i/1296%36]}${DIGITS[i/36%36]}${DIGITS[i%36]}"; }

echo "==> seeding $CASES direct commercial sales on contract, 100,000 units each (the most a line may hold)"
# One curl run per step, each transfer a group of its own (`next` resets every option).
transfer() { # URL BODY
    [ "$1" = first ] || printf 'next\n'
    printf 'url = "%s"\ndata = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$2" "$3"
    printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$TOKEN"
}
for i in $(seq 0 $((CASES - 1))); do
    id=$(case_id "$i")
    first=$([ "$i" = 0 ] && echo first || echo more)
    transfer "$first" "$URL/api/v1/cases" \
        "{\\\"id\\\":\\\"$id\\\",\\\"purchaser\\\":\\\"EST\\\",\\\"agency\\\":\\\"air_force\\\",\\\"channel\\\":\\\"dcs\\\",\\\"lor_received\\\":\\\"2025-01-01\\\",\\\"lines\\\":[{\\\"item\\\":\\\"GMLRS rocket\\\",\\\"quantity\\\":100000,\\\"unit_usd\\\":100}]}" >>"$WORK/open.curl"
    transfer "$first" "$URL/api/v1/cases/$id/events" \
        "{\\\"version\\\":1,\\\"date\\\":\\\"2025-02-01\\\",\\\"kind\\\":\\\"advance\\\",\\\"to\\\":\\\"on_contract\\\"}" >>"$WORK/contract.curl"
done
for step in open contract; do
    curl -sS --parallel --parallel-max 16 -K "$WORK/$step.curl" >"$WORK/$step.codes"
    bad=$(grep -cv '^201$' "$WORK/$step.codes" || true)
    [ "$bad" = "0" ] || { echo "seeding '$step': $bad request(s) not 201" >&2; sort "$WORK/$step.codes" | uniq -c >&2; exit 1; }
done

echo
echo "==> case reads: GET /api/v1/cases/{id}, $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/reads.lua "$URL" -- "$TOKEN" "$CASES"

echo
echo "==> durable transitions: POST /api/v1/cases/{id}/events (deliver 1 unit), $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/transitions.lua "$URL" -- "$TOKEN" "$CASES" "$THREADS"

echo
echo "==> after the run: every case's chain verifies?"
broken=0
for i in $(seq 0 63); do
    valid=$(curl -sS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/cases/$(case_id "$i")/verify" | grep -o '"valid":[a-z]*')
    [ "$valid" = '"valid":true' ] || broken=$((broken + 1))
done
echo "checked the first 64 cases: $broken broken"
