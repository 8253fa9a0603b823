#!/usr/bin/env bash
# Runs nvcc-built programs (the real CUDA runtime) on the simulated driver.
#   run.sh BIN...   (from the repository root, after make; `make cuda-runtime-tests` does both)
# For each BIN and each family in CUDA_RT_FAMILIES: without the hook (all ten blocks succeed),
# on a simulated 512 MiB device (the driver's own out-of-memory), and, for the families in
# CUDA_RT_CAPPED_FAMILIES, under grey-run --cap 512MiB on an 80 GiB device (the hook's cap).
# Also checks, with GREY_SIM_TRACE=1, that the runtime called no export-table entry the
# simulator does not implement.
set -uo pipefail

root=$(pwd)
B=$root/build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
FAMILIES=${CUDA_RT_FAMILIES:-"malloc async managed graph all"}
CAPPED=${CUDA_RT_CAPPED_FAMILIES:-"malloc"}
CAP=$((512 << 20))

export LD_LIBRARY_PATH=$B/sim:$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=80GiB
work=$(mktemp -d /tmp/grey-cudart.XXXXXX)
export GREY_LEDGER=$work/ledger      # keep the tests off the user's own ledger
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
# check NAME -- CMD...: CMD must exit 0 and print "rt_basic: ok".
check() {
    local name=$1; shift 2
    "$@" >"$work/out" 2>&1
    local rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^rt_basic: ok$' "$work/out"; then
        ok "$name"
    else
        fail "$name (exit $rc)"; sed 's/^/      /' "$work/out"
    fi
}

echo "== nvcc-built programs on the simulated driver (the real CUDA runtime)"
for bin in "$@"; do
    b=$(basename "$bin")
    for f in $FAMILIES; do
        check "$b $f: no hook, all ten blocks" -- "$bin" "$f"
        check "$b $f: 512 MiB simulated device, exactly two blocks" -- \
            env GREY_SIM_VRAM=512MiB "$bin" "$f" "$CAP"
    done
    for f in $CAPPED; do
        check "$b $f: grey-run --cap 512MiB, exactly two blocks" -- \
            "$B/bin/grey-run" --quiet --cap 512MiB -- "$bin" "$f" "$CAP"
    done
    GREY_SIM_TRACE=1 "$bin" all >"$work/trace" 2>&1
    if grep -q 'cuGetExportTable .*: integrity check' "$work/trace" &&
       ! grep -q 'not implemented' "$work/trace"; then
        ok "$b: the runtime used only implemented export-table entries"
    else
        fail "$b: export-table trace"
        grep -E 'cuGetExportTable|not implemented' "$work/trace" | sed 's/^/      /'
    fi
    # Every entry point the runtime asks for is answered (README, "What the simulated driver
    # answers"): at most 30 distinct names may go unanswered; the empty name it asks for is one.
    misses=$(grep 'cuGetProcAddress miss' "$work/trace" | awk '{print $4}' | sort -u | wc -l)
    if [ "$misses" -lt 30 ]; then
        ok "$b: $misses entry points the runtime asks for are unanswered (fewer than 30)"
    else
        fail "$b: $misses unanswered cuGetProcAddress names"
        grep 'cuGetProcAddress miss' "$work/trace" | awk '{print $4}' | sort -u | head -40 | sed 's/^/      /'
    fi
done

finish "cuda runtime tests"
