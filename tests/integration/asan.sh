#!/usr/bin/env bash
# Integration programs through the ASan+UBSan builds of the hook and grey-run (make
# integration-asan). A sanitizer report makes the program fail (halt_on_error), so every
# check below is also a check that the hook did nothing undefined on that path.
set -uo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d /tmp/grey-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GREY_LEDGER=$work/ledger GREY_HOOK=$B/asan/lib/libgreyhook.so
# The simulated driver is not instrumented and keeps its allocations to the end: leaks are not
# the question here.
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CAP=$((512 << 20))
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

run() {
    local name=$1; shift
    if LD_PRELOAD="$ASAN_RUNTIME" "$@" >"$work/out" 2>&1 && ! grep -q "Sanitizer" "$work/out"; then
        ok "$name"
    else
        fail "$name"; sed 's/^/      /' "$work/out" | tail -40
    fi
}

for family in alloc pitch managed async frompool vmm array mipmap; do
    for path in linked procaddr_v2; do
        run "asan: $family/$path capped" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
            "$B/tests/integration/prog_families" $family $path $CAP
    done
done
run "asan: VMM released while mapped (CUDA)" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_vmm_release" 8
run "asan: VMM released while mapped (HIP)" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/hip/prog_hip_vmm_release" 8
run "asan: VMM imported back by its own creator" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_vmm_share" self 256 512
run "asan: VMM kept by an open exported descriptor" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_vmm_share" open 256 512
# A creator and an importer, both through the instrumented hook, the creator letting go first.
sock=$work/share.sock
touch "$sock.go1" "$sock.go2"
LD_PRELOAD="$ASAN_RUNTIME" "$B/asan/bin/grey-run" --quiet --cap 128MiB -- \
    "$B/tests/integration/prog_vmm_share" import "$sock" 128 >"$work/importer.out" 2>&1 &
importer=$!
run "asan: VMM shared with another process (creator)" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_vmm_share" export "$sock" 256 512
wait "$importer" && grep -qx ok "$work/importer.out" && ! grep -q "Sanitizer" "$work/importer.out" &&
    ok "asan: VMM shared with another process (importer)" ||
    { fail "asan: VMM shared with another process (importer)"; tail -20 "$work/importer.out" | sed 's/^/      /'; }
run "asan: pool cache" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" pool-cache $CAP
run "asan: graphs" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" graph $CAP
run "asan: 10 000 graphs with memory nodes made and destroyed" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_graph_churn" churn 10000 $CAP
run "asan: a 20 000-node graph launched on a 256 KiB stack" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_graph_churn" huge 20000 $CAP
# Launches walking the graph table while records leave it: the use-after-free this catches
# showed in 4 of 5 runs of the old table; 30 000 graphs take about a second.
run "asan: 30 000 graphs destroyed while another thread launches" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- \
    "$B/tests/integration/prog_graph_churn" race 30000 $CAP
run "asan: contexts" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_accounting" context $CAP
run "asan: 20k random operations" "$B/asan/bin/grey-run" --quiet --cap 2GiB -- \
    "$B/tests/integration/prog_accounting" random 20000 $((2048 << 20)) 11
run "asan: NVML view" "$B/asan/bin/grey-run" --quiet --cap 512MiB -- "$B/tests/integration/prog_nvml" $CAP
run "asan: grey-run refuses a bad size" bash -c "! '$B/asan/bin/grey-run' --cap 12XB -- true"

finish integration-asan
