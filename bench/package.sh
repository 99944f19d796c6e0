#!/usr/bin/env bash
# Times `updraft package` against the Serverless Framework v3's `serverless package` on the same
# services and reports, as a Markdown table on stdout, wall time (hyperfine mean ± stddev and min),
# peak memory (max RSS of one run, GNU time), the zips each tool wrote (count and total bytes) and
# whether updraft's zips are byte-identical across two runs (sha256). Progress goes to stderr.
# The numbers in docs/performance.md ("## `updraft package`") come from this script.
#
# Cases, each built with a real `npm install` in a scratch directory:
#   small   5 Node.js functions; dependencies uuid, ms, debug; dev dependency left-pad
#   many    50 functions, `package.individually: true`, same dependencies
#   large   5 functions over a large node_modules (aws-sdk@2, date-fns@2, rxjs@7, lodash,
#           es-abstract, core-js, ramda, two Font Awesome icon sets: about 25,000 files)
#   typescript  5 TypeScript functions bundled with esbuild: the Framework with serverless-esbuild
#           against updraft, a first package (no build output yet) and an unchanged re-package;
#           its own table (see the block "Case typescript" below)
#   python  3 Python functions whose requirements.txt lists requests (pure Python, with four
#           dependencies), markupsafe and pyyaml (compiled): installed by updraft, and by
#           serverless-python-requirements (non-Docker) for the Framework; timed as a first
#           build (install caches emptied before each run) and as an unchanged re-package.
#           Not in the default CASES: CASES=python runs it.
#
# Usage: bench/package.sh > results.md
# Environment:
#   UPDRAFT_BIN      the binary to time (default target/release/updraft, built when missing)
#   SERVERLESS_BIN   the Framework's `serverless` (default bench/.node/node_modules/.bin/serverless,
#                    installed there with npm when missing; the python case installs
#                    serverless-python-requirements beside it)
#   RUNS             timed runs per updraft case (default 10)
#   FRAMEWORK_RUNS   timed runs per Framework case (default 3)
#   CASES            which cases to run (default "small many large"; add typescript and python
#                    for the build steps)
#
# Needs: node and npm (fixtures and the Framework; the npm registry must be reachable), hyperfine,
# python3, GNU time (/usr/bin/time), sha256sum. Both tools run with a clean environment, a scratch
# HOME and fake AWS credentials: packaging needs no AWS account.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
FRAMEWORK_RUNS=${FRAMEWORK_RUNS:-3}
CASES=${CASES:-small many large}
TIME=/usr/bin/time

fail() {
    echo "bench/package.sh: $*" >&2
    exit 1
}

[[ -x $TIME ]] || fail "GNU time is missing at $TIME (Debian/Ubuntu: apt-get install time)"
for tool in python3 hyperfine npm node sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool is needed"
done

UPDRAFT_BIN=${UPDRAFT_BIN:-${CARGO_TARGET_DIR:-target}/release/updraft}
if [[ ! -x $UPDRAFT_BIN ]]; then
    echo "building updraft (release)..." >&2
    cargo build --release --quiet
fi
[[ -x $UPDRAFT_BIN ]] || fail "no updraft binary at $UPDRAFT_BIN"
UPDRAFT_BIN=$(realpath "$UPDRAFT_BIN")

SERVERLESS_BIN=${SERVERLESS_BIN:-$ROOT/bench/.node/node_modules/.bin/serverless}
if [[ ! -x $SERVERLESS_BIN ]]; then
    echo "installing the Serverless Framework v3 into bench/.node..." >&2
    npm install --prefix "$ROOT/bench/.node" serverless@3 --no-audit --no-fund --loglevel error >&2
    SERVERLESS_BIN=$ROOT/bench/.node/node_modules/.bin/serverless
fi
SERVERLESS_BIN=$(realpath "$SERVERLESS_BIN")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS=$WORK/results
mkdir -p "$WORK/home" "$RESULTS"
LOAD_AT_START=$(cut -d ' ' -f 1-3 /proc/loadavg)

clean_env=(env -i "PATH=$PATH" "HOME=$WORK/home" NO_COLOR=1
    SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
    AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y)

