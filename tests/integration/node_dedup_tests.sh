#!/usr/bin/env bash
# Duplicates across jobs on one GPU (policy/fp_table.h, grey-report --node): recording processes
# publish their large buffers' fingerprints at snapshot time beside the ledger, and grey-report
# --node groups identical buffers of different live jobs. Two grey-run jobs each hold two 8 MiB
# buffers of the same bytes (prog_dedup live); a job alone, or jobs that ended, make no group;
# inference replicas (prog_dedup replica) each load the same 256 MiB of weights beside buffers of
# their own: one group, 256 MiB back per extra replica, confirmed byte for byte by --verify;
# a collision forged in the table and one made by a write the hook never saw are reported by
# --node and refused by --verify (exit 3, the member that differs named); a planted symlink and a
# damaged table are refused. Run after `make` (make node-dedup-integration).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=8GiB GREY_DEDUP_INTERVAL=1
work=$(mktemp -d /tmp/grey-node-dedup.XXXXXX)
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey GREY_SIM_STATE=$work/sim
unset GREY_DEDUP GREY_REPORT_DIR
trap 'touch "$work/done"; wait; rm -rf "$work"' EXIT
MiB=$((1 << 20))

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

jq_true() {
    if jq -e "$2" "$1" >/dev/null 2>&1; then ok "$3"; else fail "$3 (jq: $2)"; head -c 600 "$1"; echo; fi
}

# jobs N: N grey-run jobs of prog_dedup live, each ready (its duplicates uploaded), then a
# second and a half for a periodic snapshot to publish them.
jobs_start() {
    rm -f "$work"/ready* "$work/done"
    for j in $(seq "$1"); do
        "$B/bin/grey-run" --quiet --dedup --report "$work/r$j.json" -- \
            "$B/tests/integration/prog_dedup" live "$work/ready$j" "$work/done" >"$work/job$j.out" 2>&1 &
    done
    for _ in $(seq 100); do
        [ "$(ls "$work"/ready* 2>/dev/null | wc -l)" -eq "$1" ] && break
        sleep 0.1
    done
    sleep 1.5
}
jobs_end() { touch "$work/done"; wait; }

echo "== two jobs holding the same bytes"
jobs_start 2
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/node.json" 2>"$work/err" || { fail "grey-report --node"; cat "$work/err"; }
jq_true "$work/node.json" '.processes == 2 and (.groups | length) == 1' "one group over the two processes"
jq_true "$work/node.json" ".groups[0] | .count == 4 and .jobs == 2 and .bytes_each == $((8 * MiB)) and .reclaimable_bytes == $((24 * MiB))" \
    "four 8 MiB buffers in two jobs: 24 MiB back by sharing one copy"
jq_true "$work/node.json" '[.groups[0].buffers[].run_id] | unique | length == 2' "members named by their jobs' run ids"
"$B/bin/grey-report" --node "$work/ledger" >"$work/node.txt" 2>&1
grep -q "24.0 MiB reclaimable: 4 identical buffers of 8.0 MiB in 2 jobs on GPU 0" "$work/node.txt" &&
    ok "text: the group, its jobs and its GPU" || { fail "text"; cat "$work/node.txt"; }
[ "$(stat -c %a "$work/ledger.fp")" = 600 ] && ok "the table is the user's alone (0600)" || fail "table mode"
"$B/bin/grey-report" --node --verify --json "$work/ledger" >"$work/verify.json" 2>"$work/err" || { fail "--verify"; cat "$work/err"; }
jq_true "$work/verify.json" '.groups[0].verified_equal == 3 and ([.groups[0].buffers[1:][].verified] | all)' \
    "--verify: the three others read back through their processes' agents, byte for byte equal to the first"
