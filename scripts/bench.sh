#!/usr/bin/env bash
# make bench: what libgreyhook.so adds per call on the simulated driver, measured in one run
# against the same program without the hook. Prints a table and writes build/bench.json.
set -euo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d /tmp/grey-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
pairs=${BENCH_PAIRS:-200000}
launches=${BENCH_LAUNCHES:-2000000}

echo "bench: $pairs alloc/free pairs and $launches launches per round, best of 7 rounds, twice" >&2
# Interleave plain and hooked runs so that slow drift of the machine hits both alike.
for i in 1 2; do
    "$B/tests/bench/bench_hook" "$pairs" "$launches" >"$work/plain$i.json"
    env LD_PRELOAD="$B/lib/libgreyhook.so" GREY_LEDGER="$work/ledger" GREY_CAP=64GiB \
        "$B/tests/bench/bench_hook" "$pairs" "$launches" >"$work/hooked$i.json"
done

python3 - "$work" "$B/bench.json" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
def best(kind):
    runs = [json.load(open(f"{work}/{kind}{i}.json")) for i in (1, 2)]
    return {k: min(r[k] for r in runs) for k in runs[0]}
plain, hooked = best("plain"), best("hooked")
rows = [("alloc/free pair, linked symbols", "alloc_free_pair_ns", 200),
        ("alloc/free pair, cuGetProcAddress", "alloc_free_pair_procaddr_ns", 200),
        ("cuLaunchKernel, linked symbol", "launch_ns", 20),
        ("cuLaunchKernel, cuGetProcAddress", "launch_procaddr_ns", 20)]
result = {}
print(f"{'call':36} {'without hook':>13} {'with hook':>11} {'added':>9} {'goal':>7}")
for label, key, goal in rows:
    added = hooked[key] - plain[key]
    result[key] = {"plain_ns": round(plain[key], 1), "hooked_ns": round(hooked[key], 1),
                   "added_ns": round(added, 1), "goal_ns": goal}
    print(f"{label:36} {plain[key]:10.1f} ns {hooked[key]:8.1f} ns {added:6.1f} ns {goal:4d} ns")
json.dump(result, open(out, "w"), indent=2)
print(f"(written to {out})")
PY
