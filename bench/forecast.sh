#!/usr/bin/env bash
# Benchmarks of `expedite forecast` (issue 3, "Performance"): on the generated portfolio of
# 2,000 cases over 30 lines, the median time of one trial in Rust (criterion) and in the
# same model written in SimPy, their ratio, and the wall time and peak memory of a full
# 10,000-trial run of the command (the base and the scenario's `expedite` policy).
#
#   bash bench/forecast.sh                      # SIMPY_TRIALS=5 TRIALS=10000 by default
#
# Targets on the 2-core machine: < 5 ms per trial, >= 1000x SimPy, 10,000 trials < 30 s,
# peak memory < 512 MB. Timings depend on what else the machine is doing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
SIMPY_TRIALS="${SIMPY_TRIALS:-5}"
TRIALS="${TRIALS:-10000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing SimPy"
python3 -m pip install --quiet --disable-pip-version-check simpy >&2

step "building"
cargo build --release -q -p expedite
cargo run --release -q -p expedite-forecast --example generate_portfolio -- \
    --cases 2000 --lines 30 --seed 1 >"$work/big.toml"
printf 'portfolio: %s bytes, %s cases\n' "$(wc -c <"$work/big.toml")" \
    "$(grep -c '^\[\[cases\]\]' "$work/big.toml")" >&2

step "Rust: one trial (criterion)"
cargo bench -q -p expedite-forecast --bench forecast -- --measurement-time 10 >&2
rust_ns=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["median"]["point_estimate"])' \
    "$CARGO_TARGET_DIR/criterion/one_trial_2000_cases_30_lines/new/estimates.json")

step "SimPy: $SIMPY_TRIALS trials"
python3 bench/simpy/forecast_simpy.py "$work/big.toml" --trials "$SIMPY_TRIALS" >"$work/simpy.json"
simpy_s=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["median_seconds_per_trial"])' "$work/simpy.json")

step "expedite forecast: $TRIALS trials, base and policy"
/usr/bin/time -v "$CARGO_TARGET_DIR/release/expedite" forecast "$work/big.toml" \
    --trials "$TRIALS" --format json --quiet >"$work/report.json" 2>"$work/time.txt"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
peak_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
user_s=$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")
load=$(cut -d' ' -f1-3 /proc/loadavg)
runs=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["runs"]))' "$work/report.json")

python3 - "$rust_ns" "$simpy_s" "$wall" "$peak_kb" "$TRIALS" "$runs" "$user_s" "$load" <<'PY'
import sys
rust_ns, simpy_s, wall, peak_kb, trials, runs, user_s, load = sys.argv[1:]
rust_s = float(rust_ns) / 1e9
parts = [float(p) for p in wall.split(":")]
wall_s = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(f"rust   median seconds per trial: {rust_s:.6f}  ({rust_s * 1e3:.2f} ms)")
print(f"simpy  median seconds per trial: {float(simpy_s):.3f}")
print(f"ratio  simpy / rust:             {float(simpy_s) / rust_s:.0f}x")
print(f"{trials} trials x {runs} runs (base + policies): wall {wall_s:.1f} s, "
      f"({float(user_s):.1f} s of CPU), peak memory {int(peak_kb) / 1024:.0f} MB")
print(f"load average when done (1, 5, 15 min): {load}")
PY
