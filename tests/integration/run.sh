#!/usr/bin/env bash
# Integration tests: real processes, the real hook, the simulated driver.
# Run from the repository root after `make` (make integration does both).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=${GREY_SIM_VRAM:-80GiB}
work=$(mktemp -d /tmp/grey-itest.XXXXXX)
export GREY_LEDGER=$work/ledger      # keep the tests off the user's own ledger
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# expect_rc WANT NAME -- CMD...: runs CMD, output to $work/out, checks its exit status.
expect_rc() {
    local want=$1 name=$2; shift 3
    "$@" >"$work/out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name"; else fail "$name (exit $rc, wanted $want)"; sed 's/^/      /' "$work/out"; fi
}
# expect_out PATTERN NAME: the last command's output matches the extended regex.
expect_out() {
    if grep -Eq -- "$1" "$work/out"; then ok "$2"; else fail "$2 (no '$1' in output)"; sed 's/^/      /' "$work/out"; fi
}
expect_no_out() {
    if grep -Eq -- "$1" "$work/out"; then fail "$2 ('$1' in output)"; sed 's/^/      /' "$work/out"; else ok "$2"; fi
}

MiB=$((1 << 20))
CAP=$((512 * MiB))

echo "== the layer rule (scripts/check-layers.sh)"
expect_rc 0 "this tree keeps the layers" -- bash scripts/check-layers.sh
mkdir -p "$work/layers/policy" "$work/layers/core" "$work/layers/shim"
printf '#include "core/self.h"\n' >"$work/layers/policy/up.c"
printf '#include <cuda.h>\n' >"$work/layers/core/vendor.c"
printf 'void *f(void) { return grey_hip_real(0, "hipMalloc"); }\n' >"$work/layers/shim/hip_x.c"
expect_rc 1 "an upward include fails the build" -- bash scripts/check-layers.sh "$work/layers"
expect_out 'policy/up.c includes "core/self.h"' "the message names the file and the include"
expect_out 'core/vendor.c includes a vendor header' "a vendor header below the shims is refused"
expect_out 'shim/hip_x.c:1: .*grey_hip_call' "a HIP call around the re-entry guard is refused"

echo "== simulated driver"
expect_rc 0 "simulated driver behaves like the driver API" -- "$B/tests/integration/prog_sim_driver"
expect_rc 0 "the calls the runtime and libraries need behave as documented" -- "$B/tests/integration/prog_sim_calls"

echo "== caps through every allocation family and every way of reaching the driver"
FAMILIES=${GREY_TEST_FAMILIES:-"alloc pitch managed async frompool vmm array array3d mipmap"}
for family in $FAMILIES; do
    for path in linked dlsym procaddr procaddr_v2; do
        expect_rc 0 "$family/$path: uncapped, all ten 200 MiB blocks" -- \
            "$B/tests/integration/prog_families" $family $path 0
        expect_rc 0 "$family/$path: grey-run --cap 512MiB gives exactly two" -- \
            "$B/bin/grey-run" --cap 512MiB -- "$B/tests/integration/prog_families" $family $path $CAP
        expect_out 'peak 400.0 MiB of 512.0 MiB on GPU 0 \(GPU-[0-9a-fA-F]{8}\); 9 allocations denied \(largest 200.0 MiB\)' \
            "$family/$path: end summary"
    done
done
# The CUDA 2.x forms (32-bit pointers: at most the low 2 GiB of address space, so capped runs only).
for family in alloc pitch array array3d; do
    for path in v1dlsym v1procaddr; do
        expect_rc 0 "$family/$path (the CUDA 2.x form): grey-run --cap 512MiB gives exactly two" -- \
            "$B/bin/grey-run" --cap 512MiB -- "$B/tests/integration/prog_families" $family $path $CAP
        expect_out 'peak 400.0 MiB of 512.0 MiB on GPU 0 \(GPU-[0-9a-fA-F]{8}\); 9 allocations denied \(largest 200.0 MiB\)' \
            "$family/$path: end summary"
    done
done
expect_out 'device 0: GPU 0 \(GPU-[0-9a-fA-F]{8}\) ".*" capped at 512.0 MiB for this process \(--cap 512MiB\)' "start banner"
for path in linked dlsym procaddr procaddr_v2 v1dlsym v1procaddr; do
    expect_rc 0 "$path: hook without grey-run (LD_PRELOAD + GREY_CAP)" -- \
        env LD_PRELOAD="$B/lib/libgreyhook.so" GREY_CAP=512MiB "$B/tests/integration/prog_families" alloc $path $CAP
