#!/usr/bin/env bash
# HIP integration tests (make hip-integration): real processes, the real hook, the simulated HIP
# runtime (build/sim/libamdhip64.so.5). Run from the repository root after `make`.
set -uo pipefail

root=$(pwd)
B=$root/build
T=$B/tests/hip
HOOK=$B/lib/libgreyhook.so
FIX=$root/tests/fixtures/amd
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=${GREY_SIM_VRAM:-80GiB}
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
work=$(mktemp -d /tmp/grey-hiptest.XXXXXX)
export GREY_LEDGER=$work/ledger      # keep the tests off the user's own ledger
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

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
# expect_only LINE NAME: the last command printed exactly LINE and nothing else (stderr included).
expect_only() {
    if [ "$(cat "$work/out")" = "$1" ]; then ok "$2"; else fail "$2 (output is not just '$1')"; sed 's/^/      /' "$work/out"; fi
}

MiB=$((1 << 20))
CAP=$((512 * MiB))
FAMILIES="malloc extmalloc managed pitch malloc3d async frompool vmm array arraycreate"
PATHS="linked dlsym dlvsym procaddr procaddr_spt"
SUMMARY='peak 400.0 MiB of 512.0 MiB on GPU 0 \(GPU-[0-9a-fA-F]{8}\); 9 allocations denied \(largest 200.0 MiB\)'

echo "== the simulated HIP runtime on its own"
for family in $FAMILIES; do
    expect_rc 0 "$family: uncapped, all ten 200 MiB blocks, hipMemcpy round trip" -- \
        "$T/prog_hip_families" $family linked 0
    expect_rc 0 "$family: a 512 MiB device gives two, then the runtime's own hipErrorOutOfMemory" -- \
        env GREY_SIM_VRAM=512MiB "$T/prog_hip_families" $family linked $CAP
done
expect_rc 1 "a malformed GREY_SIM_VRAM fails initialization" -- \
    env GREY_SIM_VRAM=12XB "$T/prog_hip_families" malloc linked 0
expect_out "simgpu: GREY_SIM_VRAM: .*XB" "the runtime names the bad setting"

echo "== caps through every HIP family and every way of reaching the runtime (LD_PRELOAD)"
for family in $FAMILIES; do
    for path in $PATHS; do
        expect_rc 0 "$family/$path: uncapped, all ten blocks" -- "$T/prog_hip_families" $family $path 0
        expect_rc 0 "$family/$path: grey-run --cap 512MiB gives exactly two" -- \
            "$B/bin/grey-run" --cap 512MiB -- "$T/prog_hip_families" $family $path $CAP
        expect_out "$SUMMARY" "$family/$path: end summary"
    done
done
for path in $PATHS; do
    expect_rc 0 "vmm/$path: ROCm 5.x's hipMemAllocationProp layout (GREY_SIM_HIP_VERSION=50200000)" -- \
        env GREY_SIM_HIP_VERSION=50200000 "$B/bin/grey-run" --quiet --cap 512MiB -- \
        "$T/prog_hip_families" vmm $path $CAP
done
for family in managed extmalloc; do
    expect_rc 0 "$family re-enters the exported hipMalloc inside the runtime: counted once" -- \
        env LD_PRELOAD="$HOOK" GREY_CAP=512MiB "$T/prog_hip_direct" $family $CAP
done
# hipMallocManaged allocates through the runtime's exported hipMalloc (tests/simgpu/hip/hsim.h):
# that inner call must never count managed memory by itself, whatever GREY_COUNT_MANAGED says.
expect_rc 0 "managed memory counted once, beside device and stream-ordered memory" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$T/prog_hip_managed" counted $CAP
expect_rc 0 "GREY_COUNT_MANAGED=0: managed memory not counted at all, device and stream-ordered memory still capped" -- \
    env GREY_COUNT_MANAGED=0 "$B/bin/grey-run" --quiet --cap 512MiB -- "$T/prog_hip_managed" uncounted $CAP
for path in $PATHS; do
    expect_rc 0 "managed/$path: GREY_COUNT_MANAGED=0 under a 512 MiB cap gives all ten blocks" -- \
        env GREY_COUNT_MANAGED=0 "$B/bin/grey-run" --quiet --cap 512MiB -- "$T/prog_hip_families" managed $path 0
