#!/usr/bin/env bash
# Times `updraft print` against the Serverless Framework v3's `serverless print` and reports wall
# time (mean, median, min) and peak memory (max RSS) as a Markdown table on stdout; progress goes
# to stderr. The numbers in docs/performance.md come from this script.
#
# Cases: `--version`; `print` on serverless.example.yml; `print` on a generated 200-function
# service (bench/gen_manifest.py); `print` on a YAML alias bomb, where an error is the right answer.
#
# Usage: bench/print.sh > results.md
# Environment:
#   UPDRAFT_BIN      the binary to time (default: `cargo build --release`, then target/release/updraft)
#   RUNS             timed runs per updraft case (default 50)
#   FRAMEWORK_RUNS   timed runs per Framework case (default 10)
#   FRAMEWORK=0      skip the Framework (installed on first use into bench/.node with npm)
#   FRAMEWORK_BOMB=1 also run the Framework once on the alias bomb (about 13 s and 1.3 GB)
#
# Needs: python3, GNU time (/usr/bin/time); hyperfine when installed (else bench/timing.py);
# node and npm for the Framework. Both tools run with a clean environment and a scratch HOME.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
RUNS=${RUNS:-50}
FRAMEWORK_RUNS=${FRAMEWORK_RUNS:-10}
FRAMEWORK=${FRAMEWORK:-1}
FRAMEWORK_BOMB=${FRAMEWORK_BOMB:-0}
TIME=/usr/bin/time

fail() {
    echo "bench/print.sh: $*" >&2
    exit 1
}

[[ -x $TIME ]] || fail "GNU time is missing at $TIME (Debian/Ubuntu: apt-get install time)"
command -v python3 >/dev/null || fail "python3 is needed"

if [[ -z ${UPDRAFT_BIN:-} ]]; then
    echo "building updraft (release)..." >&2
    cargo build --release --quiet
    UPDRAFT_BIN=${CARGO_TARGET_DIR:-target}/release/updraft
fi
[[ -x $UPDRAFT_BIN ]] || fail "no updraft binary at $UPDRAFT_BIN"
UPDRAFT_BIN=$(realpath "$UPDRAFT_BIN")

SERVERLESS=$ROOT/bench/.node/node_modules/.bin/serverless
if [[ $FRAMEWORK == 1 && ! -x $SERVERLESS ]]; then
    command -v npm >/dev/null || fail "npm is needed for the Framework (or run with FRAMEWORK=0)"
    echo "installing the Serverless Framework v3 into bench/.node..." >&2
    npm install --prefix "$ROOT/bench/.node" serverless@3 --no-audit --no-fund --loglevel error >&2
fi

LOAD_AT_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results
mkdir -p "$WORK/home" "$WORK/example" "$WORK/large" "$WORK/bomb" "$RESULTS"
: >"$RESULTS/index.tsv"
# Both tools read the same files under the same name, each in its own service directory.
cp serverless.example.yml "$WORK/example/serverless.yml"
python3 bench/gen_manifest.py 200 >"$WORK/large/serverless.yml"
python3 bench/gen_manifest.py --alias-bomb >"$WORK/bomb/serverless.yml"

clean_env=(env -i "PATH=$PATH" "HOME=$WORK/home" NO_COLOR=1
    SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
    AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y)

