#!/usr/bin/env bash
# Compares `updraft offline` with serverless-offline 13.10.1 on serverless 3 (both from npm) on
# the same trivial Node.js and Python handlers: time from start to `Server ready`, warm latency
# (p50/p99 of sequential requests), throughput with `wrk -t2 -c16 -d15s`, and the peak memory of
# the emulator together with its function processes.
#
# Needs: node and npm, python3, wrk (Debian: `apt-get install wrk`), and a release build of
# updraft (built when missing). The npm packages are installed once into BENCH_DIR.
#
# Environment: UPDRAFT_BIN (default: target/release/updraft), BENCH_DIR (default:
# ${TMPDIR:-/tmp}/updraft-bench-offline), DURATION (wrk seconds, default 15), WRK_RUNS (wrk runs
# per handler, the median reported; default 3), READY_RUNS
# (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
UPDRAFT_BIN=${UPDRAFT_BIN:-${CARGO_TARGET_DIR:-target}/release/updraft}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/updraft-bench-offline}
for tool in node npm python3 wrk; do
    if ! command -v "$tool" > /dev/null; then
        echo "bench/offline.sh: \`$tool\` is not installed" >&2
        exit 1
    fi
done
if [ ! -x "$UPDRAFT_BIN" ]; then
    cargo build --release
fi
mkdir -p "$BENCH_DIR"
if [ ! -x "$BENCH_DIR/node_modules/.bin/serverless" ]; then
    npm install --prefix "$BENCH_DIR" --no-audit --no-fund --silent \
        serverless@3 serverless-offline@13.10.1
fi
python3 bench/offline.py "$UPDRAFT_BIN" "$BENCH_DIR"
