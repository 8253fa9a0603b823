#!/usr/bin/env bash
# VMM memory released while mapped (make vmm-integration): the programming guide's create →
# map → release pattern, 32 blocks of 64 MiB, for CUDA (prog_vmm_release) and HIP
# (prog_hip_vmm_release). The simulated drivers alone on a 512 MiB device and grey-run --cap
# 512MiB on an 80 GiB one must both stop at the 9th create with the vendor's out of memory,
# and unmapping must give the bytes back. Then memory shared through a file descriptor
# (prog_vmm_share): one process importing its own export cannot free its cap by it, and between
# a creator and an importer the bytes count once for the node, in the creator's cap alone, until
# the last of them lets go (grey-top --json and the simulated device say so from outside).
# Run from the repository root after the build.
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
unset GREY_CAP GREY_PLAN LD_PRELOAD LD_AUDIT
work=$(mktemp -d /tmp/grey-vmmtest.XXXXXX)
export GREY_LEDGER=$work/ledger
export GREY_SIM_STATE=$work/sim   # simulated devices nobody else uses: their counts are ours
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

echo "== shared through a file descriptor"
SHARE=$B/tests/integration/prog_vmm_share
HSHARE=$B/tests/hip/prog_hip_vmm_share
for prog in "$SHARE" "$HSHARE"; do
    name=$(basename "$prog")
    expect_ok "$name self: simulated 512 MiB device, 2 blocks of 256 MiB imported back fit" \
        env GREY_SIM_VRAM=512MiB "$prog" self 256 512
    expect_ok "$name self: grey-run --cap 512MiB, importing its own export frees nothing" \
        env GREY_SIM_VRAM=80GiB "$B/bin/grey-run" --cap 512MiB -- "$prog" self 256 512
done
expect_ok "prog_vmm_share open: grey-run --cap 512MiB, an open exported descriptor keeps it counted until closed" \
    env GREY_SIM_VRAM=80GiB "$B/bin/grey-run" --cap 512MiB -- "$SHARE" open 256 512

# used_mib PID: what the ledger counts for PID on device 0, in MiB (0 when it has no row).
used_mib() {
    "$B/bin/grey-top" --json --ledger "$GREY_LEDGER" |
        jq --argjson pid "$1" '[.processes[] | select(.pid == $pid) | .devices[] | select(.index == 0)
                               | .used_bytes] | add // 0 | . / 1048576 | floor'
}
wait_for_file() { local i; for i in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
export GREY_SIM_VRAM=2GiB
sock=$work/share.sock
"$B/bin/grey-run" --cap 512MiB -- "$SHARE" export "$sock" 256 512 >"$work/creator.out" 2>&1 &
creator=$!
"$B/bin/grey-run" --cap 128MiB -- "$SHARE" import "$sock" 128 >"$work/importer.out" 2>&1 &
importer=$!
if wait_for_file "$sock.held"; then
    cpid=$(pgrep -P "$creator" -f "prog_vmm_share export" | head -n 1)
    ipid=$(pgrep -P "$importer" -f "prog_vmm_share import" | head -n 1)
    rows=$("$B/bin/grey-top" --json --ledger "$GREY_LEDGER" |
           jq --argjson c "${cpid:-0}" --argjson i "${ipid:-0}" '[.processes[] | select(.pid == $c or .pid == $i)] | length')
    [ "$rows" = 2 ] && [ "$(used_mib "$cpid")/$(used_mib "$ipid")" = 256/0 ] &&
        ok "both map it: the creator's ledger row counts 256 MiB, the importer's nothing" ||
        fail "both map it: creator $(used_mib "$cpid") MiB, importer $(used_mib "$ipid") MiB, wanted 256 and 0"
    used=$("$SHARE" used)
    [ "$used" = 256 ] && ok "the simulated device has the 256 MiB in use once, not once per process" ||
        fail "the simulated device has $used MiB in use, wanted 256"
    touch "$sock.go1"
    if wait_for_file "$sock.released"; then
        [ "$(used_mib "$cpid")" = 256 ] && ok "the creator let go, the importer still maps it: still 256 MiB in the creator's row" ||
            fail "after the creator let go: its row counts $(used_mib "$cpid") MiB, wanted 256"
        used=$("$SHARE" used)
        [ "$used" = 256 ] && ok "and the simulated device still has it in use" || fail "the simulated device: $used MiB"
    else
        fail "the creator never let go"
    fi
    touch "$sock.go2"
else
    fail "the creator and the importer never both mapped the memory"
    touch "$sock.go1" "$sock.go2"
fi
wait "$creator"; crc=$?
wait "$importer"; irc=$?
[ $crc = 0 ] && grep -qx ok "$work/creator.out" && ok "creator: counted until nobody held it, its cap refused a create meanwhile" ||
    { fail "creator (exit $crc)"; sed 's/^/      /' "$work/creator.out"; }
[ $irc = 0 ] && grep -qx ok "$work/importer.out" && ok "importer: 256 MiB mapped under a 128 MiB cap, the creator's bytes, still there after it let go" ||
    { fail "importer (exit $irc)"; sed 's/^/      /' "$work/importer.out"; }
used=$("$SHARE" used)
[ "$used" = 0 ] && ok "nobody holds it: the simulated device has it back" || fail "the simulated device still has $used MiB in use"

echo "== HIP: a creator and an importer"
rm -f "$sock".*
touch "$sock.go1" "$sock.go2"
"$B/bin/grey-run" --cap 128MiB -- "$HSHARE" import "$sock" 128 >"$work/importer.out" 2>&1 &
importer=$!
expect_ok "prog_hip_vmm_share: the creator's cap counts it until the importer let go too" \
    "$B/bin/grey-run" --cap 512MiB -- "$HSHARE" export "$sock" 256 512
wait "$importer" && grep -qx ok "$work/importer.out" &&
    ok "prog_hip_vmm_share: the importer maps 256 MiB under a 128 MiB cap, the creator's bytes" ||
    { fail "HIP importer"; sed 's/^/      /' "$work/importer.out"; }

# A creator without the hook: nobody counts the memory but the importer, which pays for it.
rm -f "$sock".*
"$SHARE" export "$sock" 256 2048 >"$work/creator.out" 2>&1 &
creator=$!
"$B/bin/grey-run" --cap 512MiB -- "$SHARE" import "$sock" 512 pays >"$work/importer.out" 2>&1 &
importer=$!
if wait_for_file "$sock.held"; then
    ipid=$(pgrep -P "$importer" -f "prog_vmm_share import" | head -n 1)
    [ "$(used_mib "$ipid")" = 256 ] && ok "a creator without the hook: the importer's ledger row counts the 256 MiB it maps" ||
        fail "a creator without the hook: the importer's row counts $(used_mib "$ipid") MiB, wanted 256"
fi
touch "$sock.go1" "$sock.go2"
wait "$creator"; crc=$?
wait "$importer"; irc=$?
[ $crc = 0 ] && [ $irc = 0 ] && grep -qx ok "$work/importer.out" &&
    ok "and its cap pays until it let go (the simulated device's own count holds for the creator)" ||
    { fail "unhooked creator (exit $crc), hooked importer (exit $irc)"; sed 's/^/      /' "$work/creator.out" "$work/importer.out"; }

finish vmm-integration
