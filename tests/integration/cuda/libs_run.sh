#!/usr/bin/env bash
# NVIDIA's libraries on the simulated driver (make cuda-libs-tests):
#   libs_run.sh RT_CURAND RT_CUDNN RT_CUBLAS RT_SYMBOL MODULE_FATBIN RT_NCCL RT_CUFFT
# (from the repository root)
# rt_symbol checks the program's own __device__/__constant__ variables, which the libraries'
# start-up also needs (cuLibraryGetGlobal).
# Each program runs under grey-run --cap 256MiB (everything succeeds) and under a cap too small
# for the library's own device memory (the library's own allocation-failure status, no crash).
# cuBLAS is checked through a cublasSgemm (CUBLAS_STATUS_SUCCESS), cuFFT through a 1024-point and
# a prime-length C2C plan, exec and destroy (CUFFT_SUCCESS; under a small cap the prime plan's
# CUFFT_ALLOC_FAILED); see docs/simgpu.md and docs/cuda-runtime-on-simgpu.md. NCCL runs one
# communicator over 1 and over 2 simulated GPUs of one process (ncclCommInitAll, ncclAllReduce).
set -uo pipefail

root=$(pwd)
B=$root/build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export LD_LIBRARY_PATH=$B/sim:$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=80GiB
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
work=$(mktemp -d /tmp/grey-cudalibs.XXXXXX)
export GREY_LEDGER=$work/ledger
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

# check NAME CAP BIN ARGS...: under grey-run --cap CAP, BIN ARGS exits 0 and prints "NAME: ok".
check() {
    local name=$1 cap=$2 bin=$3
    shift 3
    if "$B/bin/grey-run" --cap "$cap" -- "$bin" "$@" >"$work/out" 2>&1 && grep -q "^$name: ok$" "$work/out"; then
        ok "$name $*: grey-run --cap $cap"
    else
        fail "$name $*: grey-run --cap $cap"; sed 's/^/      /' "$work/out"
    fi
}
check rt_curand 256MiB "$1" fits
check rt_curand 128KiB "$1" small   # the 64 KiB output fits, the generator's state does not
check rt_cudnn 256MiB "$2" fits
check rt_cudnn 4KiB "$2" small      # the handle's 24.8 KiB do not fit
if "$3" fits >"$work/out" 2>&1 && grep -q '^rt_cublas: ok$' "$work/out"; then ok "rt_cublas fits: no hook"
else fail "rt_cublas fits: no hook"; sed 's/^/      /' "$work/out"; fi
check rt_cublas 256MiB "$3" fits
check rt_cublas 1MiB "$3" small     # the 64 MiB workspace does not fit
if "$4" "$5" >"$work/out" 2>&1 && grep -q '^rt_symbol: ok$' "$work/out"; then ok "rt_symbol: no hook"
else fail "rt_symbol: no hook"; sed 's/^/      /' "$work/out"; fi
check rt_symbol 256MiB "$4" "$5"
if "$7" fits >"$work/out" 2>&1 && grep -q '^rt_cufft: ok$' "$work/out"; then ok "rt_cufft fits: no hook"
else fail "rt_cufft fits: no hook"; sed 's/^/      /' "$work/out"; fi
check rt_cufft 256MiB "$7" fits     # peak about 135 MiB (the prime plan's buffers and workspace)
check rt_cufft 1MiB "$7" small      # neither its 6.6 MiB table nor the prime plan's 15.4 MiB buffer fits

# NCCL: two simulated GPUs (GREY_SIM_DEVICES=2). Its bootstrap and socket transport would take the
# first non-loopback interface; NCCL_SOCKET_IFNAME=lo keeps them on 127.0.0.1. The simulator has no
# peer access, so the two ranks talk through SHM (/dev/shm). With one rank NCCL makes ~190 small
# device buffers, each a 2 MiB cuMem granule (388 MiB): that case runs under 1GiB.
export GREY_SIM_DEVICES=2 NCCL_SOCKET_IFNAME=lo
for n in 1 2; do
    if "$6" $n fits >"$work/out" 2>&1 && grep -q '^rt_nccl: ok$' "$work/out"; then ok "rt_nccl $n GPU(s): no hook"
    else fail "rt_nccl $n GPU(s): no hook"; sed 's/^/      /' "$work/out"; fi
done
check rt_nccl 1GiB "$6" 1 fits
check rt_nccl 256MiB "$6" 2 fits
check rt_nccl 1MiB "$6" 2 small   # its first 2 MiB granule does not fit: ncclUnhandledCudaError
unset GREY_SIM_DEVICES NCCL_SOCKET_IFNAME
finish "cuda library tests"
