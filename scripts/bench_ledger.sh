#!/usr/bin/env bash
# make bench-ledger: admission cost (quota_reserve + quota_commit + quota_free) with 1, 8 and 32
# processes sharing one ledger and one device budget. Prints a table and writes
# build/bench-ledger.json.
set -euo pipefail
B=$(pwd)/build
work=$(mktemp -d /tmp/grey-bench-ledger.XXXXXX)
trap 'rm -rf "$work"' EXIT
total=${BENCH_LEDGER_OPS:-4000000}   # admissions per run, split between the processes

echo "bench-ledger: $total admissions per run split between the processes, median of 5 rounds;" \
     "$(nproc) CPUs" >&2
printf '%-10s %18s %24s\n' processes "CPU ns/admission" "admissions/s, all of them"
json="["
for n in 1 8 32; do
    rm -f "$work/ledger"
    read -r procs cpu mops < <("$B/tests/bench/bench_ledger" "$work/ledger" "$n" $((total / n)))
    printf '%-10s %18s %22s M\n' "$procs" "$cpu" "$mops"
    json+="{\"processes\": $procs, \"cpu_ns_per_admission\": $cpu, \"million_admissions_per_s\": $mops},"
done
echo "${json%,}]" >"$B/bench-ledger.json"
echo "(written to $B/bench-ledger.json)"
