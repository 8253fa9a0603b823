#!/usr/bin/env bash
# Pinned host memory through the real CUDA runtime (make cuda-pinned-tests):
#   pinned_run.sh RT_PINNED   (from the repository root, after make)
# rt_pinned pins 1.5 times the cap of host memory (cudaMallocHost, cudaHostAlloc mapped,
# cudaHostRegister) next to a device buffer of 3/4 of the cap: on a simulated device of the cap's
# size and under grey-run --cap on a large one, the pinned bytes must not count (the device
# buffer fits, a second one does not); uncapped on a large device the second one fits, which the
# program must report as a failure (its checks can fail).
set -uo pipefail

root=$(pwd)
B=$root/build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export LD_LIBRARY_PATH=$B/sim:$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
work=$(mktemp -d /tmp/grey-pinned.XXXXXX)
export GREY_LEDGER=$work/ledger
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

bin=$1
CAP=$((256 << 20))
check() {
    local name=$1; shift
    if "$@" >"$work/out" 2>&1 && grep -q '^rt_pinned: ok$' "$work/out"; then ok "$name"
    else fail "$name"; sed 's/^/      /' "$work/out"; fi
}
check "rt_pinned: 256 MiB simulated device, cudaFree(0) and pinned memory work, pinned bytes not VRAM" \
    env GREY_SIM_VRAM=256MiB "$bin" $CAP
check "rt_pinned: grey-run --cap 256MiB, pinned bytes not counted against the cap" \
    env GREY_SIM_VRAM=80GiB "$B/bin/grey-run" --cap 256MiB -- "$bin" $CAP
env GREY_SIM_VRAM=80GiB "$bin" $CAP >"$work/out" 2>&1
if grep -q 'FAIL: second device buffer: cudaSuccess' "$work/out"; then
    ok "rt_pinned: uncapped on 80 GiB the second device buffer fits (the check can fail)"
else
    fail "rt_pinned: uncapped run"; sed 's/^/      /' "$work/out"
fi
finish "cuda pinned tests"