"$B/bin/grey-report" --node --verify "$work/ledger" >"$work/verify.txt" 2>&1
grep -q "verified: 3 of 3 equal to the first" "$work/verify.txt" && ok "--verify in the text" || { fail "--verify text"; cat "$work/verify.txt"; }
"$B/bin/grey-top" --once --json --ledger "$work/ledger" >"$work/top.json" 2>"$work/err" || { fail "grey-top --json"; cat "$work/err"; }
jq_true "$work/top.json" ".node_duplicates.reclaimable_bytes == $((24 * MiB)) and (.node_duplicates.groups | length) == 1" \
    "grey-top --json carries the same group (node_duplicates)"
jobs_end
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/after.json" 2>"$work/err"
jq_true "$work/after.json" '.processes == 0 and (.groups | length) == 0' "jobs that ended are not counted (their sections stay, unused)"

echo "== one job alone"
jobs_start 1
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/one.json" 2>"$work/err"
jq_true "$work/one.json" '.processes == 1 and (.groups | length) == 0' "duplicates inside one job are the job's own report, not the node's"
jobs_end

# replica J [POKE]: inference replica J (its own kv and scratch bytes) under grey-run, logging
# its snapshots (GREY_LOG) to job$J.out; ready$J holds its pid once its buffers are loaded.
replica() {
    GREY_LOG=1 "$B/bin/grey-run" --quiet --dedup --report "$work/r$1.json" -- \
        "$B/tests/integration/prog_dedup" replica "$work/ready$1" "$work/done" "$1" "${2:--}" >"$work/job$1.out" 2>&1 &
}
# wait_file FILE: up to 20 s for it to exist.
wait_file() { for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# snapshots J KIND: how many snapshots of that kind job J has logged so far.
snapshots() { grep -c "snapshot ($2): 3 buffers" "$work/job$1.out"; }
# published_after_ready J: waits (20 s at most) for two more periodic snapshots of job J than it
# had logged when it was ready, so that a whole one began after its uploads.
published_after_ready() {
    wait_file "$work/ready$1" || return 1
    local n0 n
    n0=$(snapshots "$1" periodic)
    for _ in $(seq 200); do
        n=$(snapshots "$1" periodic)
        [ "$n" -ge $((n0 + 2)) ] && return 0
        sleep 0.1
    done
    return 1
}
addr() { sed -n "s/^buffer $2 //p" "$work/job$1.out"; }   # addr J NAME: the buffer's address
pid_of() { cat "$work/ready$1"; }

echo "== inference replicas: the same 256 MiB of weights in two jobs"
rm -f "$work"/ready* "$work/done"
replica 1
replica 2
if published_after_ready 1 && published_after_ready 2; then ok "two replicas loaded and published (periodic snapshots)"
else fail "the replicas did not start or publish"; tail -3 "$work/job1.out" "$work/job2.out"; fi
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/w.json" 2>"$work/err" || { fail "--node"; cat "$work/err"; }
jq_true "$work/w.json" ".processes == 2 and .buffers == 6 and (.groups | length) == 1 and .reclaimable_bytes == $((256 * MiB))" \
    "six buffers published, one group: 256 MiB reclaimable"
jq_true "$work/w.json" ".groups[0] | .bytes_each == $((256 * MiB)) and .count == 2 and .jobs == 2 and .reclaimable_bytes == $((256 * MiB))" \
    "the group: two 256 MiB buffers in two jobs"
want=$(printf '%s\n' "$(addr 1 weights)" "$(addr 2 weights)" | jq -R . | jq -sc 'sort')
jq_true "$work/w.json" "[.groups[0].buffers[].address] | sort == $want" "its members are the two replicas' weights"
others=$(printf '%s\n' "$(addr 1 kv)" "$(addr 2 kv)" "$(addr 1 scratch)" "$(addr 2 scratch)" | jq -R . | jq -sc .)
jq_true "$work/w.json" "[.groups[].buffers[].address] - $others | length == 2" "the kv and scratch buffers, whose bytes differ, are in no group"
"$B/bin/grey-report" --node "$work/ledger" >"$work/w.txt" 2>&1
grep -q "256.0 MiB reclaimable: 2 identical buffers of 256.0 MiB in 2 jobs on GPU 0" "$work/w.txt" &&
    ok "text: 256.0 MiB reclaimable, two buffers in two jobs" || { fail "text"; cat "$work/w.txt"; }
start=$(date +%s%N)
"$B/bin/grey-report" --node --verify --json "$work/ledger" >"$work/wv.json" 2>"$work/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 0 ] && ok "--verify: exit status 0, every group confirmed (${ms} ms for 256 MiB read back twice)" ||
    { fail "--verify exit status $rc"; cat "$work/err"; }
jq_true "$work/wv.json" ".groups[0] | .confirmed and .verified_equal == 1 and .verified_differ == 0 and .buffers[1].verify_result == \"equal\"" \
    "--verify: the second replica's weights equal the first's, byte for byte"
jq_true "$work/wv.json" ".unconfirmed_groups == 0 and .verified_reclaimable_bytes == $((256 * MiB))" "--verify: 256 MiB confirmed reclaimable"
"$B/bin/grey-top" --once --ledger "$work/ledger" >"$work/top.txt" 2>"$work/err"
grep -q "^duplicates across jobs: 256.0 MiB in 1 group" "$work/top.txt" &&
    ok "grey-top --once shows the group" || { fail "grey-top --once"; cat "$work/top.txt" "$work/err"; }
replica 3
if published_after_ready 3; then
    "$B/bin/grey-report" --node --json "$work/ledger" >"$work/w3.json" 2>"$work/err"
    jq_true "$work/w3.json" "(.groups | length) == 1 and (.groups[0] | .count == 3 and .jobs == 3) and .reclaimable_bytes == $((512 * MiB))" \
        "a third replica: three members, 512 MiB back (256 MiB per extra replica)"
else fail "the third replica did not publish"; tail -3 "$work/job3.out"; fi
jobs_end

echo "== forged collisions: --node reports them, --verify does not confirm them"
# No periodic snapshot (GREY_DEDUP_INTERVAL=0): after the one at the peak and one asked for with
# --live, nothing republishes, so what is written to the table, or to a buffer behind the hook's
# back, stays until this test asks again.
rm -f "$work"/ready* "$work/done"
GREY_DEDUP_INTERVAL=0 replica 1 "$work/poke1"
GREY_DEDUP_INTERVAL=0 replica 2
published=0
if wait_file "$work/ready1" && wait_file "$work/ready2"; then
    for _ in $(seq 200); do
        [ "$(snapshots 1 peak)" -ge 1 ] && [ "$(snapshots 2 peak)" -ge 1 ] && break
        sleep 0.1
    done
    "$B/bin/grey-report" --live "$(pid_of 1)" --json >/dev/null 2>"$work/err" &&
        "$B/bin/grey-report" --live "$(pid_of 2)" --json >/dev/null 2>>"$work/err" && published=1
fi
[ $published = 1 ] && ok "two replicas published after their uploads (a --live snapshot each)" ||
    { fail "the replicas did not publish"; cat "$work/err"; }
"$B/bin/grey-report" --node --verify --json "$work/ledger" >"$work/f0.json" 2>"$work/err"
rc=$?
jq_true "$work/f0.json" '(.groups | length) == 1 and .groups[0].confirmed' "before any forgery: the weights' group, confirmed"
[ $rc = 0 ] && ok "before any forgery: exit status 0" || fail "exit status $rc before any forgery"

# A table entry rewritten to claim a match: replica 2's kv (other bytes) given replica 1's
# kv fingerprint, as a peer of the same user could.
if python3 "$root/tests/integration/fp_forge.py" "$work/ledger.fp" "$(pid_of 2)" "$(addr 2 kv)" "$(pid_of 1)" "$(addr 1 kv)" 2>"$work/err"
then ok "replica 2's kv entry rewritten in the table with replica 1's kv fingerprint"
else fail "fp_forge: $(cat "$work/err")"; fi
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/f1.json" 2>"$work/err"
rc=$?
jq_true "$work/f1.json" "(.groups | length) == 2 and ([.groups[] | select(.bytes_each == $((32 * MiB)) and .count == 2)] | length) == 1" \
    "--node without --verify takes the table's word: a 32 MiB group of the two kv buffers"
[ $rc = 0 ] && ok "--node without --verify: exit status 0" || fail "--node exit status $rc"
"$B/bin/grey-report" --node --verify --json "$work/ledger" >"$work/f2.json" 2>"$work/err"
rc=$?
[ $rc = 3 ] && ok "--verify: exit status 3, a group is not confirmed" || { fail "--verify exit status $rc (want 3)"; cat "$work/err"; }
jq_true "$work/f2.json" "(.groups[] | select(.bytes_each == $((32 * MiB)))) | .confirmed == false and .verified_differ == 1 and .verified_equal == 0" \
    "--verify: the kv group is not confirmed, one member differs"
jq_true "$work/f2.json" "(.groups[] | select(.bytes_each == $((32 * MiB))) | .buffers[1]) | .verified == false and .verify_result == \"differs\" and .verify_error == \"the bytes differ at offset 0\"" \
    "--verify names the member that differs, and where (offset 0: other bytes from the start)"
jq_true "$work/f2.json" "(.groups[] | select(.bytes_each == $((256 * MiB)))).confirmed and .unconfirmed_groups == 1 and .verified_reclaimable_bytes == $((256 * MiB))" \
    "--verify: the weights' group is still confirmed; only its 256 MiB count as verified"

# Bytes changed behind the hook's back: one byte of replica 1's weights, by a store the hook
# never sees (the fingerprint in the table, and in the tracker, still says equal).
touch "$work/poke1"
wait_file "$work/poke1.done" && ok "one byte of replica 1's weights changed behind the hook's back" || fail "no poke"
poked=$(sed -n 's/^poked offset //p' "$work/job1.out")
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/f3.json" 2>"$work/err"
jq_true "$work/f3.json" "([.groups[] | select(.bytes_each == $((256 * MiB)) and .count == 2)] | length) == 1" \
    "--node without --verify still reports the weights' group (stale fingerprints)"
"$B/bin/grey-report" --node --verify --json "$work/ledger" >"$work/f4.json" 2>"$work/err"
rc=$?
[ $rc = 3 ] && ok "--verify: exit status 3" || { fail "--verify exit status $rc (want 3)"; cat "$work/err"; }
jq_true "$work/f4.json" "(.groups[] | select(.bytes_each == $((256 * MiB)))) | .confirmed == false and .verified_differ == 1 and .buffers[1].verify_error == \"the bytes differ at offset $poked\"" \
    "--verify: the weights' group is not confirmed, the byte changed at offset $poked named"
jq_true "$work/f4.json" ".unconfirmed_groups == 2 and .verified_reclaimable_bytes == 0" "--verify: nothing confirmed reclaimable"
"$B/bin/grey-report" --node --verify "$work/ledger" >"$work/f4.txt" 2>&1
grep -q "verified byte for byte: 0 B reclaimable; 2 groups not confirmed" "$work/f4.txt" &&
    grep -q "256.0 MiB.*(NOT CONFIRMED: 0 of 1 equal to the first)" "$work/f4.txt" &&
    grep -q "differs: the bytes differ at offset $poked" "$work/f4.txt" &&
    ok "text: NOT CONFIRMED, and the member that differs with its offset" || { fail "--verify text"; cat "$work/f4.txt"; }
# A fresh snapshot of each replica rewrites its own section: the table tells the truth again.
"$B/bin/grey-report" --live "$(pid_of 1)" --json >/dev/null 2>&1
"$B/bin/grey-report" --live "$(pid_of 2)" --json >/dev/null 2>&1
"$B/bin/grey-report" --node --json "$work/ledger" >"$work/f5.json" 2>"$work/err"
jq_true "$work/f5.json" '.processes == 2 and (.groups | length) == 0' "after a fresh snapshot of each: no group (the forged entry and the stale fingerprint are gone)"
jobs_end

echo "== refusals"
GREY_LEDGER=$work/l0 "$B/bin/grey-run" --quiet -- true >/dev/null 2>&1
"$B/bin/grey-top" --once --json --ledger "$work/l0" >"$work/top0.json" 2>"$work/err"
jq_true "$work/top0.json" '.node_duplicates == null' "grey-top: node_duplicates is null for a ledger without a table"
mkdir -p "$work/l2"
ln -s "$work/victim" "$work/l2/ledger.fp"
GREY_LEDGER=$work/l2/ledger GREY_LOG=1 "$B/bin/grey-run" --quiet --dedup --report "$work/l2.json" -- \
    "$B/tests/integration/prog_dedup" upload linked 0 >"$work/l2.out" 2>&1 && ok "a job beside a planted symlink runs" || fail "job with symlink"
[ ! -e "$work/victim" ] && ok "the symlink is not followed (nothing created through it)" || fail "symlink followed"
grep -q "fingerprints not published" "$work/l2.out" && ok "the hook says once it did not publish" || { fail "no message"; tail -3 "$work/l2.out"; }
if "$B/bin/grey-report" --node "$work/l2/ledger" 2>"$work/err"; then fail "--node through a symlink refused"; else
    ok "--node refuses a symlinked table: $(head -1 "$work/err")"; fi
# Another user's table at our ledger's name, writable by everyone: mapped, its owner could shrink
# it under us (SIGBUS) or read our fingerprints. The suite runs as root, so "another user" is nobody.
mkdir -p "$work/l3"
"$B/bin/grey-run" --quiet -- true # nothing: only to be sure grey-run works before the plant
cp "$work/ledger.fp" "$work/l3/ledger.fp" 2>/dev/null || : >"$work/l3/ledger.fp"
chown nobody "$work/l3/ledger.fp" && chmod 0666 "$work/l3/ledger.fp"
before=$(md5sum <"$work/l3/ledger.fp")
GREY_LEDGER=$work/l3/ledger GREY_LOG=1 "$B/bin/grey-run" --quiet --dedup --report "$work/l3.json" -- \
    "$B/tests/integration/prog_dedup" upload linked 0 >"$work/l3.out" 2>&1 && ok "a job beside another user's table runs" || fail "job with a planted table"
grep -q "fingerprints not published: $work/l3/ledger.fp: owned by uid $(id -u nobody)" "$work/l3.out" \
    && ok "the hook refuses another user's table and says so" || { fail "planted table refused"; tail -3 "$work/l3.out"; }
[ "$(md5sum <"$work/l3/ledger.fp")" = "$before" ] && ok "and writes nothing into it" || fail "the planted table was written"
head -c 4096 /dev/urandom >"$work/ledger.fp"
if "$B/bin/grey-report" --node "$work/ledger" 2>"$work/err"; then fail "a damaged table refused"; else
    grep -q "not a grey fingerprint table" "$work/err" && ok "a damaged table is refused with one line" || { fail "message"; cat "$work/err"; }; fi
if "$B/bin/grey-report" --node --html x "$work/ledger" 2>"$work/err"; then fail "--node --html refused"; else
    grep -q "takes only --json" "$work/err" && ok "--node with --html is a usage error" || fail "usage message"; fi

if "$B/bin/grey-report" --verify "$work/ledger" 2>"$work/err"; then fail "--verify alone refused"; else
    grep -q "goes with --node" "$work/err" && ok "--verify without --node is a usage error" || fail "--verify message"; fi

finish node-dedup-integration
