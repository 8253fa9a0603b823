#!/usr/bin/env bash
# Duplicates across jobs on one GPU (policy/fp_table.h, grey-report --node): recording processes
# publish their large buffers' fingerprints at snapshot time beside the ledger, and grey-report
# --node groups identical buffers of different live jobs. Two grey-run jobs each hold two 8 MiB
# buffers of the same bytes (prog_dedup live); a job alone, or jobs that ended, make no group;
# a planted symlink and a damaged table are refused. Run after `make` (make node-dedup-integration).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=8GiB GREY_DEDUP_INTERVAL=1
work=$(mktemp -d /tmp/grey-node-dedup.XXXXXX)
export GREY_LEDGER=$work/ledger GREY_DIR=$work/grey
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
head -c 4096 /dev/urandom >"$work/ledger.fp"
if "$B/bin/grey-report" --node "$work/ledger" 2>"$work/err"; then fail "a damaged table refused"; else
    grep -q "not a grey fingerprint table" "$work/err" && ok "a damaged table is refused with one line" || { fail "message"; cat "$work/err"; }; fi
if "$B/bin/grey-report" --node --html x "$work/ledger" 2>"$work/err"; then fail "--node --html refused"; else
    grep -q "takes only --json" "$work/err" && ok "--node with --html is a usage error" || fail "usage message"; fi

if "$B/bin/grey-report" --verify "$work/ledger" 2>"$work/err"; then fail "--verify alone refused"; else
    grep -q "goes with --node" "$work/err" && ok "--verify without --node is a usage error" || fail "--verify message"; fi

finish node-dedup-integration
