#!/usr/bin/env bash
# Fresh-machine set-up times: `make demo`, then `make test`, in a fresh clone with empty package caches.
# Baseline (same run, same commit): the previous set-up, `python3 -m venv` + `pip install -e '.[test]'` with
# fastText 0.9.3 compiled from source (`pip install fasttext==0.9.3`), then the same demo. Run on an idle machine; prints wall and CPU.
#
#   bash bench/bench_setup.sh [--no-baseline]
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/curation-setup.XXXX)"
trap 'rm -rf "$WORK"' EXIT
# no ../shared beside the clone: corpus tests skip, as for a user who clones the repository
git clone -q "$REPO" "$WORK/clone"
cd "$WORK/clone"
export UV_CACHE_DIR="$WORK/uv-cache" PIP_CACHE_DIR="$WORK/pip-cache"
timed() { /usr/bin/time -f "$1: %e s wall, %U s user, %S s sys" "${@:2}" > "$WORK/$1.log" 2>&1 || { tail -40 "$WORK/$1.log"; exit 1; }; tail -1 "$WORK/$1.log"; }
timed "make demo" make demo
timed "make test" make test
if [[ "${1:-}" != "--no-baseline" ]]; then
    rm -rf .venv demo-out "$UV_CACHE_DIR" "$PIP_CACHE_DIR"
    timed "baseline: pip install" bash -c "python3 -m venv .venv && .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pip install -q fasttext==0.9.3"
    timed "baseline: demo" .venv/bin/curation demo --output demo-out --overwrite
fi
