#!/usr/bin/env bash
# Times `updraft deploy` (first, no-op, one-function change) and `updraft deploy function` for a
# 5- and a 50-function service against a local moto server, counting the AWS calls by kind.
# Needs the test venv (`bash scripts/test.sh` creates .venv with moto) and a release build.
#
# Environment: UPDRAFT_BIN (default: target/release/updraft, built when missing);
# LATENCY_MS adds that much to every AWS call, as a far-away region does (e.g. LATENCY_MS=50);
# FUNCTIONS picks the service sizes (default 5,50).
set -euo pipefail
cd "$(dirname "$0")/.."
UPDRAFT_BIN=${UPDRAFT_BIN:-${CARGO_TARGET_DIR:-target}/release/updraft}
if [ ! -x "$UPDRAFT_BIN" ]; then
    cargo build --release
fi
if [ ! -x .venv/bin/moto_server ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet -r scripts/requirements-test.txt
fi
python3 bench/deploy.py "$UPDRAFT_BIN" .venv/bin/moto_server