# make_service DIR NAME FUNCTIONS INDIVIDUALLY(true|false) DEPENDENCIES...
make_service() {
    local dir=$1 name=$2 count=$3 individually=$4
    shift 4
    mkdir -p "$dir/src"
    {
        echo "service: $name"
        echo "frameworkVersion: '3'"
        echo "provider:"
        echo "  name: aws"
        echo "  runtime: nodejs18.x"
        echo "  region: us-east-1"
        echo "package:"
        echo "  individually: $individually"
        echo "functions:"
        for ((i = 1; i <= count; i++)); do
            echo "  f$i:"
            echo "    handler: src/f$i.handler"
        done
    } >"$dir/serverless.yml"
    for ((i = 1; i <= count; i++)); do
        cat >"$dir/src/f$i.js" <<EOF
const { v4 } = require('uuid');
const ms = require('ms');
const log = require('debug')('f$i');
exports.handler = async (event) => {
  log('event %o', event);
  return { statusCode: 200, body: JSON.stringify({ id: v4(), function: 'f$i', timeout: ms('2s') }) };
};
EOF
    done
    echo "{\"name\": \"$name\", \"version\": \"1.0.0\", \"private\": true}" >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel error "$@" >&2 &&
        npm install --no-audit --no-fund --loglevel error --save-dev left-pad >&2)
}

# --- Case typescript: bundles, serverless-esbuild against updraft ----------------------------
# 5 TypeScript functions, each importing a shared module that uses `uuid` and `ms`, with
# `plugins: [serverless-esbuild]` and `custom.esbuild.sourcemap: true`. serverless-esbuild,
# esbuild and the type packages are the service's dev dependencies: the Framework loads the
# plugin from there and updraft runs that esbuild. Each tool is timed twice: a first package
# (hyperfine --prepare removes the output folder, and serverless-esbuild's .esbuild folder,
# before every run) and an unchanged re-package (the output of the run before is left alone).
TYPESCRIPT_PACKAGES=(serverless-esbuild@1.57.2 esbuild@0.28.2 @types/ms@2.1.0 @types/uuid@9)

make_typescript_service() {
    local dir=$1 i
    mkdir -p "$dir/src/lib"
    {
        echo "service: bench-typescript"
        echo "frameworkVersion: '3'"
        echo "provider:"
        echo "  name: aws"
        echo "  runtime: nodejs20.x"
        echo "  region: us-east-1"
        echo "plugins:"
        echo "  - serverless-esbuild"
        echo "custom:"
        echo "  esbuild:"
        echo "    sourcemap: true"
        echo "functions:"
        for ((i = 1; i <= 5; i++)); do
            echo "  f$i:"
            echo "    handler: src/f$i.handler"
        done
    } >"$dir/serverless.yml"
    cat >"$dir/src/lib/respond.ts" <<'TS'
import { v4 } from 'uuid';
import ms from 'ms';

export interface Response { statusCode: number; body: string }

export function respond(name: string, event: unknown): Response {
  return { statusCode: 200, body: JSON.stringify({ id: v4(), function: name, timeout: ms('2s'), event }) };
}
TS
    for ((i = 1; i <= 5; i++)); do
        cat >"$dir/src/f$i.ts" <<TS
import { respond, Response } from './lib/respond';

export const handler = async (event: unknown): Promise<Response> => respond('f$i', event);
TS
    done
    echo '{"name": "bench-typescript", "version": "1.0.0", "private": true}' >"$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel error uuid@9 ms >&2 &&
        npm install --no-audit --no-fund --loglevel error --save-dev "${TYPESCRIPT_PACKAGES[@]}" >&2)
}

