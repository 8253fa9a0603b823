#!/usr/bin/env bash
# make slurm-integration: grey's SPANK plugin (slurm/) on a real single-node Slurm. The test
# starts its own slurmctld and slurmd on 127.0.0.1 (tests/slurm/cluster.sh: a slurm.conf in a
# temporary directory, two simulated GPUs with 4 shards each in gres.conf) and stops exactly
# those two by PID at the end. Jobs run the integration programs on the simulated driver; every
# client call is bounded by `timeout`. Run as root (slurmd must start) from the repository root
# after `make`. About 20 s, most of it the 8 s fair-share window.
set -uo pipefail

root=$(pwd)
B=$root/build
PLUGIN=$B/slurm/grey_spank.so
HOOK=$B/lib/libgreyhook.so
FAMILIES=$B/tests/integration/prog_families
HOLD=$B/tests/integration/prog_hold
LOAD=$B/tests/fairshare/fair_load
STATIC=$B/tests/integration/static_true
source "$root/tests/lib.sh"
source "$root/tests/slurm/cluster.sh"

for tool in slurmctld slurmd srun sbatch sinfo runuser; do
    command -v $tool >/dev/null || { fail "$tool is missing (scripts/install-deps.sh installs Slurm)"; finish slurm-integration; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { fail "slurm-integration must run as root (it starts slurmd)"; finish slurm-integration; exit 1; }

work=$(mktemp -d /tmp/grey-slurm.XXXXXX)
chmod 755 "$work"   # a non-root user's job runs here too
bg_pids=()
cleanup() {
    for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    cluster_stop
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_DEVICES=2 GREY_SIM_VRAM=8GiB GREY_SIM_STATE=$work/sim
unset GREY_CAP GREY_PLAN GREY_LEDGER GREY_ADMIN_PLAN GREY_WEIGHT GREY_MAX_SHARE CUDA_VISIBLE_DEVICES \
      GREY_SIM_KERNEL_US LD_PRELOAD
MiB=$((1 << 20))
GiB=$((1 << 30))

# The node's admin plan: 2 GiB of budget per GPU, the node ledger shared with group nogroup (so
# that nobody's jobs share it too).
cat >"$work/plan.conf" <<PLAN
grey-plan-version = 1
ledger = "$work/ledger"
ledger_group = "nogroup"
[device 0]
budget = 2GiB
process_cap = 2GiB
[device 1]
budget = 2GiB
process_cap = 2GiB
PLAN
plugstack() { echo "required $PLUGIN $*" >"$work/plugstack.conf"; }
plugstack hook="$HOOK" plan="$work/plan.conf" default_cap=768MiB shards_per_gpu=4

echo "== a single-node Slurm of the test's own"
if cluster_start "$work" "$work/plugstack.conf" 2 4; then
    ok "slurmctld and slurmd started; the node is idle (pids ${cluster_pids[*]})"
else
    fail "the cluster did not start"
    tail -20 "$work/slurmctld.log" "$work/slurmd.log" 2>/dev/null | sed 's/^/      /'
    finish slurm-integration
    exit 1
fi
cd "$work" || exit 1

# run NAME CMD...: CMD bounded to 60 s, output in $work/NAME.out, status in $work/NAME.rc.
run() {
    local name=$1; shift
    timeout 60 "$@" >"$work/$name.out" 2>&1
    echo $? >"$work/$name.rc"
}
rc_is() { # rc_is NAME WANT DESCRIPTION
    local got; got=$(cat "$work/$1.rc")
    if [ "$got" = "$2" ]; then ok "$3"; else fail "$3 (exit $got, wanted $2)"; sed 's/^/      /' "$work/$1.out"; fi
}
rc_not() { # rc_not NAME DESCRIPTION: exited non-zero
    local got; got=$(cat "$work/$1.rc")
    if [ "$got" != 0 ]; then ok "$2"; else fail "$2 (exit 0)"; sed 's/^/      /' "$work/$1.out"; fi
}
out_has() { # out_has NAME ERE DESCRIPTION
    if grep -Eq -- "$2" "$work/$1.out"; then ok "$3"; else fail "$3 (no '$2')"; sed 's/^/      /' "$work/$1.out"; fi
}

echo "== srun --gres=gpu:1 --gpu-mem-cap=512MiB: ten 200 MiB allocations, exactly two succeed"
run cap512 srun --gres=gpu:1 --gpu-mem-cap=512MiB "$FAMILIES" alloc linked $((512 * MiB))
rc_is cap512 0 "the job ran capped at 512 MiB: 2 of 10 blocks (prog_families checks the count and cuMemGetInfo)"
out_has cap512 'ok \(2 of 10 blocks of 200 MiB\)' "the program saw two blocks"
out_has cap512 'grey: peak 400.0 MiB of 512.0 MiB on GPU [01] \(GPU-[0-9a-f]{8}\); 9 allocations denied \(largest 200.0 MiB\)' \
    "the end summary reaches the job's stderr"

finish slurm-integration
