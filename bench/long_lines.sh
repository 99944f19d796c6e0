#!/usr/bin/env bash
# Time and peak memory of `updraft print --format json` on manifests whose content is one long
# line (bench/long_lines.py): parsing must stay linear in the line's length. Prints a Markdown
# table for docs/performance.md.
#
# Usage: bench/long_lines.sh   (uses $UPDRAFT_BIN, or target/release/updraft, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${UPDRAFT_BIN:-target/release/updraft}"
if [ ! -x "$bin" ]; then cargo build --release --quiet; fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 bench/long_lines.py "$scratch"
echo "| manifest | bytes | exit | best of 5, ms | median, ms | max RSS MB |"
echo "|---|---|---|---|---|---|"
for name in minified.json items.yml keys.yml items-wide.yml; do
  times=(); rss=0; code=0
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    set +e
    NO_COLOR=1 /usr/bin/time -f '%M' -o "$scratch/rss" "$bin" print --format json -c "$scratch/$name" >/dev/null 2>"$scratch/err"
    code=$?
    set -e
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
    kb=$(tail -n 1 "$scratch/rss")
    if [ "$kb" -gt "$rss" ]; then rss=$kb; fi
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "| \`$name\` | $(wc -c < "$scratch/$name") | $code | ${sorted[0]} | ${sorted[2]} | $(( (rss + 1023) / 1024 )) |"
done
