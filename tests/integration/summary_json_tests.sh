#!/usr/bin/env bash
# make summary-json-tests: grey-run --summary-json FILE, as a Slurm epilog or a CI step reads it
# (with jq): exit statuses, the cap, peak and denials of a capped job, time throttled under
# --max-share, a command that cannot run, and a FILE that cannot be written.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
B=build
RUN=$B/bin/grey-run
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GREY_LEDGER=$work/ledger
command -v jq >/dev/null || { echo "FAIL: jq is missing (scripts/install-deps.sh installs it)"; exit 1; }

# expect JSONFILE JQ-EXPRESSION WHAT: the expression must be true of the summary.
expect() {
    if jq -e "$2" "$1" >/dev/null 2>&1; then ok "$3"; else fail "$3 ($2 is not true of: $(tr -d '\n\t' <"$1"))"; fi
}

echo "== a capped job: cap, peak, denials"
"$RUN" --quiet --cap 2GiB --summary-json "$work/demo.json" -- "$B/tests/demo/train" --steps 2 >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && ok "the demo job exits 0" || fail "the demo job: status $rc"
expect "$work/demo.json" '.exit_code == 0 and .exit_status == 0 and .signal == null and .started' "exit status 0 recorded"
expect "$work/demo.json" ".grey_version == \"$(cat VERSION)\"" "the version is recorded"
expect "$work/demo.json" '.command == ["'"$B"'/tests/demo/train", "--steps", "2"]' "the command is recorded"
expect "$work/demo.json" '.hook_loaded and .ledger and .gpu_processes == 1' "the hook was loaded, one GPU process"
expect "$work/demo.json" '.gpus | length == 1' "one GPU listed"
expect "$work/demo.json" '.gpus[0].cap_bytes == 2147483648' "cap 2 GiB in bytes"
expect "$work/demo.json" '.gpus[0].peak_bytes > 0 and .gpus[0].peak_bytes <= .gpus[0].cap_bytes' "peak within the cap"
expect "$work/demo.json" '.gpus[0].denied >= 1 and .gpus[0].largest_denied_bytes > 0' "the denials are counted"
expect "$work/demo.json" '.gpus[0].uuid | startswith("GPU-")' "the GPU is named by UUID"
expect "$work/demo.json" '.gpus[0].throttled_seconds == 0' "no pacing: nothing throttled"

echo "== no cap: cap_bytes is null"
"$RUN" --quiet --summary-json "$work/nocap.json" -- "$B/tests/demo/train" --steps 1 >/dev/null 2>&1
expect "$work/nocap.json" '.gpus[0].cap_bytes == null and .gpus[0].peak_bytes > 0' "no cap: null, the peak still given"

echo "== --max-share 25%: time throttled"
now=$(python3 -c 'import time; print(time.monotonic_ns())')
"$RUN" --quiet --max-share 25% --summary-json "$work/share.json" -- "$B/tests/fairshare/fair_load" \
    --from "$now" --until $((now + 1500000000)) >/dev/null 2>&1
expect "$work/share.json" '.exit_code == 0' "the paced job exits 0"
expect "$work/share.json" '.gpus[0].throttled_seconds > 0.3' "over 0.3 s of 1.5 s spent waiting at a 25% ceiling"

echo "== exit statuses"
"$RUN" --quiet --summary-json "$work/exit3.json" -- sh -c 'exit 3' 2>/dev/null
rc=$?
[ $rc -eq 3 ] && ok "a job's status 3 is grey-run's" || fail "status $rc, not 3"
expect "$work/exit3.json" '.exit_code == 3 and .exit_status == 3 and .signal == null' "status 3 recorded"
"$RUN" --quiet --summary-json "$work/term.json" -- sh -c 'kill -TERM $$' 2>/dev/null
rc=$?
[ $rc -eq 143 ] && ok "a job ended by SIGTERM: 143" || fail "status $rc, not 143"
expect "$work/term.json" '.exit_code == 143 and .exit_status == null and .signal == 15' "SIGTERM recorded as signal 15"
"$RUN" --quiet --summary-json "$work/missing.json" -- /nonexistent/program 2>/dev/null
rc=$?
[ $rc -eq 127 ] && ok "a missing command: 127" || fail "status $rc, not 127"
expect "$work/missing.json" '.exit_code == 127 and .started == false and (.gpus | length == 0)' "not started, recorded"

echo "== a FILE that cannot be written stops the job before it starts"
"$RUN" --quiet --summary-json "$work/no/such/dir.json" -- touch "$work/ran" 2>"$work/err"
rc=$?
[ $rc -eq 125 ] && ok "unwritable FILE: status 125" || fail "unwritable FILE: status $rc"
[ ! -e "$work/ran" ] && ok "the job did not run" || fail "the job ran"
grep -q -- "--summary-json: cannot write $work/no/such/dir.json" "$work/err" && ok "the message names the option and FILE" ||
    fail "message: $(cat "$work/err")"
"$RUN" --summary-json 2>"$work/err"
rc=$?
[ $rc -eq 125 ] && grep -q "option '--summary-json' needs a value" "$work/err" && ok "--summary-json without FILE: usage error" ||
    fail "--summary-json without FILE: status $rc, $(cat "$work/err")"

finish summary-json
