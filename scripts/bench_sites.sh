#!/usr/bin/env bash
# make bench-sites: what the buffer tracker adds to an alloc/free pair, call-site capture at each
# depth, and (for comparison) a --dedup run; then 16-frame capture from 1, 1000 and 100 000
# distinct stacks (more than the call-site table holds: the last figure is a full table's), and
# the default hook's pair with 1, 1000 and 100 000 buffers live (the tracker's size).
#
# Measured against a driver that does nothing (tests/bench/null_driver.c): on the simulated
# driver an allocation is an mmap whose cost swings by hundreds of nanoseconds between runs, so
# the hook's own tens of nanoseconds cannot be read there (make bench gives those figures).
# The same program (tests/bench/bench_hook) runs without the hook and with it under each
# setting, interleaved round by round; each figure is the best of ROUNDS rounds (each itself the
# best of 7 inside the program). Prints a table and writes build/bench-sites.json.
set -euo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/bench/null${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_CONTEXT_OVERHEAD=0   # the null driver has no NVML to measure a context with
work=$(mktemp -d /tmp/grey-bench-sites.XXXXXX)
trap 'rm -rf "$work"' EXIT
pairs=${BENCH_PAIRS:-500000}
rounds=${BENCH_ROUNDS:-3}

# name|environment (empty name: without the hook)
configs=(
    "no hook|"
    "sites off (GREY_TRACK_SITES=0)|GREY_TRACK_SITES=0"
    "default (4 frames)|"
    "2 frames|GREY_STACK_DEPTH=2"
    "8 frames|GREY_STACK_DEPTH=8"
    "16 frames|GREY_STACK_DEPTH=16"
    "--dedup (16 frames, fingerprints on)|GREY_DEDUP=1 GREY_DEDUP_INTERVAL=0"
)
stacks=(1 1000 100000)   # distinct call stacks, pair i made from stack i % n
lives=(1 1000 100000)    # buffers live during a pair, its own included

echo "bench-sites: $pairs alloc/free pairs per round on a driver that does nothing, best of $rounds rounds" >&2
for r in $(seq "$rounds"); do
    for i in "${!configs[@]}"; do
        name=${configs[$i]%%|*}
        envs=${configs[$i]#*|}
        hook=()
        # shellcheck disable=SC2206
        [ "$name" = "no hook" ] || hook=(env $envs GREY_DIR="$work/grey" LD_PRELOAD="$B/lib/libgreyhook.so"
                                         GREY_LEDGER="$work/ledger" GREY_CAP=64GiB)
        # shallow: straight from main's loop; deep: 24 calls further down, as in a framework
        "${hook[@]}" "$B/tests/bench/bench_hook" "$pairs" 1000 >"$work/$i.$r.shallow.json" 2>/dev/null
        "${hook[@]}" "$B/tests/bench/bench_sites" "$pairs" 24 >"$work/$i.$r.deep.json" 2>/dev/null
    done
    for n in "${stacks[@]}"; do
        "$B/tests/bench/bench_sites" "$pairs" 24 "$n" >"$work/stacks.plain.$n.$r.json" 2>/dev/null
        env GREY_STACK_DEPTH=16 GREY_DIR="$work/grey" LD_PRELOAD="$B/lib/libgreyhook.so" GREY_LEDGER="$work/ledger" \
            GREY_CAP=64GiB "$B/tests/bench/bench_sites" "$pairs" 24 "$n" >"$work/stacks.hook.$n.$r.json" 2>/dev/null
    done
    for n in "${lives[@]}"; do
        "$B/tests/bench/bench_hook" "$pairs" 1000 "$n" >"$work/live.plain.$n.$r.json" 2>/dev/null
        env GREY_DIR="$work/grey" LD_PRELOAD="$B/lib/libgreyhook.so" GREY_LEDGER="$work/ledger" GREY_CAP=64GiB \
            "$B/tests/bench/bench_hook" "$pairs" 1000 "$n" >"$work/live.hook.$n.$r.json" 2>/dev/null
    done
done

python3 - "$work" "$B/bench-sites.json" "$rounds" "${stacks[*]}" "${lives[*]}" "${configs[@]}" <<'PY'
import json, sys
work, out, rounds, stacks, lives, configs = (sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(),
                                             sys.argv[5].split(), sys.argv[6:])
names = [c.split("|", 1)[0] for c in configs]
def best(i, kind):
    return min(json.load(open(f"{work}/{i}.{r}.{kind}.json"))["alloc_free_pair_ns"] for r in range(1, rounds + 1))
kinds = [("shallow", "shallow stack"), ("deep", "24 frames deep")]
base = {k: best(0, k) for k, _ in kinds}
result = {}
print(f"{'alloc/free pair, hook added':40} {'shallow stack':>14} {'24 frames deep':>15}")
for i, name in enumerate(names):
    row, line = {}, f"{name:40}"
    for k, _ in kinds:
        v = best(i, k)
        row[k] = {"ns": round(v, 1), "added_ns": round(v - base[k], 1)}
        line += f" {v - base[k]:11.1f} ns" if i else f" {v:8.1f} ns/pair"
    result[name] = row
    print(line)
def best_file(pattern):
    return min(json.load(open(pattern.format(r=r)))["alloc_free_pair_ns"] for r in range(1, rounds + 1))
def table(title, key, counts, kind):
    print(f"{title:40}" + "".join(f" {n:>11}" for n in counts))
    line = f"{'hook added per pair':40}"
    result[key] = {}
    for n in counts:
        plain = best_file(f"{work}/{kind}.plain.{n}.{{r}}.json")
        hooked = best_file(f"{work}/{kind}.hook.{n}.{{r}}.json")
        result[key][n] = {"ns": round(hooked, 1), "added_ns": round(hooked - plain, 1)}
        line += f" {hooked - plain:8.1f} ns"
    print(line)
table("16 frames, 24 deep, distinct stacks", "distinct stacks, 16 frames", stacks, "stacks")
table("default, shallow, buffers live", "buffers live, default", lives, "live")
json.dump(result, open(out, "w"), indent=2)
print(f"(goal: at most 200 ns added by the hook without --dedup; written to {out})")
PY
