#!/usr/bin/env bash
# The buffer report of programs built with nvcc (the real CUDA runtime) on the simulated driver.
#   dedup_cudart.sh BIN...   (make dedup-cuda-runtime builds them and runs this)
# The runtime destroys its contexts from an atexit handler registered when it starts; grey's exit
# snapshot must still see every buffer, and a cudaDeviceReset must be fingerprinted before it
# frees them.
set -uo pipefail
B=$(pwd)/build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export LD_LIBRARY_PATH=$B/sim:$CUDA_HOME/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=80GiB
work=$(mktemp -d /tmp/grey-dedup-cudart.XXXXXX)
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey
unset GREY_DEDUP GREY_REPORT_DIR
trap 'rm -rf "$work"' EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

for bin in "$@"; do
    b=$(basename "$bin")
    for end in exit reset; do
        R=$work/$b-$end.json
        if "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$bin" $end >"$work/out" 2>&1 && grep -q '^rt_dedup: ok$' "$work/out"
        then ok "$b $end: ran under grey-run --dedup"; else fail "$b $end: the program failed"; sed 's/^/      /' "$work/out"; continue; fi
        b3=$(sed -n 's/^buffer b3 //p' "$work/out")
        src=$([ $end = exit ] && echo exit || echo teardown)
        if jq -e "(.groups | length) == 1 and .groups[0].count == 3 and .reclaimable_bytes == 8388608 and
                  ([.groups[0].buffers[].address] | index(\"$b3\") == null)" "$R" >/dev/null; then
            ok "$b $end: one group of three 4 MiB buffers, the fourth in none"
        else
            fail "$b $end: wrong groups"; jq -c '[.groups[] | {count, reclaimable_bytes}]' "$R"
        fi
        if jq -e "[.groups[0].buffers[].fingerprint_source] | unique == [\"$src\"]" "$R" >/dev/null; then
            ok "$b $end: fingerprinted by the $src snapshot, before the runtime's teardown"
        else
            fail "$b $end: fingerprint sources $(jq -c '[.groups[0].buffers[]?.fingerprint_source]' "$R")"
        fi
        if jq -e '[.groups[0].buffers[].site.frames | map(select(.file != null)) | .[0].function | startswith("load_embeddings")] | all' \
            "$R" >/dev/null; then
            ok "$b $end: attributed to load_embeddings, past the runtime's own frames"
        else
            fail "$b $end: call sites $(jq -c '[.groups[0].buffers[]?.site.frames[]? | .function] | unique' "$R")"
        fi
    done
done
finish dedup-cuda-runtime
