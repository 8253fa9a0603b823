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
DEDUP=$B/tests/integration/prog_dedup
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

# hold NAME BYTES SRUN-OPTIONS...: prog_hold in a job in the background; the job's
# CUDA_VISIBLE_DEVICES goes to $work/NAME.gpu. Released by touching $work/NAME.release.
hold() {
    local name=$1 bytes=$2; shift 2
    rm -f "$work/$name.status" "$work/$name.release" "$work/$name.gpu"
    timeout 60 srun "$@" sh -c "echo \"\$CUDA_VISIBLE_DEVICES\" >$work/$name.gpu; exec $HOLD $bytes $work/$name.status $work/$name.release" \
        >"$work/$name.out" 2>&1 &
    bg_pids+=($!)
}
held() { # held NAME: ok / denied / error once prog_hold has tried, "timeout" after 30 s
    local f=$work/$1.status i
    for ((i = 0; i < 3000; i++)); do [ -e "$f" ] && break; sleep 0.01; done
    [ -e "$f" ] && cut -d' ' -f1 "$f" || echo timeout
}
expect_held() { # expect_held NAME WANT DESCRIPTION
    local got; got=$(held "$1")
    if [ "$got" = "$2" ]; then ok "$3"; else fail "$3: $got, wanted $2"; sed 's/^/      /' "$work/$1.out"; fi
}
release_all() { # release_all NAME...: lets the holders go and waits for their jobs
    local n
    for n in "$@"; do touch "$work/$n.release"; done
    wait "${bg_pids[@]}" 2>/dev/null
    bg_pids=()
}

echo "== two jobs on different GPUs each take their GPU's whole budget (2 GiB)"
hold gpuA $((2 * GiB)) --gres=gpu:1 --gpu-mem-cap=2GiB
expect_held gpuA ok "job A holds 2 GiB, all of its GPU's budget"
hold gpuB $((2 * GiB)) --gres=gpu:1 --gpu-mem-cap=2GiB
expect_held gpuB ok "job B, on the other GPU, holds 2 GiB too"
a=$(cat "$work/gpuA.gpu" 2>/dev/null); b=$(cat "$work/gpuB.gpu" 2>/dev/null)
if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then ok "Slurm gave them different GPUs ($a and $b)"
else fail "the jobs' GPUs: '$a' and '$b', wanted two different ones"; fi
release_all gpuA gpuB
grep -q 'peak 2.0 GiB of 2.0 GiB' "$work/gpuA.out" && ok "job A's summary: peak 2.0 GiB of 2.0 GiB" \
    || { fail "job A's summary"; sed 's/^/      /' "$work/gpuA.out"; }