# measure_typescript: both tools, first package and unchanged re-package, into $RESULTS.
measure_typescript() {
    local dir=$WORK/typescript tool id out runs
    for tool in serverless updraft; do
        out=$WORK/out/typescript-$tool
        local command=("$UPDRAFT_BIN" package)
        runs=$RUNS
        if [[ $tool == serverless ]]; then
            command=("$SERVERLESS_BIN" package)
            runs=$FRAMEWORK_RUNS
        fi
        echo "== typescript: $tool, first package" >&2
        id=typescript-$tool-first
        rm -rf "$out" "$dir/.esbuild" "$dir/.serverless"
        (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%e %M' -o "$RESULTS/$id.time" \
            "${command[@]}" --package "$out" >"$RESULTS/$id.out" 2>"$RESULTS/$id.err") || {
            tail -n 30 "$RESULTS/$id.err" "$RESULTS/$id.out" >&2
            fail "$tool failed on typescript"
        }
        zip_summary "$out" >"$RESULTS/$id.zips"
        local identical=n/a
        if [[ $tool == updraft ]]; then
            local again=$WORK/out/typescript-$tool-again
            (cd "$dir" && "${clean_env[@]}" "${command[@]}" --package "$again" >/dev/null 2>&1) ||
                fail "second updraft run failed on typescript"
            identical=NO
            [[ $(zip_digest "$out") == "$(zip_digest "$again")" ]] && identical=yes
        fi
        echo "$identical" >"$RESULTS/$id.identical"
        (cd "$dir" && hyperfine -N --runs "$runs" --style basic --export-json "$RESULTS/$id.json" \
            --prepare "rm -rf $out $dir/.esbuild" -- \
            "$(printf '%q ' "${clean_env[@]}" "${command[@]}" --package "$out")" >&2)
        echo "== typescript: $tool, unchanged re-package" >&2
        id=typescript-$tool-again
        (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%e %M' -o "$RESULTS/$id.time" \
            "${command[@]}" --package "$out" >/dev/null 2>&1) || fail "$tool failed on typescript"
        zip_summary "$out" >"$RESULTS/$id.zips"
        echo n/a >"$RESULTS/$id.identical"
        (cd "$dir" && hyperfine -N --warmup 1 --runs "$runs" --style basic \
            --export-json "$RESULTS/$id.json" -- \
            "$(printf '%q ' "${clean_env[@]}" "${command[@]}" --package "$out")" >&2)
    done
}

# typescript_table: the case's own table (Markdown) on stdout.
typescript_table() {
    python3 - "$RESULTS" <<'PY'
import json, sys
results = sys.argv[1]
def read(id, ext):
    with open(f"{results}/{id}.{ext}") as handle:
        return handle.read().strip()
print()
print("| case | tool | run | wall mean ± σ | min | runs | peak RSS | zips | zip bytes | identical across runs | speed-up |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for run, label in (("first", "first package"), ("again", "unchanged re-package")):
    means = {}
    for tool in ("serverless", "updraft"):
        id = f"typescript-{tool}-{run}"
        timing = json.loads(read(id, "json"))["results"][0]
        means[tool] = timing["mean"]
        rss_kb = int(read(id, "time").split()[1])
        count, size = map(int, read(id, "zips").split())
        speed = f"{means['serverless'] / timing['mean']:.1f}x" if tool == "updraft" else ""
        stddev = (timing["stddev"] or 0) * 1000
        print(f"| typescript | {tool} | {label} | {timing['mean']*1000:.0f} ± {stddev:.0f} ms"
              f" | {timing['min']*1000:.0f} ms | {len(timing['times'])} | {rss_kb/1024:.0f} MB"
              f" | {count} | {size:,} | {read(id, 'identical')} | {speed} |")
PY
}

# --- The python case: Python requirements, updraft against serverless-python-requirements ----
# Both build for the python3 on PATH (the runtime is set to its version, and the plugin's
# pythonBin to python3), so both install the same CPython wheels for this machine's platform,
# which is Lambda's on x86_64 Linux.
PYTHON_RUNTIME=python$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYTHON_PLUGIN_DIR=$ROOT/bench/.node/node_modules
if [[ " $CASES " == *" python "* && ! -d $PYTHON_PLUGIN_DIR/serverless-python-requirements ]]; then
    echo "installing serverless-python-requirements into bench/.node..." >&2
    npm install --prefix "$ROOT/bench/.node" serverless-python-requirements \
        --no-audit --no-fund --loglevel error >&2
fi

# make_python_service DIR
make_python_service() {
    local dir=$1
    mkdir -p "$dir"
    cat >"$dir/serverless.yml" <<EOF
service: bench-python
frameworkVersion: '3'
provider:
  name: aws
  runtime: $PYTHON_RUNTIME
  region: us-east-1
plugins:
  localPath: $PYTHON_PLUGIN_DIR
  modules:
    - serverless-python-requirements
custom:
  pythonRequirements:
    dockerizePip: false
    pythonBin: python3
functions:
  f1:
    handler: handler.main
  f2:
    handler: handler.main
  f3:
    handler: handler.main
EOF
    printf 'requests==2.31.0\nmarkupsafe==2.1.5\npyyaml==6.0.1\n' >"$dir/requirements.txt"
    cat >"$dir/handler.py" <<'EOF'
import markupsafe
import requests
import yaml


def main(event, context):
    return {"escaped": str(markupsafe.escape("<b>")), "yaml": yaml.safe_dump(event),
            "requests": requests.__version__}
EOF
}

# measure_python: the python case as two reported cases, python-first (every run starts with
# the tool's install cache emptied; pip's download caches stay, so the network is not timed)
# and python-repackage (an unchanged service, caches warm). Same columns as `measure`.
measure_python() {
    local dir=$WORK/python caches=$WORK/home/.cache
    local plugin_cache=$caches/serverless-python-requirements
    local tool scenario id out runs warmup prepare identical code command hyperfine
    for scenario in first repackage; do
        for tool in serverless updraft; do
            id=python-$scenario-$tool
            out=$WORK/out/python-$tool
            if [[ $tool == serverless ]]; then
                runs=$FRAMEWORK_RUNS
                command=("$SERVERLESS_BIN" package --package "$out")
                # The plugin's static cache, and the copy it leaves in the output folder.
                prepare="sh -c 'rm -rf $plugin_cache/*_slspyc $out/requirements $out/requirements.txt'"
            else
                runs=$RUNS
                command=("$UPDRAFT_BIN" package --package "$out")
                prepare="rm -rf $caches/updraft/python-requirements"
            fi
            warmup=1
            if [[ $scenario == first ]]; then
                warmup=0
                eval "$prepare"
            fi
            echo "== python ($scenario): $tool" >&2
            code=0
            (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%e %M' -o "$RESULTS/$id.time" \
                "${command[@]}" >"$RESULTS/$id.out" 2>"$RESULTS/$id.err") || code=$?
            if [[ $code -ne 0 ]]; then
                tail -n 30 "$RESULTS/$id.err" "$RESULTS/$id.out" >&2
                fail "$tool failed on python (exit $code)"
            fi
            zip_summary "$out" >"$RESULTS/$id.zips"
            identical=n/a
            if [[ $tool == updraft ]]; then
                # A second run into a fresh folder must write the same bytes.
                (cd "$dir" && "${clean_env[@]}" "$UPDRAFT_BIN" package --package "$out-again" \
                    >/dev/null 2>&1) || fail "second updraft run failed on python"
                if [[ $(zip_digest "$out") == "$(zip_digest "$out-again")" ]]; then
                    identical=yes
                else
                    identical=NO
                fi
            fi
            echo "$identical" >"$RESULTS/$id.identical"
            hyperfine=(hyperfine -N --warmup "$warmup" --runs "$runs" --style basic
                --export-json "$RESULTS/$id.json")
            if [[ $scenario == first ]]; then
                hyperfine+=(--prepare "$prepare")
            fi
            (cd "$dir" && "${hyperfine[@]}" -- \
                "$(printf '%q ' "${clean_env[@]}" "${command[@]}")" >&2)
        done
    done
}

echo "building fixtures in $WORK (npm install)..." >&2
for case in $CASES; do
    case $case in
    small) make_service "$WORK/small" bench-small 5 false uuid@9 ms debug ;;
    many) make_service "$WORK/many" bench-many 50 true uuid@9 ms debug ;;
    large) make_service "$WORK/large" bench-large 5 false uuid@9 ms debug aws-sdk@2 date-fns@2 \
        rxjs@7 lodash es-abstract core-js ramda @fortawesome/free-solid-svg-icons \
        @fortawesome/free-brands-svg-icons ;;
    typescript) make_typescript_service "$WORK/typescript" ;;
    python) make_python_service "$WORK/python" ;;
    *) fail "unknown case $case (known: small many large typescript python)" ;;
    esac
