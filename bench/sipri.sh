#!/usr/bin/env bash
# Benchmark: parse the full SIPRI trade register and compute lead times by supplier, as a
# whole process (start, read, parse, compute, print JSON), next to the same computation in
# pandas (bench/pandas/leadtimes.py). Checks first that both give the same numbers.
#
# Needs: hyperfine (apt-get install hyperfine), python3 with pandas (pip install pandas),
# and the register: $EXPEDITE_SIPRI, or the shared copy beside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

register="${EXPEDITE_SIPRI:-../shared/data/sipri/trade-register.csv}"
target_dir="${CARGO_TARGET_DIR:-target}"
runs="${RUNS:-30}"

cargo build --release --quiet -p expedite
expedite="${target_dir}/release/expedite"
rust_command="${expedite} sipri leadtimes --file ${register} --by supplier --format json"
pandas_command="python3 bench/pandas/leadtimes.py ${register}"

echo "== same results?"
diff <(${rust_command} | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))') \
     <(${pandas_command} | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True, indent=1))') \
    && echo "identical JSON from expedite and pandas"

echo "== machine: $(nproc) cores, $(uname -sr); $(python3 -c 'import pandas; print("pandas", pandas.__version__)')"
hyperfine --warmup 3 --runs "${runs}" --export-markdown /dev/stdout \
    --command-name "expedite (Rust)" "${rust_command}" \
    --command-name "pandas" "${pandas_command}"
