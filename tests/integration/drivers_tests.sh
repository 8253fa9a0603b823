#!/usr/bin/env bash
# The hook on a driver grey's simulator did not shape (tests/bench/work_driver.c, which does real
# work per call) and on the same driver without the capture and event functions: caps hold, a
# job's stderr holds nothing of grey's but grey-run's two lines (no NVML here either), a missing
# function is said at most once (and only with GREY_LOG), fair share falls back to launch counts
# and still splits by weight, and a launch costs no more than on a whole driver. Run by
# `make drivers-integration` (WORK_DRIVER and PARTIAL_DRIVER name the two libcuda.so.1).
set -uo pipefail

root=$(pwd)
B=$root/build
HOOK=$B/lib/libgreyhook.so
HOLD=$B/tests/integration/prog_hold
LOOP=$B/tests/integration/prog_launch_loop
BENCH=$B/tests/bench/bench_hook
WORK_DIR=$(dirname "${WORK_DRIVER:?set WORK_DRIVER}")
PARTIAL_DIR=$(dirname "${PARTIAL_DRIVER:?set PARTIAL_DRIVER}")
unset GREY_PLAN GREY_CAP GREY_LEDGER GREY_LOG GREY_WEIGHT CUDA_VISIBLE_DEVICES
work=$(mktemp -d /tmp/grey-drivers-test.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
MiB=$((1 << 20))
now_ns() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }
# on DIR CMD...: CMD with that driver alone on the library path (no NVML, no simulator)
on() { local dir=$1; shift; env LD_LIBRARY_PATH="$dir" "$@"; }

for dir in "$WORK_DIR" "$PARTIAL_DIR"; do
    name=$(basename "$dir")
    echo "== the $name driver: caps"
    on "$dir" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/$name.ledger" GREY_CAP=512MiB \
        "$HOLD" $((600 * MiB)) "$work/$name.big" "$work/$name.big" 2>"$work/$name.big.err"
    [ "$(cut -d' ' -f1 "$work/$name.big")" = denied ] && ok "$name: 600 MiB under a 512 MiB cap: denied" ||
        fail "$name: 600 MiB under a 512 MiB cap: $(cat "$work/$name.big")"
    on "$dir" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/$name.ledger" GREY_CAP=512MiB \
        "$HOLD" $((400 * MiB)) "$work/$name.small" "$work/$name.small" 2>"$work/$name.small.err"
    [ "$(cut -d' ' -f1 "$work/$name.small")" = ok ] && ok "$name: 400 MiB under it: allocated" ||
        fail "$name: 400 MiB: $(cat "$work/$name.small")"
    [ ! -s "$work/$name.big.err" ] && [ ! -s "$work/$name.small.err" ] && ok "$name: the hook said nothing" ||
        { fail "$name: the hook printed"; cat "$work/$name.big.err" "$work/$name.small.err" | sed 's/^/      /'; }

    on "$dir" env GREY_LEDGER="$work/$name.run.ledger" "$B/bin/grey-run" --cap 512MiB -- \
        "$HOLD" $((100 * MiB)) "$work/$name.run" "$work/$name.run" >"$work/$name.run.out" 2>&1
    lines=$(wc -l <"$work/$name.run.out")
    if [ "$lines" = 2 ] && grep -q "^grey: device 0: .* capped at 512.0 MiB" "$work/$name.run.out" &&
        grep -q "^grey: peak 100.0 MiB of 512.0 MiB" "$work/$name.run.out"; then
        ok "$name, no NVML: grey-run's banner and summary are the only lines"
    else
        fail "$name, no NVML: the job's output:"; sed 's/^/      /' "$work/$name.run.out"
    fi
done

echo "== a driver without cuStreamIsCapturing and the event functions: 1 million launches"
start=$(now_ns)
on "$PARTIAL_DIR" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/loop.ledger" \
    "$LOOP" 0 $((start + 60000000000)) 1000000 >"$work/loop.out" 2>"$work/loop.err"
grep -q "^launched 1000000 " "$work/loop.out" && ok "1 000 000 launches went through" ||
    fail "launches: $(cat "$work/loop.out")"
[ ! -s "$work/loop.err" ] && ok "and the hook printed nothing" ||
    { fail "the hook printed $(wc -l <"$work/loop.err") lines"; head -3 "$work/loop.err" | sed 's/^/      /'; }
on "$PARTIAL_DIR" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/loop.ledger" GREY_LOG=1 \
    "$LOOP" 0 $((start + 60000000000)) 1000000 >"$work/loop.out" 2>"$work/loop.log"
