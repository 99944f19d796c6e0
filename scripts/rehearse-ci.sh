#!/usr/bin/env bash
# A cold run of CI, as a new contributor's machine (or CI itself) would see it: a clean clone of
# the committed HEAD, the reference data (`shared/`) beside it, an empty CARGO_HOME (every crate
# fetched afresh from crates.io), an empty pip cache and npm cache, no `target/`, no `.venv/` and
# no `node_modules/`, then
# `CI=true bash .ci/run` with its time.
#
#   bash scripts/rehearse-ci.sh                 # uses ../shared beside this checkout
#   UPDRAFT_SHARED_DIR=/path/to/shared bash scripts/rehearse-ci.sh
#   KEEP=1 bash scripts/rehearse-ci.sh          # keep the scratch directory afterwards
#
# Uncommitted changes are not part of the rehearsal: commit first. The log is written to
# rehearsal.log in the scratch directory and its last lines are printed at the end.

set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${UPDRAFT_SHARED_DIR:-$repo_root/../shared}"
[[ -d "$shared" ]] || {
    printf 'error: the reference data is not at %s (set UPDRAFT_SHARED_DIR)\n' "$shared" >&2
    exit 1
}
shared="$(cd "$shared" && pwd)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/updraft-rehearsal.XXXXXX")"
cleanup() {
    if [[ -z "${KEEP:-}" ]]; then
        rm -rf "$scratch"
    else
        printf '==> kept %s\n' "$scratch" >&2
    fi
}
trap cleanup EXIT

git clone --quiet --no-local "$repo_root" "$scratch/updraft"
cp -r "$shared" "$scratch/shared"
chmod -R a-w "$scratch/shared"
mkdir "$scratch/cargo-home" "$scratch/pip-cache"
printf '==> rehearsing CI on %s (commit %s)\n' "$scratch/updraft" \
    "$(git -C "$scratch/updraft" rev-parse --short HEAD)" >&2

started=$SECONDS
status=0
(
    cd "$scratch/updraft"
    # PATH keeps the toolchain (rustup's proxies find it through RUSTUP_HOME, not CARGO_HOME).
    CI=true CARGO_HOME="$scratch/cargo-home" PIP_CACHE_DIR="$scratch/pip-cache" \
        npm_config_cache="$scratch/npm-cache" CARGO_TARGET_DIR="$scratch/updraft/target" \
        bash .ci/run </dev/null
) >"$scratch/rehearsal.log" 2>&1 || status=$?
elapsed=$((SECONDS - started))

tail -n 40 "$scratch/rehearsal.log"
printf '==> cold CI run: exit code %s after %d min %02d s\n' "$status" $((elapsed / 60)) $((elapsed % 60)) >&2
[[ -n "${KEEP:-}" || "$status" -eq 0 ]] || cp "$scratch/rehearsal.log" "${TMPDIR:-/tmp}/updraft-rehearsal-failed.log"
exit "$status"