done

echo "== accounting over time"
expect_rc 0 "a pool's cached memory counts until reused, trimmed or released" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" pool-cache $CAP
expect_rc 0 "destroyed and reset contexts give their memory back" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" context $CAP
for cap_mib in 512 1024; do
    expect_rc 0 "a context's own memory counts (GREY_CONTEXT_OVERHEAD=300MiB, cap ${cap_mib}MiB)" -- \
        env GREY_CONTEXT_OVERHEAD=300MiB "$B/bin/grey-run" --quiet --cap ${cap_mib}MiB -- \
        "$B/tests/integration/prog_accounting" context-cost $((cap_mib * MiB))
done
expect_rc 0 "graph memory nodes count when the graph launches (by hand and captured)" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" graph $CAP
churn="$B/tests/integration/prog_graph_churn"
expect_rc 0 "10 000 graphs with memory nodes, 1500 at a time: exact counts after every batch, zero at the end" -- \
    env GREY_LOG=1 "$B/bin/grey-run" --quiet --cap 512MiB -- "$churn" churn 10000 $CAP
# The hook's own count (GREY_LOG, at exit): a launch's lookup walks one bucket's chain, whatever
# number of graphs came and went before it.
expect_out 'graph memory: 10000 executable graphs with memory nodes, at most 1500 at once, 0 left, lookups walk at most [1-9] records' \
    "the hook's graph table: every record gone at the end, lookups walk a handful of records"
grep '^benchmark:' "$work/out" | sed 's/^/      /'
expect_rc 0 "a graph of 20 000 allocation nodes launches on a 256 KiB stack, and is refused whole when it does not fit" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$churn" huge 20000 $CAP
expect_rc 0 "a graph on two devices: admitted device by device, refused whole when one has no room" -- \
    env GREY_SIM_DEVICES=2 "$B/bin/grey-run" --cap 512MiB -- "$churn" devices 0 $CAP
expect_out 'peak 300.0 MiB of 512.0 MiB on GPU 1 .*; 1 allocation denied \(largest 600.0 MiB\)' \
    "the refused launch's denial is its allocations' sum on the device that had no room"
expect_rc 0 "graphs made and destroyed while another thread launches graphs: zero at the end" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$churn" race 10000 $CAP
expect_rc 0 "100k random allocations and frees across all families end at exactly zero" -- \
    "$B/bin/grey-run" --quiet --cap 2GiB -- "$B/tests/integration/prog_accounting" random 100000 $((2048 * MiB)) 7
expect_out "prog_accounting random: ok" "random run completed"
expect_rc 0 "GREY_COUNT_MANAGED=0 leaves managed memory uncounted" -- \
    env LD_PRELOAD="$B/lib/libgreyhook.so" GREY_CAP=512MiB GREY_COUNT_MANAGED=0 \
    "$B/tests/integration/prog_families" managed linked 0

echo "== NVML inside a capped job"
expect_rc 0 "nvidia-smi's view: the cap, the job's processes and their bytes" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_nvml" $CAP

echo "== plans"
expect_rc 0 "grey-plan writes a plan with --cap" -- "$B/bin/grey-plan" --cap 512MiB --out "$work/plan.conf"
expect_rc 0 "grey-run --plan caps at the plan's process_cap" -- \
    "$B/bin/grey-run" --plan "$work/plan.conf" -- "$B/tests/integration/prog_families" alloc linked $CAP
expect_out "capped at 512.0 MiB for this process \(plan $work/plan.conf" "banner names the plan"
expect_rc 0 "the hook reads GREY_PLAN itself" -- \
    env LD_PRELOAD="$B/lib/libgreyhook.so" GREY_PLAN="$work/plan.conf" "$B/tests/integration/prog_families" alloc dlsym $CAP
# A --plan file is a user's plan even when root wrote it (only the admin path holds admin plans,
# see tests/integration/ledger_tests.sh), so --cap replaces its cap.
expect_rc 0 "--cap overrides the plan" -- \
    "$B/bin/grey-run" --plan "$work/plan.conf" --cap 1GiB -- "$B/tests/integration/prog_families" alloc linked $((1024 * MiB))
