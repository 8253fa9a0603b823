#!/usr/bin/env bash
# The integration checks against a real NVIDIA driver, in one go (about 2-5 minutes; every
# program is bounded by a timeout so the whole stays under 8 minutes):
#
#   scripts/gpu-check.sh        (from anywhere; builds what it needs into build/)
#
# On a machine without an NVIDIA GPU (no /dev/nvidia0, or `nvidia-smi -L` fails) it says so and
# exits 2 without building or running anything. Otherwise it builds the hook, grey-run and the
# test programs (nvcc ones too when nvcc is there), runs them on the real driver (build/sim is
# never on the library path) and prints one line per suite, "NAME: N passed, N failed", then
# exits 0 only when no suite failed. Needs about 1 GiB of free device memory on GPU 0.
#
# GPU_CHECK_ON_SIM=1 runs the same checks on the simulated driver instead (build/sim first on the
# library path, an 80 GiB simulated GPU): a test of this script itself on a machine without a GPU.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)
B=$root/build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}

on_sim=${GPU_CHECK_ON_SIM:-0}
if [ "$on_sim" != 1 ] &&
    { [ ! -e /dev/nvidia0 ] || ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; }; then
    echo "gpu-check: no NVIDIA GPU on this machine (/dev/nvidia0 or nvidia-smi -L missing); nothing was run" >&2
    exit 2
fi

jobs=$(nproc 2>/dev/null || echo 2)
if [ "$on_sim" = 1 ]; then
    jobs=2
    echo "gpu-check: GPU_CHECK_ON_SIM=1, on the simulated driver"
else
    echo "gpu-check: $(nvidia-smi -L | head -1)"
fi
if ! make -j"$jobs" all "$B/tests/integration/prog_families" "$B/tests/integration/prog_vmm_release" \
    "$B/tests/integration/prog_vmm_share" >"$B/gpu-check-build.log" 2>&1; then
    echo "gpu-check: the build failed, see $B/gpu-check-build.log" >&2
    exit 1
fi
have_nvcc=0
if [ -x "$CUDA_HOME/bin/nvcc" ]; then
    if make -j"$jobs" NVCC="$CUDA_HOME/bin/nvcc" "$B/tests/cuda/rt_basic" "$B/tests/cuda/rt_pinned" \
        "$B/tests/cuda/rt_curand" "$B/tests/cuda/rt_cudnn" "$B/tests/cuda/rt_cublas" "$B/tests/cuda/rt_symbol" "$B/tests/cuda/module_globals.fatbin" >>"$B/gpu-check-build.log" 2>&1; then
        have_nvcc=1
    else
        echo "gpu-check: the nvcc programs did not build (see $B/gpu-check-build.log); their suites fail" >&2
    fi
fi

work=$(mktemp -d /tmp/grey-gpucheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GREY_LEDGER=$work/ledger
export LD_LIBRARY_PATH=$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ "$on_sim" = 1 ]; then
    export LD_LIBRARY_PATH=$B/sim:$LD_LIBRARY_PATH GREY_SIM_VRAM=80GiB
fi
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
# A real context costs hundreds of MiB, which grey would count against these small caps (README,
# cuDevicePrimaryCtxRetain); the checks are about the programs' own allocations, as on the
# simulator, so the context is counted as nothing.
export GREY_CONTEXT_OVERHEAD=0
CAP=$((512 << 20))
failed_suites=0
passed=0 failed=0

# run NAME PATTERN CAP -- CMD...: CMD under grey-run --cap CAP within 60 s, exit 0 and PATTERN
# in its output.
run() {
    local name=$1 pattern=$2 cap=$3; shift 4
    if timeout 60 "$B/bin/grey-run" --cap "$cap" -- "$@" >"$work/out" 2>&1 && grep -Eq -- "$pattern" "$work/out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "  FAIL: $name"; sed 's/^/      /' "$work/out" | tail -15
    fi
}
# suite NAME: prints the suite's line and starts the next count.
suite() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] || failed_suites=$((failed_suites + 1))
    passed=0 failed=0
}

for family in alloc pitch managed async frompool vmm array; do
    for path in linked procaddr; do
        run "$family/$path: exactly two 200 MiB blocks under 512 MiB" 'peak 400.0 MiB' 512MiB -- \
            "$B/tests/integration/prog_families" $family $path $CAP
    done
done
suite "families (driver API, every allocation family)"

run "create, map, release x32 of 64 MiB: the 9th create is refused" 'prog_vmm_release: ok' 512MiB -- \
    "$B/tests/integration/prog_vmm_release" 8
# Shared VMM memory on the real driver: exported descriptors are opens of /dev/nvidiactl, and the
# count rests on record locks on them (shim/vmm_share.h), which only a real driver can confirm.
run "export, import back, release x4 of 256 MiB: the 3rd create is refused" '^ok$' 512MiB -- \
    "$B/tests/integration/prog_vmm_share" self 256 512
run "an open exported descriptor keeps released memory counted" '^ok$' 512MiB -- \
    "$B/tests/integration/prog_vmm_share" open 256 512
suite "vmm (memory released while mapped, shared through descriptors)"

if [ "$have_nvcc" -eq 1 ]; then
    for family in malloc async managed graph; do
        run "rt_basic $family: exactly two blocks" '^rt_basic: ok$' 512MiB -- "$B/tests/cuda/rt_basic" $family $CAP
    done
fi
suite "cuda-runtime (nvcc programs, the real runtime)"

if [ "$have_nvcc" -eq 1 ]; then
    run "rt_pinned: pinned host memory is not counted" '^rt_pinned: ok$' 256MiB -- "$B/tests/cuda/rt_pinned" $((256 << 20))
fi
suite "pinned (cudaFree(0), cudaMallocHost, cudaHostRegister)"

if [ "$have_nvcc" -eq 1 ]; then
    run "rt_symbol: __device__ and __constant__ variables" '^rt_symbol: ok$' 256MiB -- "$B/tests/cuda/rt_symbol" \
        "$B/tests/cuda/module_globals.fatbin"
fi
suite "symbols (cudaMemcpyToSymbol and friends)"

if [ "$have_nvcc" -eq 1 ]; then
    run "rt_curand fits" '^rt_curand: ok$' 256MiB -- "$B/tests/cuda/rt_curand" fits
    run "rt_curand small" '^rt_curand: ok$' 128KiB -- "$B/tests/cuda/rt_curand" small
    run "rt_cudnn fits" '^rt_cudnn: ok$' 256MiB -- "$B/tests/cuda/rt_cudnn" fits
    run "rt_cudnn small" '^rt_cudnn: ok$' 4KiB -- "$B/tests/cuda/rt_cudnn" small
    run "rt_cublas fits" '^rt_cublas: ok$' 256MiB -- "$B/tests/cuda/rt_cublas" fits
    run "rt_cublas small" '^rt_cublas: ok$' 1MiB -- "$B/tests/cuda/rt_cublas" small
fi
suite "libraries (cuRAND, cuDNN, cuBLAS under a cap)"

[ "$failed_suites" -eq 0 ]