# measure ID CASE TOOL EXPECTED(ok|error) DIR RUNS WARMUP COMMAND...
measure() {
    local id=$1 case=$2 tool=$3 expected=$4 dir=$5 runs=$6 warmup=$7
    shift 7
    echo "== $case: $tool" >&2
    printf '%s\t%s\t%s\t%s\n' "$id" "$case" "$tool" "$expected" >>"$RESULTS/index.tsv"

    # One checked run, timed by GNU time: the outcome must be the expected one.
    local code=0 seconds rss
    (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%e %M' -o "$RESULTS/$id.time" "$@" \
        >"$RESULTS/$id.out" 2>"$RESULTS/$id.err") || code=$?
    if [[ $expected == ok && $code -ne 0 ]]; then
        head -n 30 "$RESULTS/$id.err" "$RESULTS/$id.out" >&2
        fail "$tool failed on '$case' (exit $code)"
    fi
    if [[ $expected == error && $code -eq 0 ]]; then
        fail "$tool accepted '$case', which must fail"
    fi
    # The error message: updraft writes it to stderr; the Framework writes it to stdout (under an
    # `Error:` header) and a version footer to stderr.
    local message_source=$RESULTS/$id.out
    [[ -s $message_source ]] || message_source=$RESULTS/$id.err
    grep -v -e '^[[:space:]]*$' -e '^Error:[[:space:]]*$' "$message_source" | head -n 1 |
        sed 's/^[[:space:]]*//' >"$RESULTS/$id.message" || true
    read -r seconds rss < <(tail -n 1 "$RESULTS/$id.time")

    if [[ $runs -le 1 ]]; then
        printf '{"one_shot_seconds": %s}\n' "$seconds" >"$RESULTS/$id.json"
        echo "$rss" >"$RESULTS/$id.rss"
        return
    fi

    local ignore=()
    [[ $expected == error ]] && ignore=(--ignore-failure)
    if command -v hyperfine >/dev/null; then
        (cd "$dir" && "${clean_env[@]}" hyperfine -N --style basic --runs "$runs" --warmup "$warmup" \
            "${ignore[@]}" --export-json "$RESULTS/$id.json" -- "$(printf '%q ' "$@")") >&2
    else
        (cd "$dir" && "${clean_env[@]}" python3 "$ROOT/bench/timing.py" --runs "$runs" \
            --warmup "$warmup" "${ignore[@]}" --export-json "$RESULTS/$id.json" -- "$@") >&2
    fi
    # Peak memory: the largest max RSS of three more runs.
    : >"$RESULTS/$id.rss"
    for _ in 1 2 3; do
        (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%M' -a -o "$RESULTS/$id.rss" "$@" \
            >/dev/null 2>&1) || true
    done
}

measure version-updraft "\`--version\`" updraft ok "$WORK" "$RUNS" 5 "$UPDRAFT_BIN" --version
if [[ $FRAMEWORK == 1 ]]; then
    measure version-framework "\`--version\`" "Framework v3" ok "$WORK" "$FRAMEWORK_RUNS" 1 \
        "$SERVERLESS" --version
fi
for service in example large; do
    case $service in
        example) label="print, serverless.example.yml" ;;
        large) label="print, 200 functions" ;;
    esac
    measure "$service-updraft" "$label" updraft ok "$WORK/$service" "$RUNS" 5 "$UPDRAFT_BIN" print
    if [[ $FRAMEWORK == 1 ]]; then
        # The warm-up run also fills the Framework's schema cache in the scratch HOME.
        measure "$service-framework" "$label" "Framework v3" ok "$WORK/$service" "$FRAMEWORK_RUNS" 1 \
            "$SERVERLESS" print
    fi
done
# A fast wrong answer is worth nothing: both tools' JSON output is compared in the report.
if [[ $FRAMEWORK == 1 ]]; then
    for service in example large; do
        (cd "$WORK/$service" && "${clean_env[@]}" "$UPDRAFT_BIN" print --format json \
            >"$RESULTS/$service.updraft.output.json" 2>/dev/null) || true
        (cd "$WORK/$service" && "${clean_env[@]}" "$SERVERLESS" print --format json \
            >"$RESULTS/$service.framework.output.json" 2>/dev/null) || true
    done
fi
measure bomb-updraft "print, alias bomb (must fail)" updraft error "$WORK/bomb" "$RUNS" 5 \
    "$UPDRAFT_BIN" print
if [[ $FRAMEWORK == 1 && $FRAMEWORK_BOMB == 1 ]]; then
    measure bomb-framework "print, alias bomb (must fail)" "Framework v3" error "$WORK/bomb" 1 0 \
        "$SERVERLESS" print
fi

echo "## updraft print benchmark"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Machine: $(nproc) CPU cores ($(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
echo "- Load average (1, 5, 15 min) at start: $LOAD_AT_START; at end: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "- updraft: $("$UPDRAFT_BIN" --version)$(git rev-parse --short HEAD 2>/dev/null | sed 's/^/ (commit /; s/$/)/')"
if [[ $FRAMEWORK == 1 ]]; then
    echo "- Serverless Framework: $(tr '\n' ' ' <"$RESULTS/version-framework.out" | sed 's/  */ /g; s/ $//'), node $(node --version)"
fi
if command -v hyperfine >/dev/null; then
    echo "- Timing: $(hyperfine --version), no shell (-N); peak memory: GNU time max RSS"
else
    echo "- Timing: bench/timing.py; peak memory: GNU time max RSS"
fi
echo
python3 bench/summary.py "$RESULTS"
