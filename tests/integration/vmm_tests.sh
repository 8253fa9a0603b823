#!/usr/bin/env bash
# VMM memory released while mapped (make vmm-integration): the programming guide's create →
# map → release pattern, 32 blocks of 64 MiB, for CUDA (prog_vmm_release) and HIP
# (prog_hip_vmm_release). The simulated drivers alone on a 512 MiB device and grey-run --cap
# 512MiB on an 80 GiB one must both stop at the 9th create with the vendor's out of memory,
# and unmapping must give the bytes back. Run from the repository root after the build.
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
work=$(mktemp -d /tmp/grey-vmmtest.XXXXXX)
export GREY_LEDGER=$work/ledger
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# expect_ok NAME CMD...: CMD exits 0 (each program checks its own expectations).
expect_ok() {
    local name=$1; shift
    if "$@" >"$work/out" 2>&1; then ok "$name"; else fail "$name (exit $?)"; sed 's/^/      /' "$work/out"; fi
}

for prog in "$B/tests/integration/prog_vmm_release" "$B/tests/hip/prog_hip_vmm_release"; do
    name=$(basename "$prog")
    expect_ok "$name: simulated 512 MiB device, 8 blocks stay live after release" \
        env GREY_SIM_VRAM=512MiB "$prog" 8
    expect_ok "$name: grey-run --cap 512MiB, 8 blocks counted until unmapped" \
        env GREY_SIM_VRAM=80GiB "$B/bin/grey-run" --cap 512MiB -- "$prog" 8
    # Without a cap nothing stops the 32 blocks, and the 33rd create is not attempted: the
    # program then sees no out-of-memory and must say so (its checks can fail).
    if env GREY_SIM_VRAM=80GiB "$B/bin/grey-run" -- "$prog" 8 >"$work/out" 2>&1; then
        fail "$name: uncapped run claimed only 8 blocks fit"
    else
        grep -q "mapped and released: 32 of 32" "$work/out" && ok "$name: uncapped, all 32 blocks map" ||
            { fail "$name: uncapped run"; sed 's/^/      /' "$work/out"; }
    fi
done

finish vmm-integration