printf 'grey-plan-version = 1\n[device 0]\nbudget = 1GiB\nprocess_cap = 12XB\n' >"$work/bad.conf"
expect_rc 1 "the hook fails closed on a malformed GREY_PLAN" -- \
    env LD_PRELOAD="$B/lib/libgreyhook.so" GREY_PLAN="$work/bad.conf" "$B/tests/integration/prog_families" alloc linked 1
expect_out "bad.conf:4: .*12XB.*denying every GPU allocation" "the hook names the file and line"
expect_rc 0 "grey-plan command tests (tests/integration/plan_tests.sh)" -- bash tests/integration/plan_tests.sh

echo "== grey-run refuses bad input before the job starts"
marker=$work/started
for args in "--cap 12XB" "--cap -1G" "--cap 0" "--frobnicate" "--plan $work/missing.conf" "--plan $work/bad.conf" "--cap"; do
    rm -f "$marker"
    # shellcheck disable=SC2086
    expect_rc 125 "grey-run $args: refused" -- "$B/bin/grey-run" $args -- touch "$marker"
    if [ -e "$marker" ]; then fail "grey-run $args: the job ran anyway"; else ok "grey-run $args: job not started"; fi
done
expect_rc 125 "grey-run --plan bad.conf" -- "$B/bin/grey-run" --plan "$work/bad.conf" -- true
expect_out "bad.conf:4:" "grey-run names the plan's bad line"
expect_rc 125 "grey-run --cap 12XB" -- "$B/bin/grey-run" --cap 12XB -- true
expect_out "--cap: unknown unit 'XB' in '12XB'" "grey-run names the bad unit"
expect_rc 125 "grey-run with no command" -- "$B/bin/grey-run" --cap 1GiB
expect_rc 127 "grey-run with a missing command" -- "$B/bin/grey-run" -- /nonexistent/program
expect_rc 0 "grey-run --help" -- "$B/bin/grey-run" --help
expect_out "usage: grey-run" "--help prints usage"
expect_rc 0 "a cap above the device is clamped" -- \
    env GREY_SIM_VRAM=1GiB "$B/bin/grey-run" --cap 4GiB -- "$B/tests/integration/prog_families" alloc linked $((1024 * MiB))
expect_out "warning: the cap 4.0 GiB is more than GPU 0 \\(GPU-[0-9a-fA-F]{8}\\)'s 1.0 GiB" "clamp warning"
expect_out "of 1.0 GiB on GPU 0" "the summary shows the clamped cap, the one enforced"
# Enforced by the hook at the clamped cap: 3 GiB on a 2 GiB device never reaches the driver (a
# denial grey counts is grey's, the driver's own out of memory is not counted).
expect_rc 3 "--cap 4GiB on a 2 GiB device: 3 GiB refused by the hook" -- \
    env GREY_SIM_VRAM=2GiB "$B/bin/grey-run" --cap 4GiB -- "$B/tests/integration/prog_hold" $((3072 * MiB)) \
    "$work/clamp.status" "$work/clamp.status"
expect_out "peak 0 B of 2.0 GiB on GPU 0 \(GPU-[0-9a-fA-F]{8}\); 1 allocation denied \(largest 3.0 GiB\)" \
    "the summary counts the hook's denial against the clamped 2.0 GiB"
grep -q '^denied ' "$work/clamp.status" && ok "the job saw CUDA_ERROR_OUT_OF_MEMORY" || fail "the job saw: $(cat "$work/clamp.status")"

echo "== grey-run passes the job's status and signals through"
expect_rc 7 "exit status" -- "$B/bin/grey-run" --quiet -- sh -c 'exit 7'
expect_rc 143 "death by SIGTERM is 128+15" -- "$B/bin/grey-run" --quiet -- sh -c 'kill -TERM $$'
"$B/bin/grey-run" --quiet -- sleep 30 >"$work/out" 2>&1 &
runner=$!
sleep 0.5
kill -TERM $runner
start=$(date +%s)
wait $runner
rc=$?
if [ $rc -eq 143 ] && [ $(( $(date +%s) - start )) -lt 5 ]; then ok "SIGTERM to grey-run reaches the job"; else fail "SIGTERM forwarding (exit $rc)"; fi

