#!/usr/bin/env bash
# Server time of the dashboard's portfolio page over 2,000 stored cases (issue 10: p99 under
# 100 ms). The page is rendered by the router in process, one request at a time, after a
# warm-up; the bench prints p50, p99 and the slowest. Not a test: it prints what it measured.
#
#   bench/dashboard.sh                    # 2,000 cases, 300 requests
#   CASES=5000 REQUESTS=500 bench/dashboard.sh
#
# Builds crates/web's bench target with the bench profile (optimised). The database lives in
# a temporary folder that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CASES=${CASES:-2000}
export REQUESTS=${REQUESTS:-300}
cargo bench -p expedite-web --bench dashboard
