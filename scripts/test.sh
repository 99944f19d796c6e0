#!/usr/bin/env bash
# The test command: runs the whole test suite, with the AWS tests against a local moto emulator.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -- variables    # extra arguments go to `cargo test --all-targets`
#
# The tests that need moto or awslambdaric are #[ignore]d for a plain `cargo test`; this
# script runs them too (`-- --include-ignored`).
#
# Needs Rust, Python 3 with venv and pip, and access to PyPI (first run only) and crates.io.
# It keeps a Python virtual environment in .venv/ (made or repaired when needed), starts
# `moto_server` on a free local port, exports UPDRAFT_TEST_MOTO_URL for the tests, runs
# `cargo test --all-targets --no-fail-fast` (every test binary runs even when an earlier one
# fails), stops the server again and exits with cargo's exit code.

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

# --- The emulator --------------------------------------------------------------------------
port="$("$venv/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')"
moto_url="http://127.0.0.1:$port"
moto_log="$(mktemp "${TMPDIR:-/tmp}/updraft-moto.XXXXXX.log")"
moto_pid=""

stop_moto() {
    if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
        say "stopping moto (pid $moto_pid)"
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
    rm -f "$moto_log"
}
trap stop_moto EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting moto on $moto_url (log: $moto_log)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
moto_pid=$!

# Wait (bounded) until the emulator answers its own API.
if ! "$venv/bin/python" - "$moto_url/moto-api/" "$moto_wait_seconds" "$moto_pid" <<'EOF'; then
import os, sys, time, urllib.request
url, limit, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("moto exited before it answered")
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(f"moto did not answer {url} within {limit:.0f} s")
EOF
    printf -- '--- moto log ---\n' >&2
    cat "$moto_log" >&2 || true
    printf -- '--- end of moto log ---\n' >&2
    fail "the moto emulator did not start (see its log above)"
fi
say "moto is up (pid $moto_pid)"

# --- The tests -----------------------------------------------------------------------------
export UPDRAFT_TEST_MOTO_URL="$moto_url"
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
say "running: cargo test --all-targets --no-fail-fast ${args[*]} (UPDRAFT_TEST_MOTO_URL=$moto_url)"
started=$SECONDS
status=0
cargo test --all-targets --no-fail-fast "${args[@]}" || status=$?
say "cargo test finished with exit code $status after $((SECONDS - started)) s"
exit "$status"