echo "== two jobs on shards of one GPU share its budget"
hold shA $((1536 * MiB)) --gres=shard:2 --gpu-mem-cap=2GiB
expect_held shA ok "job A (2 shards) holds 1.5 GiB of GPU's 2 GiB budget"
hold shB $((1 * GiB)) --gres=shard:2 --gpu-mem-cap=2GiB
expect_held shB denied "job B (2 shards of the same GPU) is denied 1 GiB: only 0.5 GiB of the budget is left"
a=$(cat "$work/shA.gpu" 2>/dev/null); b=$(cat "$work/shB.gpu" 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "both ran on shards of GPU $a"
else fail "the shard jobs' GPUs: '$a' and '$b', wanted the same one"; fi
release_all shA shB

echo "== default caps: the admin's default_cap, and K of a GPU's N shards get K/N of its budget"
run default srun --gres=gpu:1 "$FAMILIES" alloc linked $((768 * MiB))
rc_is default 0 "a job without options is capped at the admin's default_cap 768 MiB (3 of 10 blocks)"
out_has default 'peak 600.0 MiB of 768.0 MiB' "its summary says so"
run shard2 srun --gres=shard:2 "$FAMILIES" alloc linked $((1 * GiB))
rc_is shard2 0 "--gres=shard:2 of 4 shards: capped at half the GPU's 2 GiB budget (5 of 10 blocks)"
run shard1 srun --gres=shard:1 "$FAMILIES" alloc linked $((512 * MiB))
rc_is shard1 0 "--gres=shard:1 of 4 shards: capped at a quarter, 512 MiB"
run shardcap srun --gres=shard:1 --gpu-mem-cap=1GiB "$FAMILIES" alloc linked $((1 * GiB))
rc_is shardcap 0 "--gpu-mem-cap wins over the shard default"

echo "== bad values stop the submission; the job never runs"
for bad in "--gpu-mem-cap=12XB:unknown unit 'XB'" "--gpu-mem-cap=0:greater than zero" \
           "--gpu-weight=0:--gpu-weight=0" "--gpu-weight=abc:--gpu-weight=abc" \
           "--gpu-max-share=150%:--gpu-max-share=150%"; do
    opt=${bad%%:*} why=${bad#*:}
    rm -f "$work/ran"
    run badsrun srun "$opt" touch "$work/ran"
    rc_not badsrun "srun $opt is refused"
    out_has badsrun "grey: .*$why" "srun $opt: the message names the value"
    [ -e "$work/ran" ] && fail "srun $opt: the job ran" || ok "srun $opt: the job did not run"
done
rm -f "$work/ran"
run badsbatch sbatch --wait -o "$work/bad-%j.out" --gpu-mem-cap=12XB --wrap "touch $work/ran"
rc_not badsbatch "sbatch --gpu-mem-cap=12XB is refused"
out_has badsbatch "grey: --gpu-mem-cap=12XB: unknown unit 'XB'" "sbatch names the value"
[ -e "$work/ran" ] && fail "sbatch --gpu-mem-cap=12XB: the job ran" || ok "sbatch --gpu-mem-cap=12XB: the job did not run"

echo "== sbatch --gpu-mem-cap=512MiB with an srun inside: capped once, the hook once in LD_PRELOAD"
cat >"$work/batch.sh" <<SCRIPT
#!/bin/bash
echo "batch LD_PRELOAD=\$LD_PRELOAD"
srun --gres=gpu:1 sh -c 'echo "step LD_PRELOAD=\$LD_PRELOAD"; exec $FAMILIES alloc linked $((512 * MiB))'
echo "step status \$?"
SCRIPT
run sbatch sbatch --wait --gres=gpu:1 --gpu-mem-cap=512MiB -o "$work/batch.out" "$work/batch.sh"
rc_is sbatch 0 "the batch job ran"
cp "$work/batch.out" "$work/batchjob.out" 2>/dev/null || : >"$work/batchjob.out"
out_has batchjob "^step LD_PRELOAD=$HOOK\$" "the nested step's LD_PRELOAD holds the hook exactly once"
out_has batchjob "^batch LD_PRELOAD=$HOOK\$" "so does the batch script's"
out_has batchjob 'ok \(2 of 10 blocks of 200 MiB\)' "the step inherited sbatch's cap: 2 of 10 blocks"
out_has batchjob '^step status 0$' "the step's checks passed"
out_has batchjob 'grey: peak 400.0 MiB of 512.0 MiB .*9 allocations denied' "the step's end summary is in the job's output"

echo "== the never-loaded warning"
run static srun "$STATIC"
rc_is static 0 "a static program ran"
out_has static 'grey: WARNING: the job never loaded libgreyhook.so' "the job's output has the loud warning"

echo "== a non-root user's job"
# The simulated GPUs' state file is root's: nobody's processes get one of their own.
mkdir -p "$work/nobody" && chown nobody "$work/nobody"
run nobody runuser -u nobody -- env GREY_SIM_STATE="$work/nobody/sim" srun --gres=gpu:1 --gpu-mem-cap=512MiB "$FAMILIES" alloc linked $((512 * MiB))
rc_is nobody 0 "nobody's job is capped at 512 MiB (2 of 10 blocks)"
out_has nobody 'grey: peak 400.0 MiB of 512.0 MiB' "nobody's job gets its end summary from the node ledger"
run nobodyid runuser -u nobody -- srun id -un
out_has nobodyid '^nobody$' "the job ran as nobody"

echo "== srun --gpu-dedup=FILE: the buffer report of the job"
run dedup srun --gres=gpu:1 --gpu-dedup="$work/dedup.json" "$DEDUP" upload linked 1
rc_is dedup 0 "the job ran with fingerprints"
out_has dedup 'grey: dedup: 16.0 MiB reclaimable in 1 group; largest: 3 x 8.0 MiB from load_weights' \
    "the three identical uploads are found"
if jq -e '.reclaimable_bytes == 16777216' "$work/dedup.json" >/dev/null 2>&1; then ok "the JSON report is at FILE"
else fail "no report with 16 MiB reclaimable at $work/dedup.json"; fi
rm -f "$work/ran"
run baddedup srun --gres=gpu:1 --gpu-dedup="$work/no/such/dir/r.json" touch "$work/ran"
rc_not baddedup "--gpu-dedup into a missing directory fails the task"
out_has baddedup "cannot write in $work/no/such/dir" "the message names the directory"
[ -e "$work/ran" ] && fail "--gpu-dedup into a missing directory: the job ran" || ok "that job did not run"

echo "== srun --gpu-artifacts=DIR: each task's artifacts in DIR/JOB.STEP.TASK"
run artifacts srun --gres=gpu:1 --ntasks=2 --gpu-mem-cap=512MiB --gpu-artifacts="$work/art" \
    "$FAMILIES" alloc linked $((512 * MiB))
rc_is artifacts 0 "two tasks ran, capped"
arts=("$work"/art/*.*.0 "$work"/art/*.*.1)
if [ -d "${arts[0]}" ] && [ -d "${arts[1]}" ] && [ "${arts[0]%.0}" = "${arts[1]%.1}" ]; then
    ok "one directory per task of the step: $(basename "${arts[0]}"), $(basename "${arts[1]}")"
else fail "no per-task artifact directories in $work/art: $(ls "$work/art" 2>&1 | tr '\n' ' ')"; fi
for f in vram-summary.json thermal.csv fairness.csv fairness.svg; do
    [ -s "${arts[0]}/$f" ] && ok "task 0 left $f" || fail "task 0 has no $f"
done
jq -e '[.gpus[]? // .devices[]? // empty] | length >= 1' "${arts[0]}/vram-summary.json" >/dev/null 2>&1 &&
    grep -q '536870912\|512' "${arts[0]}/vram-summary.json" &&
    ok "the VRAM summary names the GPU and the 512 MiB cap" || fail "vram-summary.json: $(head -c 300 "${arts[0]}/vram-summary.json")"
run badart srun --gres=gpu:1 --gpu-artifacts= true
rc_not badart "--gpu-artifacts without a DIR is refused"

echo "== salloc --gpu-mem-cap=512MiB: the steps of the allocation are capped"
run salloc salloc --gres=gpu:1 --gpu-mem-cap=512MiB srun "$FAMILIES" alloc linked $((512 * MiB))
rc_is salloc 0 "salloc's step got 2 of 10 blocks"
out_has salloc 'grey: peak 400.0 MiB of 512.0 MiB' "with its end summary"

echo "== scancel: the cancelled job still gets its summary"
hold cancelled $((512 * MiB)) --gres=gpu:1 --gpu-mem-cap=1GiB -J grey-cancel
expect_held cancelled ok "the job holds 512 MiB"
scancel -n grey-cancel
wait "${bg_pids[@]}" 2>/dev/null; bg_pids=()
out_has cancelled 'CANCELLED' "Slurm cancelled the step"
out_has cancelled 'grey: peak 512.0 MiB of 1.0 GiB' "the summary came after the cancel"

echo "== a malformed plugstack.conf line fails the job with the argument named"
plugstack hook="$HOOK" plan="$work/plan.conf" default_cap=lots
rm -f "$work/ran"
run badconf srun touch "$work/ran"
rc_not badconf "srun fails"
out_has badconf "grey: plugstack.conf: default_cap=lots" "the message names the argument"
[ -e "$work/ran" ] && fail "the job ran under a broken plugstack.conf" || ok "the job did not run"
plugstack hook="$work/missing/libgreyhook.so" plan="$work/plan.conf"
run nohook srun touch "$work/ran"
rc_not nohook "a missing hook fails the task"
out_has nohook "grey: hook=$work/missing/libgreyhook.so: No such file or directory; the task was not started" \
    "the message names the hook's path"
[ -e "$work/ran" ] && fail "the job ran without its hook" || ok "the job did not run"
plugstack hook="$HOOK" plan="$work/no-plan.conf"
run noplan srun touch "$work/ran"
rc_not noplan "a missing admin plan fails the task"
out_has noplan "grey: plan=$work/no-plan.conf: no such file; the task was not started" "the message names the plan"
[ -e "$work/ran" ] && fail "the job ran without its admin plan" || ok "the job did not run"
printf 'grey-plan-version = 1\n[device 0]\nbudget = 1GiB\nprocess_cap = 2GiB\n' >"$work/bad-plan.conf"
plugstack hook="$HOOK" plan="$work/bad-plan.conf"
run badplan srun touch "$work/ran"
rc_not badplan "a malformed admin plan fails the task"
out_has badplan "grey: plan=$work/bad-plan.conf: .*bad-plan.conf:[0-9]+" "the message names the plan and its line"
[ -e "$work/ran" ] && fail "the job ran under a malformed admin plan" || ok "the job did not run"
plugstack hook="$HOOK" plan="$work/plan.conf" default_cap=768MiB shards_per_gpu=4

echo "== make install: the installed plugin and hook"
if (cd "$root" && make -s install PREFIX="$work/prefix" >"$work/install.out" 2>&1); then
    ok "make install PREFIX=... (the plugin in PREFIX/lib/slurm)"
else
    fail "make install"; sed 's/^/      /' "$work/install.out"
fi
echo "required $work/prefix/lib/slurm/grey_spank.so hook=$work/prefix/lib/libgreyhook.so plan=$work/plan.conf" \
    >"$work/plugstack.conf"
run installed srun --gres=gpu:1 --gpu-mem-cap=512MiB sh -c "echo \"LD_PRELOAD=\$LD_PRELOAD\"; exec $FAMILIES alloc linked $((512 * MiB))"
rc_is installed 0 "the installed plugin caps the job (2 of 10 blocks)"
out_has installed "^LD_PRELOAD=$work/prefix/lib/libgreyhook.so\$" "with the installed hook"
plugstack hook="$HOOK" plan="$work/plan.conf" default_cap=768MiB shards_per_gpu=4

if [ -z "${SLURM_SKIP_FAIR:-}" ]; then
echo "== --gpu-weight=3 and 1 on shards of one simulated GPU: 3:1 of the device time (8 s)"
now() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }
t=$(now); F=$((t + 1500000000)); U=$((F + 8000000000))
timeout 60 srun --gres=shard:2 --gpu-weight=3 "$LOAD" --from "$F" --until "$U" >"$work/w3.json" 2>"$work/w3.err" &
bg_pids+=($!)
timeout 60 srun --gres=shard:2 --gpu-weight=1 "$LOAD" --from "$F" --until "$U" >"$work/w1.json" 2>"$work/w1.err" &
bg_pids+=($!)
wait "${bg_pids[@]}"; bg_pids=()
out=$(python3 - "$work" <<'PY' 2>&1
import json, sys
w = sys.argv[1]
a, b = (json.load(open(f"{w}/{n}.json")) for n in ("w3", "w1"))
ratio = a["completed"] / max(b["completed"], 1)
print(("ok" if 2.7 <= ratio <= 3.3 else "FAILED") + f": completed {a['completed']} : {b['completed']} = {ratio:.2f} : 1 (3 : 1 +-10%)")
PY
)
case "$out" in
    ok:*) ok "${out#ok: }" ;;
    *) fail "${out#FAILED: }"; sed 's/^/      /' "$work/w3.err" "$work/w1.err" ;;
esac
grep -q 'launches throttled' "$work/w1.err" && ok "the weight-1 job's summary says how long its launches were throttled" \
    || { fail "no throttled time in the weight-1 job's summary"; sed 's/^/      /' "$work/w1.err"; }
fi

finish slurm-integration
