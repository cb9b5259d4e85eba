#!/usr/bin/env bash
# Time to compute the quarterly metrics over 6,480 stored cases (SQLite), read the way they
# were before (the cases page by page, one query per case for its events) and the way they
# are now (one list, one query over every event). The bench checks that both give the same
# report and prints the median of each. Not a test: it prints what it measured.
#
#   bench/metrics.sh                         # 6,480 cases, 5 runs each, optimised build
#   CASES=2000 RUNS=9 bench/metrics.sh
#   PROFILE=dev bench/metrics.sh             # a debug build, as `cargo run` gives
#
# The database lives in a temporary folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CASES=${CASES:-6480}
export RUNS=${RUNS:-5}
cargo bench -p expedite-store --bench metrics --profile "${PROFILE:-bench}"