done
expect_rc 0 "the hook without grey-run (LD_PRELOAD + GREY_CAP), a forked child is its own process" -- \
    env LD_PRELOAD="$HOOK" GREY_CAP=512MiB "$T/prog_hip_direct" malloc $CAP

echo "== LD_AUDIT=libgreyhook.so instead of LD_PRELOAD"
for family in malloc extmalloc managed async; do
    expect_rc 0 "$family: direct calls capped at exactly two, a forked child is its own process" -- \
        env LD_AUDIT="$HOOK" GREY_CAP=512MiB "$T/prog_hip_direct" $family $CAP
done
for family in $FAMILIES; do
    for path in dlsym procaddr procaddr_spt; do
        expect_rc 0 "$family/$path: capped at exactly two under LD_AUDIT" -- \
            env LD_AUDIT="$HOOK" GREY_CAP=512MiB "$T/prog_hip_families" $family $path $CAP
    done
done
for family in alloc managed async vmm; do
    for path in dlsym procaddr procaddr_v2; do
        expect_rc 0 "CUDA $family/$path: capped at exactly two under LD_AUDIT" -- \
            env LD_AUDIT="$HOOK" GREY_CAP=512MiB "$B/tests/integration/prog_families" $family $path $CAP
    done
done
expect_rc 0 "managed memory counted once under LD_AUDIT" -- \
    env LD_AUDIT="$HOOK" GREY_CAP=512MiB "$T/prog_hip_managed" counted $CAP
expect_rc 0 "GREY_COUNT_MANAGED=0 under LD_AUDIT: managed memory not counted" -- \
    env LD_AUDIT="$HOOK" GREY_CAP=512MiB GREY_COUNT_MANAGED=0 "$T/prog_hip_managed" uncounted $CAP
expect_rc 0 "LD_AUDIT and LD_PRELOAD both: counted once" -- \
    env LD_AUDIT="$HOOK" LD_PRELOAD="$HOOK" GREY_CAP=512MiB "$T/prog_hip_direct" malloc $CAP
expect_out "both preloaded and loaded through LD_AUDIT" "the audit copy says it stands aside"

echo "== launches: every HIP launch entry point passes the gate once"
# Run by the program through system(): that shell's $PPID is the program.
count_check="\"$B/bin/grey-top\" --once --json | jq -e '.processes[] | select(.pid == '\$PPID') | .kernel_launches == 9' >/dev/null"
for path in linked dlsym procaddr; do
    expect_rc 0 "$path: eight launches and one refused launch, 9 in the ledger (LD_PRELOAD)" -- \
        env LD_PRELOAD="$HOOK" "$T/prog_hip_launch" $path "$count_check"
done
for path in dlsym procaddr; do
    expect_rc 0 "$path: 9 launches in the ledger (LD_AUDIT)" -- \
        env LD_AUDIT="$HOOK" "$T/prog_hip_launch" $path "$count_check"
done
expect_rc 1 "the launch check can fail: no hook, no ledger slot" -- \
    "$T/prog_hip_launch" linked "$count_check"

echo "== the hook in a process with neither CUDA nor HIP, and in one with both"
expect_rc 0 "neither (LD_PRELOAD): loads cleanly, no vendor API appears, nothing loaded" -- \
    env LD_PRELOAD="$HOOK" "$T/prog_hip_none"
expect_only "prog_hip_none: ok" "neither (LD_PRELOAD): not a word on stderr"
expect_rc 0 "neither (LD_AUDIT)" -- env LD_AUDIT="$HOOK" "$T/prog_hip_none"
expect_only "prog_hip_none: ok" "neither (LD_AUDIT): not a word on stderr"
expect_rc 1 "the neither-check can fail: without the hook it says so" -- "$T/prog_hip_none"
expect_rc 0 "both (grey-run): one cap over CUDA and HIP, each API's own errors and views" -- \
    "$B/bin/grey-run" --quiet --cap 512MiB -- "$T/prog_hip_both"
expect_only "prog_hip_both: ok" "both (grey-run): nothing else printed"
expect_rc 0 "both (LD_AUDIT)" -- env LD_AUDIT="$HOOK" GREY_CAP=512MiB "$T/prog_hip_both"
expect_only "prog_hip_both: ok" "both (LD_AUDIT): nothing else printed"