echo "== a job that never loads the hook is reported loudly"
expect_rc 0 "a static program" -- "$B/bin/grey-run" --cap 1GiB -- "$B/tests/integration/static_true"
expect_out "WARNING: the job never loaded libgreyhook.so.*NO GPU limit was enforced" "never-loaded warning"
expect_rc 0 "a job that execs with LD_PRELOAD cleared" -- "$B/bin/grey-run" --cap 1GiB -- env -u LD_PRELOAD true
expect_out "WARNING: the job's process [0-9]+ ran a program that did not load libgreyhook.so" "cleared-environment warning"
# dash leaves through _exit (no destructor runs), so its slot stays ACTIVE; its name at the end is
# still its own program's, so it is no exec into one without the hook.
expect_rc 0 "a /bin/sh job (dash leaves through _exit)" -- "$B/bin/grey-run" --cap 1GiB -- /bin/sh -c 'true'
expect_no_out "did not load libgreyhook.so" "no false warning for a shell that leaves through _exit"
expect_rc 0 "a shell that execs a program with LD_PRELOAD cleared" -- \
    "$B/bin/grey-run" --cap 1GiB -- /bin/sh -c 'exec env -u LD_PRELOAD true'
expect_out "WARNING: the job's process [0-9]+ ran a program that did not load libgreyhook.so" \
    "the exec after the shell is still caught"
expect_rc 0 "job that loads the hook but makes no GPU call" -- "$B/bin/grey-run" --cap 1GiB -- true
expect_out "made no GPU calls through the hook" "no-GPU-call note"
expect_no_out "never loaded" "no false never-loaded warning"
expect_rc 0 "existing LD_PRELOAD is kept" -- \
    env LD_PRELOAD=libm.so.6 "$B/bin/grey-run" --quiet -- sh -c 'case "$LD_PRELOAD" in libm.so.6:*libgreyhook.so) exit 0;; *) echo "$LD_PRELOAD"; exit 1;; esac'

echo "== the hook's exports"
extra=$(nm -D --defined-only "$B/lib/libgreyhook.so" | awk '{print $3}' | grep -Ev '^(cu[A-Z][A-Za-z0-9_]*|nvml[A-Z][A-Za-z0-9_]*|hip[A-Z][A-Za-z0-9_]*|dlsym|dlvsym|la_(version|objopen|preinit|symbind64))$' || true)
if [ -z "$extra" ]; then ok "libgreyhook.so exports only the intercepted API"; else fail "extra exports: $extra"; fi
for sym in cuMemAlloc_v2 cuMemFree_v2 cuMemGetInfo_v2 cuDeviceTotalMem_v2 cuGetProcAddress cuGetProcAddress_v2 dlsym \
           hipMalloc hipFree hipMemGetInfo hipGetProcAddress la_version la_objopen la_symbind64; do
    if nm -D --defined-only "$B/lib/libgreyhook.so" | awk '{print $3}' | grep -qx "$sym"; then ok "exports $sym"; else fail "does not export $sym"; fi
done
# shellcheck disable=SC2046
expect_rc 0 "every exported function is what dlsym hands out (one table serves all paths)" -- \
    env LD_PRELOAD="$B/lib/libgreyhook.so" "$B/tests/integration/prog_dlsym_table" \
    $(nm -D --defined-only "$B/lib/libgreyhook.so" | awk '{print $3}')
needed=$(readelf -d "$B/lib/libgreyhook.so" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | grep -Ev '^(libc|libdl|libpthread|libunwind)\.so' || true)
if [ -z "$needed" ]; then ok "the hook links only libc/libdl/libpthread"; else fail "the hook needs $needed"; fi

echo "== make install"
expect_rc 0 "make install PREFIX=..." -- make -s install PREFIX="$work/prefix"
expect_rc 0 "the installed grey-run finds the installed hook" -- \
    "$work/prefix/bin/grey-run" --cap 512MiB -- "$B/tests/integration/prog_families" alloc linked $CAP
expect_out "peak 400.0 MiB of 512.0 MiB on GPU 0 \\(GPU-[0-9a-fA-F]{8}\\)" "installed grey-run enforces the cap"

echo "== demo job"
expect_rc 0 "demo training job under grey-run" -- "$B/bin/grey-run" --cap 2GiB -- "$B/tests/demo/train" --steps 3
expect_out "peak .* of 2.0 GiB on GPU 0" "demo summary"

echo
finish integration
