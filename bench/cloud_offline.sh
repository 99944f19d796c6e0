#!/usr/bin/env bash
# How fast `updraft print` gives up on cloud variable sources that cannot be reached (the
# reference cases 93-98: ${ssm:}, ${cf:}, ${s3:}, ${aws:accountId} with no network). The
# Framework spends about 25 s in retries on each. Endpoints point at a closed loopback port, so
# nothing leaves the machine. Prints a Markdown table for docs/performance.md.
#
# Usage: bench/cloud_offline.sh [SHARED_DIR]   (default: $UPDRAFT_SHARED_DIR or ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${1:-${UPDRAFT_SHARED_DIR:-../shared}}"
[ -d "$shared/variables" ] || { echo "no reference data at $shared (pass SHARED_DIR or set UPDRAFT_SHARED_DIR)" >&2; exit 1; }
bin="${UPDRAFT_BIN:-target/release/updraft}"
if [ ! -x "$bin" ]; then cargo build --release --quiet; fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

echo "| case | updraft exit | updraft seconds |"
echo "|---|---|---|"
for dir in "$shared"/variables/9[3-8]-*/; do
  start=$(date +%s%N)
  set +e
  (cd "$dir" && env -i PATH="$PATH" HOME="$(mktemp -d)" AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y \
      AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=http://127.0.0.1:9 NO_COLOR=1 \
      "$bin" print --format json >/dev/null 2>&1)
  code=$?
  set -e
  end=$(date +%s%N)
  printf '| `%s` | %s | %d.%03d |\n' "$(basename "$dir")" "$code" $(( (end - start) / 1000000000 )) $(( (end - start) / 1000000 % 1000 ))
done