echo "== AMD GPUs found from amdgpu sysfs and rocm-smi (recorded fixtures)"
# GREY_SIM_DEVICES=0 makes the simulated CUDA driver report no device, as on an AMD machine.
nocuda=(env GREY_SIM_DEVICES=0)
expect_rc 0 "grey-plan detect from sysfs" -- "${nocuda[@]}" GREY_SYSFS_ROOT="$FIX/sysfs" "$B/bin/grey-plan" detect
expect_out '^0 +AMD Instinct MI300X +192.0 GiB +191.0 GiB .*GPU-1f9de0957d137942 +amdgpu sysfs' "MI300X, 192 GiB"
expect_out '^1 +AMD GPU 0x744c +20.0 GiB' "the second AMD card, not the NVIDIA one"
expect_rc 0 "grey-plan detect --json from sysfs" -- \
    sh -c "\"\$@\" | jq -e 'length == 2 and .[0].vram_total_bytes == 206158430208 and .[1].index == 1'" sh \
    "${nocuda[@]}" GREY_SYSFS_ROOT="$FIX/sysfs" "$B/bin/grey-plan" detect --json
expect_rc 0 "grey-plan detect from rocm-smi when sysfs shows none" -- \
    "${nocuda[@]}" GREY_SYSFS_ROOT="$work/none" PATH="$FIX/bin:$PATH" "$B/bin/grey-plan" detect
expect_out '^1 +Radeon RX 7900 XT +20.0 GiB .* rocm-smi' "rocm-smi's cards, in card order"
expect_rc 0 "grey-plan writes a plan for the AMD GPUs" -- \
    "${nocuda[@]}" GREY_SYSFS_ROOT="$FIX/sysfs" "$B/bin/grey-plan" --mode safe --out "$work/amd.conf"
expect_rc 0 "the AMD plan checks" -- "$B/bin/grey-plan" check "$work/amd.conf"
expect_rc 0 "the AMD plan has the MI300X's safe cap (75% of 192 GiB)" -- \
    grep -Eq '^process_cap = 154618822656 ' "$work/amd.conf"
expect_rc 1 "no GPU anywhere: grey-plan says where it looked" -- \
    "${nocuda[@]}" GREY_SYSFS_ROOT="$work/none" PATH=/nonexistent "$B/bin/grey-plan" detect
expect_out "CUDA_ERROR_NO_DEVICE; no AMD GPU in $work/none/class/drm and no rocm-smi" "both reasons"
expect_rc 0 "grey-run's banner for a HIP job on an AMD machine" -- \
    "${nocuda[@]}" GREY_SYSFS_ROOT="$FIX/sysfs" "$B/bin/grey-run" --cap 512MiB -- \
    env GREY_SIM_DEVICES=1 "$T/prog_hip_families" malloc linked $CAP
expect_out 'grey: device 0: (GPU [0-9]+ \(GPU-[0-9a-fA-F]{8}\)|GPU-[0-9a-fA-F]{8}) "AMD Instinct MI300X" capped at 512.0 MiB for this process \(--cap 512MiB\)' \
    "banner names the AMD GPU"
expect_out "$SUMMARY" "and the summary follows"

echo "== the HIP shim under AddressSanitizer + UndefinedBehaviorSanitizer (the hook of mk/asan-hook.mk)"
if [ -z "${ASAN_HOOK:-}" ] || [ ! -f "$ASAN_HOOK" ] || [ -z "${ASAN_RUNTIME:-}" ]; then
    fail "no ASan hook to run (ASAN_HOOK / ASAN_RUNTIME not set: run through make hip-integration)"
else
    asan=(env LD_PRELOAD="$ASAN_RUNTIME:$ASAN_HOOK" ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 GREY_CAP=512MiB)
    for family in $FAMILIES; do
        expect_rc 0 "$family/procaddr_spt: capped at exactly two, no sanitizer report" -- \
            "${asan[@]}" "$T/prog_hip_families" $family procaddr_spt $CAP
    done
    expect_rc 0 "managed re-entering hipMalloc, a forked child, no sanitizer report" -- \
        "${asan[@]}" "$T/prog_hip_direct" managed $CAP
    expect_rc 0 "GREY_COUNT_MANAGED=0: managed memory not counted, no sanitizer report" -- \
        "${asan[@]}" GREY_COUNT_MANAGED=0 "$T/prog_hip_managed" uncounted $CAP
    expect_rc 0 "CUDA and HIP in one process, no sanitizer report" -- "${asan[@]}" "$T/prog_hip_both"
fi

echo
finish hip-integration
