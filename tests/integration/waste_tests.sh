#!/usr/bin/env bash
# The waste patterns of the buffer report (policy/waste.h): tests/integration/prog_waste.c shows
# one pattern per mode under grey-run --dedup, and the report must name exactly that pattern, for
# the buffer the mode made, at its allocating function, with the launches and bytes the program
# made; the clean mode has none, and its optimal peak (4 MiB) is below the real one (5 MiB).
# Run from the repository root after `make` (make waste-integration does both).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=8GiB GREY_SIM_KERNEL_US=1
work=$(mktemp -d /tmp/grey-waste.XXXXXX)
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey
unset GREY_DEDUP GREY_REPORT_DIR GREY_TRACK_SITES GREY_STACK_DEPTH
trap 'rm -rf "$work"' EXIT
PROG=$B/tests/integration/prog_waste
MiB=$((1 << 20))

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

jq_true() {
    if jq -e "$2" "$1" >/dev/null 2>&1; then ok "$3"; else
        fail "$3 (jq: $2)"; jq -c '[.waste | to_entries[] | select(.value | type == "object" and has("count")) | {(.key): .value.count}]' "$1" 2>&1 | head -5; fi
}
site_fn='(.site.frames | map(select(.file != null)) | .[0].function)'

# run MODE: the report in $work/MODE.json, the subject's address in $subject.
run() {
    local R=$work/$1.json
    if "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" "$1" >"$work/$1.out" 2>&1; then
        ok "$1: the program ran under grey-run --dedup"
    else
        fail "$1: the program failed"; tail -5 "$work/$1.out"
    fi
    subject=$(sed -n 's/^buffer subject //p' "$work/$1.out")
}

# only PATTERN MODE: PATTERN has exactly one finding, the subject, allocated in FUNCTION; the
# other patterns have none.
only() {
    local pat=$1 mode=$2 fn=$3 R=$work/$2.json
    jq_true "$R" ".waste.$pat.count == 1 and .waste.$pat.buffers[0].address == \"$subject\"" \
        "$mode: $pat reported once, for the subject buffer"
    jq_true "$R" ".waste.$pat.buffers[0] | $site_fn == \"$fn\"" "$mode: at its call site, $fn"
    jq_true "$R" "[.waste | to_entries[] | select(.key != \"$pat\" and (.value | type) == \"object\" and (.value | has(\"count\"))) | .value.count] | length == 6 and add == 0" \
        "$mode: no other pattern"
}

echo "== one pattern per program"
run early
only early_allocation early alloc_subject
jq_true "$work/early.json" ".waste.early_allocation.buffers[0] | .launches == 20 and .wasted_bytes == $MiB and .wasted_seconds > 0" \
    "early: 20 launches before its first use, 1 MiB wasted for a while"

run late
only late_deallocation late alloc_subject
jq_true "$work/late.json" ".waste.late_deallocation.buffers[0] | .launches == 21 and .wasted_bytes == $MiB" \
    "late: freed 21 launches after its last use (20 fillers and the work buffer's last), 1 MiB"

run idle
only temporary_idle idle alloc_subject
jq_true "$work/idle.json" ".waste.temporary_idle.buffers[0] | .launches == 20 and .wasted_bytes == $MiB and .launch_clock.uses == 2" \
    "idle: 20 launches between its two uses, the second through an interior pointer"

run unused
only unused_allocation unused alloc_subject
jq_true "$work/unused.json" ".waste.unused_allocation.buffers[0].wasted_bytes == $MiB" "unused: 1 MiB never used"

run redundant
first=$(sed -n 's/^buffer first //p' "$work/redundant.out")
only redundant_allocation redundant alloc_again
jq_true "$work/redundant.json" ".waste.redundant_allocation.buffers[0] | .wasted_bytes == $((2 * MiB)) and .could_reuse.address == \"$first\"" \
    "redundant: 2 MiB that could have reused the first buffer"
jq_true "$work/redundant.json" ".waste.redundant_allocation.buffers[0].could_reuse | $site_fn == \"alloc_subject\"" \
    "redundant: the buffer it could reuse named by its call site"

run deadwrite
only dead_write deadwrite alloc_subject
jq_true "$work/deadwrite.json" ".waste.dead_write.buffers[0] | .dead_writes == 1 and .wasted_bytes == $MiB" \
    "dead write: one memset of 1 MiB overwritten unused"

