#!/usr/bin/env bash
# Time and peak memory of `updraft print --format json` on every broken or hostile manifest in the
# reference data, beside the Framework's recorded numbers (from each case.json). Prints a Markdown
# table for docs/performance.md.
#
# Usage: bench/bad_manifests.sh [SHARED_DIR]   (default: $UPDRAFT_SHARED_DIR or ../shared)
# Uses $UPDRAFT_BIN, or target/release/updraft (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${1:-${UPDRAFT_SHARED_DIR:-../shared}}"
cases="$shared/bad-manifests"
[ -d "$cases" ] || { echo "no reference data at $cases (pass SHARED_DIR or set UPDRAFT_SHARED_DIR)" >&2; exit 1; }
bin="${UPDRAFT_BIN:-target/release/updraft}"
if [ ! -x "$bin" ]; then cargo build --release --quiet; fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "| case | expected | updraft exit | updraft ms | updraft max RSS MB | Framework exit | Framework s | Framework MB |"
echo "|---|---|---|---|---|---|---|---|"
worst_ms=0; worst_mb=0
for dir in "$cases"/*/; do
  name="$(basename "$dir")"
  work="$scratch/$name"
  cp -r "$dir" "$work"; chmod -R u+w "$work"
  if [ -f "$work/gen.sh" ]; then (cd "$work" && sh gen.sh >/dev/null 2>&1); fi
  field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ''))" "$work/case.json" "$1"; }
  # Best of three runs for time; memory is the largest seen.
  best=""; rss=0; code=0
  for _ in 1 2 3; do
    start=$(date +%s%N)
    set +e
    (cd "$work" && NO_COLOR=1 /usr/bin/time -f '%M' -o "$scratch/rss" "$bin" print --format json >/dev/null 2>"$scratch/err")
    code=$?
    set -e
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    kb=$(tail -n 1 "$scratch/rss")
    if [ "$kb" -gt "$rss" ]; then rss=$kb; fi
  done
  mb=$(( (rss + 1023) / 1024 ))
  if [ "$best" -gt "$worst_ms" ]; then worst_ms=$best; fi
  if [ "$mb" -gt "$worst_mb" ]; then worst_mb=$mb; fi
  echo "| \`$name\` | $(field updraft_expect) | $code | $best | $mb | $(field sls_exit_code) | $(field sls_seconds) | $(field sls_max_rss_mb) |"
done
echo
echo "Slowest case: ${worst_ms} ms; largest peak memory: ${worst_mb} MB."
