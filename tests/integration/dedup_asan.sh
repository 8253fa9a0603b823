#!/usr/bin/env bash
# The buffer report's in-process half (recorder, agent thread, snapshots, copy and launch
# wrappers) under the ASan+UBSan build of the hook (mk/asan-hook.mk): every scenario of
# dedup_tests.sh that runs code inside the job, with a check that the report is still right.
# A sanitizer report fails the scenario.
set -uo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d /tmp/grey-dedup-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey GREY_HOOK=$B/asan/lib/libgreyhook.so
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
unset GREY_DEDUP GREY_REPORT_DIR
PROG=$B/tests/integration/prog_dedup
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# run NAME JQ-CHECK ARGS...: the program under the ASan hook and grey-run, then the report.
run() {
    local name=$1 check=$2; shift 2
    if LD_PRELOAD="$ASAN_RUNTIME" "$B/asan/bin/grey-run" --quiet --dedup --report "$work/r.json" -- "$PROG" "$@" \
        >"$work/out" 2>&1 && ! grep -q "Sanitizer" "$work/out" && jq -e "$check" "$work/r.json" >/dev/null; then
        ok "$name"
    else
        fail "$name"; sed 's/^/      /' "$work/out" | tail -40
    fi
}

run "asan: uploads through linked symbols" '.groups[0].count == 3' upload linked 0
run "asan: uploads through cuGetProcAddress_v2, freed" '.groups[0].count == 3' upload procaddr_v2 1
run "asan: device duplicates, context destroyed" '.groups[0].count == 3' device destroy
run "asan: device duplicates, primary context reset" '.groups[0].count == 3' device reset
run "asan: kernel arguments and idle buffers" '.never_touched.count == 1 and .freed_long_after_last_use.count == 1' kernel
run "asan: fork" '(.processes | length) == 2' fork
run "asan: 20000 allocations" '.processes[0].freed_records_dropped > 0' churn 20000
# The waste patterns' bookkeeping in the hook: kernel arguments through address ranges, pitched
# copies, graph nodes read at instantiation (tests/integration/prog_waste.c).
PROG=$B/tests/integration/prog_waste
run "asan: waste, an interior kernel argument" '.waste.temporary_idle.count == 1' idle
run "asan: waste, pitched copies and memsets" '.waste.dead_write.count == 1' pitched
run "asan: waste, a captured and a hand-made graph" '.waste.early_allocation.count == 1' graph
run "asan: waste, a leak" '.waste.memory_leak.count == 1' leak
PROG=$B/tests/integration/prog_dedup
# The real CUDA runtime, whose exit teardown races grey's exit snapshot (make dedup-asan builds them).
export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:${CUDA_HOME:-/usr/local/cuda}/lib64
for PROG in "$B/tests/cuda/rt_dedup" "$B/tests/cuda/rt_dedup_shared"; do
    run "asan: $(basename "$PROG") at exit" '.groups[0].count == 3' exit
    run "asan: $(basename "$PROG") at cudaDeviceReset" '.groups[0].count == 3' reset
done

finish dedup-asan