run pitched
only dead_write pitched alloc_subject
jq_true "$work/pitched.json" ".waste.dead_write.buffers[0] | .dead_writes == 1 and .wasted_bytes == $MiB and
    (.touched | index(\"memset\") != null and index(\"copy_in\") != null and index(\"copy_out\") != null)" \
    "pitched: cuMemsetD2D8 overwritten by cuMemcpy2D, read by cuMemcpy3D and cuMemcpyPeer"
jq_true "$work/pitched.json" "[.waste.dead_write.buffers[0].launch_clock.uses] == [4]" "pitched: four uses of the subject"

run graph
only early_allocation graph alloc_subject
jq_true "$work/graph.json" ".waste.early_allocation.buffers[0] | .launches == 20 and (.touched | index(\"kernel\") != null) and .launch_clock.uses == 1" \
    "graph: first used 20 graph launches later by its captured memset and kernel (one use: one launch), not at capture"
jq_true "$work/graph.json" ".waste.launches == 23" "graph: 21 graph launches and 2 direct ones counted, the captured kernel not"
jq_true "$work/graph.json" "[.timeline.buffers[] | select(.[2] == $((4 * MiB)))] | length == 1" "graph: one work buffer"
jq_true "$work/graph.json" ".waste.temporary_idle.count == 0" "graph: the work buffer used by the hand-made graph's kernel node each time"

run leak
only memory_leak leak alloc_subject
jq_true "$work/leak.json" ".waste.memory_leak.buffers[0] | .wasted_bytes == $MiB and .free_time_s == null" \
    "leak: 1 MiB never freed"

echo "== a clean program"
run clean
jq_true "$work/clean.json" "[.waste | to_entries[] | select((.value | type) == \"object\" and (.value | has(\"count\"))) | .value.count] | length == 7 and add == 0" \
    "clean: no finding in any of the seven patterns"
jq_true "$work/clean.json" ".waste.launches == 3" "clean: three launches counted"
jq_true "$work/clean.json" ".optimal_peak.bytes == $((4 * MiB)) and .peak.bytes == $((5 * MiB))" \
    "clean: the optimal peak (4 MiB, one kernel's) beside the real one (5 MiB)"

echo "== HIP: the launch clock, hipMemcpy(Async), hipMemset(Async)"
PROG=$B/tests/hip/prog_hip_waste
run early
mv "$work/early.json" "$work/hip-early.json"; cp "$work/early.out" "$work/hip-early.out"
subject=$(sed -n 's/^buffer subject //p' "$work/hip-early.out")
jq_true "$work/hip-early.json" ".waste.early_allocation.count == 1 and .waste.early_allocation.buffers[0].address == \"$subject\" and
    .waste.early_allocation.buffers[0].launches == 20" "HIP early: 20 hipModuleLaunchKernel launches before the upload"
jq_true "$work/hip-early.json" ".waste.early_allocation.buffers[0] | $site_fn == \"alloc_hip_subject\"" "HIP early: at alloc_hip_subject"
run deadwrite
jq_true "$work/deadwrite.json" ".waste.dead_write.count == 1 and .waste.dead_write.buffers[0].dead_writes == 1 and
    .waste.dead_write.buffers[0].wasted_bytes == $MiB and .waste.dead_write.buffers[0].address == \"$subject\"" \
    "HIP dead write: hipMemset overwritten by hipMemsetAsync before hipMemcpyAsync read it"
run clean
jq_true "$work/clean.json" "[.waste | to_entries[] | select((.value | type) == \"object\" and (.value | has(\"count\"))) | .value.count] | add == 0" \
    "HIP clean: no waste"
PROG=$B/tests/integration/prog_waste

echo "== thresholds"
raw_dir=$work/rawdir; mkdir -p "$raw_dir"
if GREY_DEDUP=1 GREY_REPORT_DIR=$raw_dir LD_PRELOAD=$B/lib/libgreyhook.so "$PROG" early >/dev/null 2>&1 &&
   "$B/bin/grey-report" --json --early 21 "$raw_dir" >"$work/early21.json" 2>"$work/err" &&
   "$B/bin/grey-report" --json --early 20 "$raw_dir" >"$work/early20.json" 2>>"$work/err"; then
    jq_true "$work/early21.json" '.waste.early_allocation.count == 0 and .waste.thresholds.early_launches == 21' \
        "--early 21: 20 launches are not early"
    jq_true "$work/early20.json" '.waste.early_allocation.count == 1' "--early 20: they are"
else
    fail "grey-report --early on a raw record"; cat "$work/err"
fi
if "$B/bin/grey-report" --gap 0 "$raw_dir" >/dev/null 2>"$work/err"; then fail "--gap 0 refused"; else
    grep -q -- "--gap: '0'" "$work/err" && ok "--gap 0 refused with the value named" || fail "--gap 0 message"; fi

run early >/dev/null # the CUDA early report again, for the text and HTML checks
echo "== text and HTML"
"$B/bin/grey-report" "$work/early.json" >"$work/early.txt" 2>&1
grep -A1 'early allocation: 1 buffer' "$work/early.txt" | grep -Eq 'alloc_subject \(prog_waste\.c:[0-9]+\)' &&
    ok "text: the early allocation with its call site" || { fail "text: early allocation"; cat "$work/early.txt"; }
grep -Eq 'optimal peak' "$work/early.txt" && ok "text: the optimal peak" || fail "text: optimal peak"
"$B/bin/grey-report" "$work/clean.json" >"$work/clean.txt" 2>&1
grep -q 'waste: none' "$work/clean.txt" && ok "text: a clean run says no waste" || { fail "text: clean"; cat "$work/clean.txt"; }
"$B/bin/grey-report" --html "$work/leak.html" "$work/leak.json" >/dev/null 2>&1
grep -q 'Memory leak' "$work/leak.html" && grep -q 'alloc_subject' "$work/leak.html" &&
    ok "HTML: the leak with its call site" || fail "HTML: leak"

finish waste-integration