said=$(grep -c "fair share counts launches instead of measuring device time" "$work/loop.log")
[ "$said" = 1 ] && ok "with GREY_LOG: the fallback to launch counts is said once" ||
    fail "with GREY_LOG: the fallback said $said times"
repeated=""
for fn in cuStreamIsCapturing cuEventCreate cuEventRecord cuEventQuery cuEventElapsedTime cuEventDestroy_v2 \
          cuThreadExchangeStreamCaptureMode; do
    n=$(grep -c "$fn" "$work/loop.log")
    [ "$n" -le 1 ] || repeated="$repeated $fn ($n times)"
done
[ -z "$repeated" ] && ok "with GREY_LOG: no missing function is named more than once" ||
    fail "with GREY_LOG: named more than once:$repeated"

echo "== fair share by launch counts: weights 3 and 1 on the partial driver, 2 s"
t0=$(now_ns)
from=$((t0 + 1000000000)) until=$((t0 + 3000000000))
for w in 3 1; do
    on "$PARTIAL_DIR" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/fair.ledger" GREY_WEIGHT=$w \
        "$LOOP" $from $until >"$work/fair$w.out" 2>"$work/fair$w.err" &
    pids+=($!)
done
wait
c3=$(sed -n 's/.* counted \([0-9]*\)$/\1/p' "$work/fair3.out")
c1=$(sed -n 's/.* counted \([0-9]*\)$/\1/p' "$work/fair1.out")
if [ -n "$c3" ] && [ -n "$c1" ] && [ "$c1" -gt 0 ] &&
    python3 -c "import sys; r = $c3 / $c1; sys.exit(0 if abs(r - 3) <= 0.3 else 1)"; then
    ok "launches in the last 2 s: $c3 : $c1 = $(python3 -c "print(f'{$c3 / $c1:.2f}')") : 1 (3 : 1 +-10%)"
else
    fail "launches in the last 2 s: ${c3:-?} : ${c1:-?} (wanted 3 : 1 +-10%)"
    cat "$work/fair3.err" "$work/fair1.err" | head -5 | sed 's/^/      /'
fi

echo "== a million launches with the hook on the partial driver (bench_hook; its cost: make bench)"
on "$PARTIAL_DIR" env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/bench.ledger" "$BENCH" 1000 1000000 \
    >"$work/hooked.json" 2>"$work/bench.err"
launch=$(python3 -c "import json; print(json.load(open('$work/hooked.json')).get('launch_ns', ''))" 2>/dev/null)
[ -n "$launch" ] && [ ! -s "$work/bench.err" ] &&
    ok "they run (${launch} ns each, timed by make bench against its goal), and nothing is printed" ||
    { fail "the launches on the partial driver: ${launch:-no result}"; head -3 "$work/bench.err" | sed 's/^/      /'; }

echo "== grey-run when the dynamic linker stops the job (a program that needs the event functions)"
FAIR=$B/tests/fairshare/fair_load
on "$PARTIAL_DIR" env GREY_LEDGER="$work/lazy.ledger" "$B/bin/grey-run" -- "$FAIR" --from 0 --until 1 \
    >"$work/lazy.out" 2>&1
rc=$?
[ $rc = 127 ] && grep -q "symbol lookup error" "$work/lazy.out" &&
    grep -q "was stopped with status 127 (by the dynamic linker: a symbol lookup error" "$work/lazy.out" &&
    ! grep -q "did not load libgreyhook.so" "$work/lazy.out" &&
    ok "a symbol lookup error at the first call: grey-run says the linker stopped it, not that the hook was missing" ||
    { fail "symbol lookup error at the call (exit $rc)"; sed 's/^/      /' "$work/lazy.out"; }
on "$PARTIAL_DIR" env LD_BIND_NOW=1 GREY_LEDGER="$work/lazy.ledger" "$B/bin/grey-run" -- "$FAIR" --from 0 --until 1 \
    >"$work/now.out" 2>&1
rc=$?
[ $rc = 127 ] && grep -q "ended with status 127 before any of its code ran" "$work/now.out" &&
    ! grep -q "never loaded libgreyhook.so" "$work/now.out" &&
    ok "one at load (LD_BIND_NOW=1): grey-run says the program was refused before it ran" ||
    { fail "symbol lookup error at load (exit $rc)"; sed 's/^/      /' "$work/now.out"; }

finish drivers-integration