done

# zip_summary DIR: "count bytes" of the zips under DIR.
zip_summary() {
    find "$1" -name '*.zip' -type f -printf '%s\n' | awk '{n++; s+=$1} END {printf "%d %d\n", n, s}'
}

# zip_digest DIR: one sha256 over every zip's name and digest under DIR.
zip_digest() {
    (cd "$1" && find . -name '*.zip' -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}

# measure CASE TOOL RUNS COMMAND... (the command gets `--package OUT` appended)
measure() {
    local case=$1 tool=$2 runs=$3
    shift 3
    local id=$case-$tool dir=$WORK/$case out=$WORK/out/$case-$tool
    echo "== $case: $tool" >&2
    rm -rf "$out"
    local code=0
    (cd "$dir" && "${clean_env[@]}" "$TIME" -f '%e %M' -o "$RESULTS/$id.time" "$@" --package "$out" \
        >"$RESULTS/$id.out" 2>"$RESULTS/$id.err") || code=$?
    if [[ $code -ne 0 ]]; then
        tail -n 30 "$RESULTS/$id.err" "$RESULTS/$id.out" >&2
        fail "$tool failed on $case (exit $code)"
    fi
    zip_summary "$out" >"$RESULTS/$id.zips"
    local identical=n/a
    if [[ $tool == updraft ]]; then
        # A second run into a fresh folder must write the same bytes.
        local again=$WORK/out/$case-$tool-again
        (cd "$dir" && "${clean_env[@]}" "$@" --package "$again" >/dev/null 2>&1) ||
            fail "second updraft run failed on $case"
        if [[ $(zip_digest "$out") == "$(zip_digest "$again")" ]]; then
            identical=yes
        else
            identical=NO
        fi
    fi
    echo "$identical" >"$RESULTS/$id.identical"
    (cd "$dir" && hyperfine -N --warmup 1 --runs "$runs" --style basic \
        --export-json "$RESULTS/$id.json" -- \
        "$(printf '%q ' "${clean_env[@]}" "$@" --package "$out")" >&2)
}

REPORTED=()
for case in $CASES; do
    if [[ $case == typescript ]]; then
        measure_typescript
        continue
    fi
    if [[ $case == python ]]; then
        measure_python
        REPORTED+=(python-first python-repackage)
        continue
    fi
    measure "$case" serverless "$FRAMEWORK_RUNS" "$SERVERLESS_BIN" package
    measure "$case" updraft "$RUNS" "$UPDRAFT_BIN" package
    REPORTED+=("$case")
done

[[ ${#REPORTED[@]} -eq 0 ]] || python3 - "$RESULTS" "${REPORTED[*]}" <<'EOF'
import json, sys
results, cases = sys.argv[1], sys.argv[2].split()
def read(case, tool, ext):
    with open(f"{results}/{case}-{tool}.{ext}") as handle:
        return handle.read().strip()
print("| case | tool | wall mean ± σ | min | runs | peak RSS | zips | zip bytes | identical across runs | speed-up | size ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for case in cases:
    row = {}
    for tool in ("serverless", "updraft"):
        timing = json.loads(read(case, tool, "json"))["results"][0]
        rss_kb = int(read(case, tool, "time").split()[1])
        count, size = map(int, read(case, tool, "zips").split())
        row[tool] = (timing, rss_kb, count, size, read(case, tool, "identical"))
    for tool in ("serverless", "updraft"):
        timing, rss_kb, count, size, identical = row[tool]
        speed = size_ratio = ""
        if tool == "updraft":
            speed = f"{row['serverless'][0]['mean'] / timing['mean']:.1f}x"
            size_ratio = f"{size / row['serverless'][3]:.3f}"
        stddev = (timing["stddev"] or 0) * 1000
        print(f"| {case} | {tool} | {timing['mean']*1000:.0f} ± {stddev:.0f} ms"
              f" | {timing['min']*1000:.0f} ms | {len(timing['times'])} | {rss_kb/1024:.0f} MB"
              f" | {count} | {size:,} | {identical} | {speed} | {size_ratio} |")
EOF
[[ " $CASES " != *" typescript "* ]] || typescript_table
echo >&2
echo "load average at start: $LOAD_AT_START; at end: $(cut -d ' ' -f 1-3 /proc/loadavg)" >&2
