#!/usr/bin/env bash
# make bench: what libgreyhook.so adds per call, measured against the same program without the
# hook, on three drivers:
#   sim      the simulated driver, one GPU, and four GPUs of which the process uses one (the CUDA
#            runtime asks every device for its memory; bench_hook does the same)
#   work     tests/bench/work_driver.c, an independent driver that does real work per call
#            (allocation tables, a launch queue): the alloc/free pair with 1, 1000 and 100 000
#            buffers live
#   partial  the same driver without cuStreamIsCapturing and the event functions
# Prints a table and writes build/bench.json. Goals: a pair <= 200 ns added, a launch <= 20 ns.
set -euo pipefail
B=$(pwd)/build
work=$(mktemp -d /tmp/grey-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
pairs=${BENCH_PAIRS:-200000}
launches=${BENCH_LAUNCHES:-2000000}

# run NAME LIBDIR LIVE [VAR=VALUE...]: bench_hook without and with the hook, interleaved twice so
# that slow drift of the machine hits both alike.
run() {
    local name=$1 dir=$2 live=$3; shift 3
    echo "bench: $name" >&2
    for i in 1 2; do
        env LD_LIBRARY_PATH="$dir" "$@" "$B/tests/bench/bench_hook" "$pairs" "$launches" "$live" \
            >"$work/$name.plain$i.json"
        env LD_LIBRARY_PATH="$dir" "$@" LD_PRELOAD="$B/lib/libgreyhook.so" GREY_LEDGER="$work/$name.ledger" \
            GREY_CAP=64GiB GREY_SIM_STATE="$work/sim" \
            "$B/tests/bench/bench_hook" "$pairs" "$launches" "$live" >"$work/$name.hooked$i.json" 2>"$work/$name.err"
        if [ -s "$work/$name.err" ]; then
            echo "bench: the hook printed on $name:" >&2
            head -3 "$work/$name.err" >&2
            exit 1
        fi
    done
}

echo "bench: $pairs alloc/free pairs and $launches launches per round, best of 7 rounds, twice per setup" >&2
run sim "$B/sim" 1 GREY_SIM_STATE="$work/sim"
run sim4 "$B/sim" 1 GREY_SIM_STATE="$work/sim" GREY_SIM_DEVICES=4
# The work driver's kernels take 1 us of device time, 30 times a launch: 2 million launches queue
# 2 s of work, and with its default lead (50 ms, shim/pace_flight.c) the hook holds the program to
# the device's pace, as a full hardware queue would. The hook's own cost is measured with the lead
# off (GREY_MAX_LEAD=0); the default's figure is shown beside it for what it is.
for live in 1 1000 100000; do
    run work$live "$B/bench/work" $live GREY_MAX_LEAD=0
done
run worklead "$B/bench/work" 1
run partial "$B/bench/partial" 1

python3 - "$work" "$B/bench.json" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
def best(name, kind):
    runs = [json.load(open(f"{work}/{name}.{kind}{i}.json")) for i in (1, 2)]
    return {k: min(r[k] for r in runs) for k in runs[0]}
rows = [
    ("simulated driver", "sim", [("alloc/free pair, linked symbols", "alloc_free_pair_ns", 200),
                                 ("alloc/free pair, cuGetProcAddress", "alloc_free_pair_procaddr_ns", 200),
                                 ("cuLaunchKernel, linked symbol", "launch_ns", 20),
                                 ("cuLaunchKernel, cuGetProcAddress", "launch_procaddr_ns", 20)]),
    ("simulated node, 4 GPUs seen, 1 used", "sim4", [("cuLaunchKernel, linked symbol", "launch_ns", 20),
                                                     ("cuLaunchKernel, cuGetProcAddress", "launch_procaddr_ns", 20)]),
    ("work driver, 1 buffer live (lead off)", "work1", [("alloc/free pair", "alloc_free_pair_ns", 200),
                                                        ("cuLaunchKernel", "launch_ns", 20)]),
    ("work driver, default 50 ms lead: launches at the device's pace (1 us a kernel)", "worklead",
     [("cuLaunchKernel", "launch_ns", 0)]),
    ("work driver, 1000 buffers live", "work1000", [("alloc/free pair", "alloc_free_pair_ns", 200)]),
    ("work driver, 100 000 buffers live", "work100000", [("alloc/free pair", "alloc_free_pair_ns", 200)]),
    ("work driver without capture and events", "partial", [("cuLaunchKernel", "launch_ns", 20)]),
]
result = {}
print(f"{'call':40} {'without hook':>13} {'with hook':>11} {'added':>9} {'goal':>7}")
for title, name, calls in rows:
    plain, hooked = best(name, "plain"), best(name, "hooked")
    print(f"-- {title}")
    result[name] = {}
    for label, key, goal in calls:
        added = hooked[key] - plain[key]
        result[name][key] = {"plain_ns": round(plain[key], 1), "hooked_ns": round(hooked[key], 1),
                             "added_ns": round(added, 1), "goal_ns": goal}
        goal_text = f"{goal:4d} ns" if goal else "   -   "
        print(f"   {label:37} {plain[key]:10.1f} ns {hooked[key]:8.1f} ns {added:6.1f} ns {goal_text}")
json.dump(result, open(out, "w"), indent=2)
print(f"(written to {out})")
PY
