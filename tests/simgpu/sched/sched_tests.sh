#!/usr/bin/env bash
# The simulated device's scheduling models (docs/simgpu.md, "Sharing a device between
# processes"): GREY_SIM_SCHED=timeslice against the FIFO default, with plain processes (no hook).
#   sched_tests.sh MODEL_TEST SCHED_LOAD NODE_PROBE   (from the repository root; `make sim-sched-tests`)
# Every run gets a state file of its own: the model is the state file's, chosen by its first
# process, and other simulated processes on this machine must not share the device under test.
set -uo pipefail

MODEL=$1
L=$2
P=$3
root=$(pwd)
export LD_LIBRARY_PATH=$root/build/sim
for v in $(compgen -e | grep -E '^(GREY_SIM_|CUDA_VISIBLE_DEVICES$|HIP_VISIBLE_DEVICES$|ROCR_VISIBLE_DEVICES$)'); do
    unset "$v"
done
work=$(mktemp -d /tmp/grey-simsched.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
# fail_with NAME FILE: the check failed; FILE is shown indented.
fail_with() { fail "$1"; sed 's/^/      /' "$2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
mono_ns() { "$L" now; } # sched_load's windows are CLOCK_MONOTONIC times
state=0
fresh_state() { state=$((state + 1)); export GREY_SIM_STATE=$work/state.$state; }
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2"; }

echo "== the model on synthetic clocks"
if "$MODEL" >"$work/model" 2>&1; then ok "model_test ($(grep -c '^ok' "$work/model") checks)"; else fail_with "model_test" "$work/model"; fi

echo "== settings"
fresh_state
GREY_SIM_SCHED=round-robin "$L" init >"$work/o" 2>&1
check "a bad GREY_SIM_SCHED fails cuInit" grep -qx 'init 1' "$work/o"
check "... with one line naming it" grep -qx "simgpu: GREY_SIM_SCHED: 'round-robin' is neither fifo nor timeslice" "$work/o"
GREY_SIM_TIMESLICE_US=0 "$L" init >"$work/o" 2>&1
check "a bad GREY_SIM_TIMESLICE_US fails cuInit" grep -q "^simgpu: GREY_SIM_TIMESLICE_US: " "$work/o"
"$L" init >"$work/o" 2>&1 # the first process: the file becomes FIFO
GREY_SIM_SCHED=timeslice "$L" init >"$work/o" 2>&1
check "timeslice on a FIFO state file is refused" grep -qx 'init 1' "$work/o"
check "... saying why in one line" test "$(grep -c "GREY_SIM_SCHED: 'timeslice' asked, but the state file's devices are 'fifo'" "$work/o")" = 1
fresh_state
GREY_SIM_SCHED=timeslice GREY_SIM_TIMESLICE_US=1000 "$L" init >/dev/null 2>&1
"$L" init >"$work/o" 2>&1
check "a process without GREY_SIM_SCHED follows a timeslice file" grep -qx 'init OK' "$work/o"
GREY_SIM_SCHED=timeslice GREY_SIM_TIMESLICE_US=3000 "$L" init >"$work/o" 2>&1
check "another slice than the file's is refused" grep -q "GREY_SIM_TIMESLICE_US: 3000 asked, but the state file's devices use 1000" "$work/o"

echo "== cuEventElapsedTime is the kernel's own time when alone"
for mode in fifo timeslice; do
    fresh_state
    GREY_SIM_SCHED=$mode "$L" one 5000 warm >"$work/o" 2>&1 || fail_with "one ($mode)" "$work/o"
    e=$(field elapsed-us "$work/o")
    check "$mode: a 5 ms kernel alone measures 5000 us (${e:-?})" test "${e:-0}" = 5000
done

echo "== a newcomer behind a process that queued 1 s"
for mode in fifo timeslice; do
    fresh_state
    GREY_SIM_SCHED=$mode "$L" queue 1000 >"$work/q" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do grep -q queued "$work/q" && break; sleep 0.01; done
    sleep 0.05
    GREY_SIM_SCHED=$mode "$L" one 200 cold >"$work/o.$mode" 2>&1 || fail_with "one ($mode)" "$work/o.$mode"
    wait "${pids[-1]}"
done
# The start event completes when it is recorded (the stream is idle), the end one with the
# kernel: the pair measures, on the model's own clock, how long the newcomer waited for its kernel.
e_fifo=$(field elapsed-us "$work/o.fifo")
w_ts=$(field wait-us "$work/o.timeslice")
e_ts=$(field elapsed-us "$work/o.timeslice")
check "fifo: the newcomer's kernel waits for the queued second (${e_fifo:-?} us >= 800000)" test "${e_fifo:-0}" -ge 800000
check "timeslice: it completes within (slice + its 200 us) x 2 (${e_ts:-?} us <= 4400)" \
    test "${e_ts:-999999}" -le 4400 -a "${e_ts:-0}" -ge 200
check "timeslice: and the newcomer is back from its wait soon after (${w_ts:-?} us < 20000)" test "${w_ts:-999999}" -lt 20000

echo "== cuEventElapsedTime includes the other process's slices"
fresh_state
export GREY_SIM_SCHED=timeslice
t0=$(mono_ns)
"$L" load "$t0" $((t0 + 1000000000)) 256 >"$work/bg" 2>&1 &
pids+=($!)
sleep 0.3
"$L" one 5000 warm >"$work/o" 2>&1 || fail_with "one beside a busy process" "$work/o"
e=$(field elapsed-us "$work/o")
# 5 ms of its own work cannot fit in one 2 ms slice: at least two of the other's slices in between.
check "a 5 ms kernel beside a busy process measures more than 5 ms + 2 slices (${e:-?} us)" test "${e:-0}" -ge 9000
check "... and about its share (${e:-?} us <= 12000)" test "${e:-999999}" -le 12000
wait "${pids[-1]}"

echo "== a killed process's queue dies with it"
fresh_state
"$L" queue 1000 >"$work/q" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q queued "$work/q" && break; sleep 0.01; done
kill -9 "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null
GREY_SIM_TRACE=1 "$L" one 5000 warm >"$work/o" 2>&1 || fail_with "one after a kill" "$work/o"
e=$(field elapsed-us "$work/o")
check "a newcomer after it has the device to itself (${e:-?} us = 5000)" test "${e:-0}" = 5000
check "... because it freed the dead process's context" grep -q "sched: freed 1 context(s) of dead processes" "$work/o"

echo "== HIP kernels take turns with CUDA processes on the same device"
fresh_state
"$L" queue 1000 >"$work/q" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q queued "$work/q" && break; sleep 0.01; done
"$P" hip-kernel 0 200 >"$work/h" 2>&1
k=$(awk '/^kernel-ms/ { print $2 }' "$work/h")
check "a HIP kernel behind a CUDA process's queued second takes its turn (${k:-?} ms < 20)" test "${k:-9999}" -lt 20
wait "${pids[-1]}"
fresh_state
"$P" hip-timed 0 5000 >"$work/h" 2>&1
e=$(field elapsed-us "$work/h")
check "hipEventElapsedTime around a 5 ms HIP kernel alone: 5000 us (${e:-?})" test "${e:-0}" = 5000
t0=$(mono_ns)
"$L" load "$t0" $((t0 + 1000000000)) 256 >"$work/bg" 2>&1 &
pids+=($!)
sleep 0.3
"$P" hip-timed 0 5000 >"$work/h" 2>&1
e=$(field elapsed-us "$work/h")
check "... and beside a busy CUDA process, with its slices inside (${e:-?} us >= 9000)" test "${e:-0}" -ge 9000
wait "${pids[-1]}"

echo "== two processes with 256 kernels in flight share the device evenly"
fresh_state
t0=$(mono_ns)
from=$((t0 + 500000000)) until=$((t0 + 2500000000))
"$L" load $from $until 256 >"$work/a" 2>&1 &
pa=$!
"$L" load $from $until 256 >"$work/b" 2>&1 &
pb=$!
pids+=($pa $pb)
wait $pa
wait $pb
ca=$(field completed "$work/a")
cb=$(field completed "$work/b")
# 2 s of 200 us kernels: 10000 of them fill the device.
for x in "a ${ca:-0}" "b ${cb:-0}"; do
    set -- $x
    pct=$(($2 * 100 / 10000))
    check "process $1 completed $2 kernels: ${pct}% of the device (40..60%)" test "$pct" -ge 40 -a "$pct" -le 60
done
check "together they kept the device busy ($((${ca:-0} + ${cb:-0})) >= 9000)" test $((${ca:-0} + ${cb:-0})) -ge 9000
unset GREY_SIM_SCHED

finish "sim-sched tests"
