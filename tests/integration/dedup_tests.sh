#!/usr/bin/env bash
# Integration tests of the buffer report: grey-run --dedup/--report, the hook's raw records,
# grey-report (text, --json, --html, --live) and its refusals. Real processes, the real hook, the
# simulated driver. Run from the repository root after `make` (make dedup-integration does both).
set -uo pipefail

root=$(pwd)
B=$root/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=${GREY_SIM_VRAM:-80GiB}
work=$(mktemp -d /tmp/grey-dedup.XXXXXX)
export GREY_LEDGER=$work/ledger
export GREY_DIR=$work/grey           # the per-user report directory, kept inside the test
unset GREY_DEDUP GREY_REPORT_DIR GREY_TRACK_SITES GREY_STACK_DEPTH
trap 'rm -rf "$work"' EXIT
PROG=$B/tests/integration/prog_dedup
HOOK=$B/lib/libgreyhook.so
MiB=$((1 << 20))

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# expect_rc WANT NAME -- CMD...: runs CMD, output in $work/out (stdout) and $work/err (stderr).
expect_rc() {
    local want=$1 name=$2; shift 3
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name"; else
        fail "$name (exit $rc, wanted $want)"; sed 's/^/      /' "$work/out" "$work/err" | tail -30; fi
}
# expect_in FILE PATTERN NAME: the file matches the extended regex.
expect_in() {
    if grep -Eq -- "$2" "$1"; then ok "$3"; else fail "$3 (no '$2' in $(basename "$1"))"; sed 's/^/      /' "$1" | tail -30; fi
}
expect_not_in() {
    if grep -Eq -- "$2" "$1"; then fail "$3 ('$2' in $(basename "$1"))"; sed 's/^/      /' "$1" | tail -30; else ok "$3"; fi
}
# jq_true FILE FILTER NAME: the jq filter is true on the JSON file.
jq_true() {
    if jq -e "$2" "$1" >/dev/null 2>&1; then ok "$3"; else
        fail "$3 (jq: $2)"; jq -c '{reclaimable_bytes, groups: [.groups[]? | {count, bytes_each, reclaimable_bytes}]}' "$1" 2>&1 | head -5; fi
}
# The function and file the report names for a group member's call site.
site_fn='(.site.frames | map(select(.file != null)) | .[0].function)'

echo "== acceptance 1: three uploads of the same bytes, one of other bytes"
for variant in "linked 0" "linked 1" "procaddr_v2 0" "procaddr_v2 1"; do
    set -- $variant
    how="$1, $([ "$2" = 1 ] && echo 'freed before exit (upload fingerprints)' || echo 'alive at exit (exit snapshot)')"
    R=$work/upload-$1-$2.json
    expect_rc 0 "upload ($how): grey-run --dedup --report" -- "$B/bin/grey-run" --dedup --report "$R" -- "$PROG" upload $1 $2
    jq_true "$R" '.groups | length == 1' "upload ($how): exactly one group"
    jq_true "$R" '.groups[0].count == 3 and .groups[0].bytes_each == 8388608' "upload ($how): three buffers of 8 MiB"
    jq_true "$R" ".reclaimable_bytes == $((16 * MiB)) and .groups[0].reclaimable_bytes == $((16 * MiB))" \
        "upload ($how): 16 MiB reclaimable"
    jq_true "$R" "[.groups[0].buffers[] | $site_fn] | unique == [\"load_weights\"]" \
        "upload ($how): attributed to load_weights"
    jq_true "$R" '[.groups[0].buffers[].site.frames[] | select(.file != null)][0].file | endswith("prog_dedup.c")' \
        "upload ($how): with its source file"
    other=$(sed -n 's/^buffer other //p' "$work/out")
    weights=$(sed -n 's/^buffer weights[0-9] //p' "$work/out" | sort | paste -sd' ')
    jq_true "$R" "[.groups[].buffers[].address] | index(\"$other\") == null" "upload ($how): the fourth buffer is in no group"
    jq_true "$R" "([.groups[0].buffers[].address] | sort | join(\" \")) == \"$weights\"" \
        "upload ($how): the group is the three uploaded buffers"
    jq_true "$R" '.groups[0].alive_together == true' "upload ($how): alive together"
    src=$([ "$2" = 1 ] && echo upload || echo exit)
    jq_true "$R" "[.groups[0].buffers[].fingerprint_source] | unique == [\"$src\"]" \
        "upload ($how): fingerprints from the $src"
done
expect_in "$work/err" '^grey: dedup: 16.0 MiB reclaimable in 1 group; largest: 3 x 8.0 MiB from load_weights \(prog_dedup.c:[0-9]+\)$' \
    "grey-run's summary: the savings and the call site"
expect_in "$work/err" '^grey: buffers: peak 32.0 MiB at ' "grey-run's summary: the peak"
expect_in "$work/err" "^grey: full report: $work/upload-procaddr_v2-1.json " "grey-run's summary: where the report is"
if [ "$(grep -c '^grey: \(dedup\|buffers\|full report\):' "$work/err")" -eq 3 ]; then ok "the summary is three lines"; else fail "the summary is not three lines"; fi
R=$work/upload-linked-0.json
jq_true "$R" '.peak.bytes == 33554432' "the peak: 32 MiB"
jq_true "$R" '[.top_sites[] | select((.site.frames | map(select(.file != null)) | .[0].function) == "load_weights") | .bytes] | add == 25165824' \
    "the peak's sites: load_weights held 24 MiB"
jq_true "$R" '.never_touched.count == 0' "every buffer was used"
if [ -z "$(ls -A "$GREY_DIR" | grep -v '^live$' | grep -v '^report-' || true)" ]; then ok "grey-run removed the raw records"; else fail "raw records left: $(ls "$GREY_DIR")"; fi

echo "== call-site names without binutils (libdw in-process; addr2line absent from PATH)"
nobin=$work/nobin; mkdir -p "$nobin"     # an empty PATH: no addr2line, nothing else either
R=$work/inlined.json
expect_rc 0 "inlined: grey-run --dedup --report with PATH=$nobin" -- \
    env PATH="$nobin" "$B/bin/grey-run" --dedup --report "$R" -- "$PROG" inlined
if (PATH="$nobin"; command -v addr2line) >/dev/null 2>&1; then fail "addr2line is still on the test's PATH"
else ok "addr2line is not on the test's PATH"; fi
alloc_line=$(sed -n 's/^line alloc //p' "$work/out" | head -1)
call_line=$(sed -n 's/^line call //p' "$work/out" | head -1)
frame='([.groups[0].buffers[0].site.frames[] | select(.file != null)][0])'
jq_true "$R" '(.groups | length) == 1 and .groups[0].count == 2' "inlined: the two duplicates form one group"
jq_true "$R" "$frame | .function == \"alloc_inlined\" and (.file | endswith(\"prog_dedup.c\")) and .line == $alloc_line" \
    "inlined: the call site is alloc_inlined at prog_dedup.c:$alloc_line (function, file:line)"
jq_true "$R" "$frame | .inlined_into[0].function == \"load_inlined\" and (.inlined_into[0].file | endswith(\"prog_dedup.c\")) and .inlined_into[0].line == $call_line" \
    "inlined: inlined into load_inlined at prog_dedup.c:$call_line"
jq_true "$R" '[.groups[0].buffers[].site.frames[] | select(.function == "inlined")] | length > 0' \
    "inlined: the next frame out is named too (inlined, in the same report)"
env PATH="$nobin" "$B/bin/grey-report" "$R" >"$work/inlined.txt" 2>&1
expect_in "$work/inlined.txt" "alloc_inlined \\(prog_dedup.c:$alloc_line\\) inlined into load_inlined \\(prog_dedup.c:$call_line\\)" \
    "inlined: grey-report's text names both, with their lines"

echo "== acceptance 1, HIP: hipMalloc x4, the same bytes uploaded to three with hipMemcpy"
HIP_PROG=$B/tests/hip/prog_hip_dedup
for variant in "htod 0" "htod 1" "default 0" "reset -"; do
    set -- $variant
    if [ "$1" = reset ]; then
        how="hipMemset on the device, then hipDeviceReset (snapshot before the reset)"; src=teardown
        args=(reset); R=$work/hip-reset.json
    else
        how="hipMemcpy $1, $([ "$2" = 1 ] && echo 'freed before exit (upload fingerprints)' || echo 'alive at exit (hipMemcpy read-back)')"
        src=$([ "$2" = 1 ] && echo upload || echo exit)
        args=(upload "$1" "$2"); R=$work/hip-$1-$2.json
    fi
    expect_rc 0 "HIP ($how): grey-run --dedup --report" -- "$B/bin/grey-run" --dedup --report "$R" -- "$HIP_PROG" "${args[@]}"
    jq_true "$R" '.groups | length == 1' "HIP ($how): exactly one group"
    jq_true "$R" '.groups[0].count == 3 and .groups[0].bytes_each == 8388608' "HIP ($how): three buffers of 8 MiB"
    jq_true "$R" ".reclaimable_bytes == $((16 * MiB)) and .groups[0].reclaimable_bytes == $((16 * MiB))" \
        "HIP ($how): 16 MiB reclaimable"
    jq_true "$R" "[.groups[0].buffers[] | $site_fn] | unique == [\"load_weights\"]" \
        "HIP ($how): attributed to load_weights"
    weights=$(sed -n 's/^buffer weights[0-9] //p' "$work/out" | sort | paste -sd' ')
    jq_true "$R" "([.groups[0].buffers[].address] | sort | join(\" \")) == \"$weights\"" \
        "HIP ($how): the group is the three weights buffers"
    jq_true "$R" "[.groups[0].buffers[].fingerprint_source] | unique == [\"$src\"]" \
        "HIP ($how): fingerprints from the $src"
done
expect_in "$work/err" '^grey: dedup: 16.0 MiB reclaimable in 1 group; largest: 3 x 8.0 MiB from load_weights \(prog_hip_dedup.c:[0-9]+\)$' \
    "HIP: grey-run's summary names the savings and the call site"

echo "== acceptance 2: duplicates made on the device (memset, device-to-device copy)"
for teardown in none destroy reset; do
    R=$work/device-$teardown.json
    expect_rc 0 "device ($teardown): runs" -- "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" device $teardown
    jq_true "$R" "(.groups | length) == 1 and .groups[0].count == 3 and .reclaimable_bytes == $((16 * MiB))" \
        "device ($teardown): one group of three, 16 MiB"
    d=$(sed -n 's/^buffer d //p' "$work/out")
    jq_true "$R" "[.groups[].buffers[].address] | index(\"$d\") == null" "device ($teardown): the buffer set to another byte is in no group"
    jq_true "$R" "[.groups[0].buffers[] | $site_fn] | unique == [\"make_table\"]" "device ($teardown): attributed to make_table"
    want=$([ $teardown = none ] && echo exit || echo teardown)
    jq_true "$R" "[.groups[0].buffers[].fingerprint_source] | unique == [\"$want\"]" \
        "device ($teardown): found by the $want snapshot"
    jq_true "$R" '[.groups[0].buffers[].touched[]] | (index("memset") != null and index("copy_in") != null)' \
        "device ($teardown): the memsets and the copy were seen"
done

echo "== grey-report"
R=$work/upload-linked-0.json
expect_rc 0 "text report" -- "$B/bin/grey-report" "$R"
expect_in "$work/out" '^reclaimable by deduplication: 16.0 MiB in 1 group' "text: the savings"
expect_in "$work/out" 'load_weights \(prog_dedup.c:[0-9]+\)' "text: call sites as function (file:line)"
expect_in "$work/out" '16.0 MiB reclaimable: 3 identical buffers of 8.0 MiB' "text: the group"
expect_rc 0 "--json" -- "$B/bin/grey-report" --json "$R"
if jq -e '.groups[0].count == 3' "$work/out" >/dev/null 2>&1; then ok "--json parses back"; else fail "--json does not parse"; fi
if cmp -s "$work/out" "$R"; then ok "--json passes the report through unchanged"; else fail "--json changed the report"; fi
expect_rc 0 "--html" -- "$B/bin/grey-report" --html "$work/report.html" "$R"
expect_in "$work/report.html" '<svg' "html: the picture"
expect_in "$work/report.html" "$(jq -r '.groups[0].fingerprint' "$R")" "html: the group's fingerprint"
expect_in "$work/report.html" 'class="site dup"><text[^>]*>load_weights' "html: the duplicate site highlighted"
expect_in "$work/report.html" '</html>' "html: a complete page"
expect_not_in "$work/report.html" '<script|src=|href=' "html: self-contained"
expect_rc 0 "GREY_REPORT_DIR that does not exist" -- env GREY_DEDUP=1 GREY_REPORT_DIR="$work/raw" LD_PRELOAD="$HOOK" "$PROG" upload linked 0
expect_in "$work/err" "the buffer record was not written: cannot write $work/raw/" "the hook says it could not write its record"
if [ -d "$work/raw" ]; then fail "the hook made GREY_REPORT_DIR (grey-run makes it, private)"; else ok "the hook makes no directory of its own"; fi
mkdir -m 700 "$work/raw"
expect_rc 0 "raw records written by the hook itself" -- env GREY_DEDUP=1 GREY_REPORT_DIR="$work/raw" LD_PRELOAD="$HOOK" "$PROG" upload linked 0
expect_rc 0 "grey-report reads the raw directory" -- "$B/bin/grey-report" --json "$work/raw"
if jq -e '.groups[0].count == 3 and .reclaimable_bytes == 16777216' "$work/out" >/dev/null; then ok "raw directory: the same group"; else fail "raw directory: wrong report"; fi

echo "== grey-report refuses bad input clearly"
expect_rc 1 "a missing file" -- "$B/bin/grey-report" "$work/nope.json"
expect_in "$work/err" "^grey-report: cannot read $work/nope.json: No such file or directory" "a missing file: named"
printf '{"grey_report": 1, "groups": [' >"$work/garbage.json"
expect_rc 1 "garbage JSON" -- "$B/bin/grey-report" "$work/garbage.json"
expect_in "$work/err" "^grey-report: $work/garbage.json: not valid JSON" "garbage JSON: said so"
echo '{"name": "not a report"}' >"$work/other.json"
expect_rc 1 "JSON that is no report" -- "$B/bin/grey-report" "$work/other.json"
expect_in "$work/err" "not a grey buffer report" "JSON that is no report: said so"
raw=$(ls "$work/raw"/*.raw | head -1)
head -n 5 "$raw" >"$work/truncated.raw"
expect_rc 1 "a truncated raw record" -- "$B/bin/grey-report" "$work/truncated.raw"
expect_in "$work/err" "truncated.raw:5: truncated" "a truncated raw record: file and line"
expect_rc 2 "no FILE" -- "$B/bin/grey-report"
expect_in "$work/err" "try 'grey-report --help'" "usage errors point to --help"
expect_rc 2 "--json with --html" -- "$B/bin/grey-report" --json --html x "$R"
expect_rc 2 "an unknown option" -- "$B/bin/grey-report" --frobnicate "$R"
expect_rc 2 "--live with a non-number" -- "$B/bin/grey-report" --live abc
expect_rc 0 "--help" -- "$B/bin/grey-report" --help
expect_in "$work/out" '^usage: grey-report' "--help prints usage"
expect_rc 1 "--live for a process without the hook" -- "$B/bin/grey-report" --live $$
expect_in "$work/err" "no grey agent" "--live without an agent: said so"
expect_rc 125 "grey-run --report into a directory that does not exist" -- \
    "$B/bin/grey-run" --report "$work/no/such/dir/r.json" -- touch "$work/started"
if [ -e "$work/started" ]; then fail "the job ran although its report could not be written"; else ok "the job did not start"; fi

echo "== uses: kernels, untouched buffers, idle buffers"
R=$work/kernel.json
expect_rc 0 "kernel program" -- "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" kernel
unused=$(sed -n 's/^buffer unused //p' "$work/out")
idle=$(sed -n 's/^buffer idle //p' "$work/out")
jq_true "$R" "[.never_touched.buffers[].address] == [\"$unused\"]" "never touched: only the unused buffer"
jq_true "$R" "[.never_touched.buffers[] | $site_fn] == [\"alloc_untouched\"]" "never touched: with its call site"
for b in in out packed; do
    a=$(sed -n "s/^buffer $b //p" "$work/out")
    jq_true "$R" "[.groups[].buffers[] | select(.address == \"$a\") | .touched[]] | index(\"kernel\") != null" \
        "the buffer passed as '$b' was seen as a kernel argument"
done
jq_true "$R" "[.freed_long_after_last_use.buffers[].address] == [\"$idle\"]" "freed long after its last use: the idle buffer"
jq_true "$R" '.freed_long_after_last_use.buffers[0].idle_s >= 1.1' "freed long after its last use: idle for 1.2 s"

echo "== grey-report --live"
rm -f "$work/ready" "$work/done"
"$B/bin/grey-run" --quiet --dedup -- "$PROG" live "$work/ready" "$work/done" >"$work/live.out" 2>&1 &
runner=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
pid=$(cat "$work/ready" 2>/dev/null)
expect_rc 0 "--live asks the running process" -- "$B/bin/grey-report" --live "$pid" --json
if jq -e '.groups[0].count == 2 and .reclaimable_bytes == 8388608 and .processes[0].recorded_at == "live"' "$work/out" >/dev/null 2>&1
then ok "--live: the running process's duplicates"; else fail "--live: wrong report"; head -c 600 "$work/out"; fi
expect_rc 0 "--live text" -- "$B/bin/grey-report" --live "$pid"
expect_in "$work/out" '8.0 MiB reclaimable: 2 identical buffers' "--live text: the group"
touch "$work/done"
wait $runner
rc=$?
if [ $rc -eq 0 ]; then ok "the asked process ran on to its end"; else fail "the asked process failed (exit $rc)"; cat "$work/live.out"; fi
if [ -z "$(ls -A "$GREY_DIR/live" 2>/dev/null)" ]; then ok "its socket and live records are gone"; else fail "left in live/: $(ls "$GREY_DIR/live")"; fi

echo "== processes, bounds and settings"
R=$work/fork.json
expect_rc 0 "a job that forks" -- "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" fork
jq_true "$R" '.processes | length == 2' "fork: both processes recorded"
jq_true "$R" '.groups | length == 2 and all(.[]; (.buffers | map(.pid) | unique | length) == 1)' \
    "fork: each process's own pair, not the parent's buffers in the child"
R=$work/churn.json
expect_rc 0 "40000 allocations and frees" -- "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" churn 40000
jq_true "$R" '.processes[0].buffers_recorded <= 16384 and .processes[0].freed_records_dropped == 40000 - .processes[0].buffers_recorded' \
    "the freed history is bounded and says what it dropped"
R=$work/report-only.json
expect_rc 0 "--report without --dedup" -- "$B/bin/grey-run" --report "$R" -- "$PROG" upload linked 0
jq_true "$R" '.dedup == false and (.groups | length) == 0 and .peak.bytes == 33554432' "--report alone: the peak, no fingerprints"
expect_in "$work/err" '^grey: dedup: off' "--report alone: the summary says dedup was off"
R=$work/nosites.json
expect_rc 0 "GREY_TRACK_SITES=0" -- env GREY_TRACK_SITES=0 "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" upload linked 0
jq_true "$R" '.processes[0].sites == false and ([.groups[0].buffers[].site.frames | length] | unique) == [0]' "no call sites when turned off"
jq_true "$R" '.groups[0].count == 3' "no call sites: duplicates still found"
R=$work/depth.json
expect_rc 0 "GREY_STACK_DEPTH=2" -- env GREY_STACK_DEPTH=2 "$B/bin/grey-run" --quiet --dedup --report "$R" -- "$PROG" upload linked 0
jq_true "$R" '.processes[0].stack_depth == 2 and ([.groups[0].buffers[].site.frames | length] | max) == 2' "two frames per site"
rm -rf "$GREY_DIR"
expect_rc 0 "the hook without GREY_DEDUP or GREY_REPORT_DIR" -- env LD_PRELOAD="$HOOK" "$PROG" upload linked 0
if [ -e "$GREY_DIR" ]; then fail "a plain run wrote to the report directory: $(ls -R "$GREY_DIR")"; else ok "a plain run writes no record and opens no socket"; fi
expect_rc 0 "GREY_DEDUP=1 without grey-run" -- env GREY_DEDUP=1 LD_PRELOAD="$HOOK" "$PROG" device none
expect_in "$work/err" "buffer record written to $GREY_DIR/prog_dedup-[0-9]+\.raw" "the hook says where its record is"
raw=$(sed -n "s/.*buffer record written to \([^;]*\);.*/\1/p" "$work/err")
expect_rc 0 "grey-report on that record" -- "$B/bin/grey-report" "$raw"
expect_in "$work/out" '16.0 MiB reclaimable: 3 identical buffers of 8.0 MiB' "standalone record: the group"
if [ "$(stat -c %a "$GREY_DIR")" = 700 ]; then ok "the report directory is private (0700)"; else fail "report directory mode $(stat -c %a "$GREY_DIR")"; fi

echo "== the snapshot thread reads buffers the program frees meanwhile"
# grey's agent fingerprints buffers with no lock held while the training job frees them; the
# driver must refuse a copy from freed memory (the simulator used to fault: 3 runs in 10 crashed).
crashed=0
for i in 1 2 3 4 5 6 7 8; do
    "$B/bin/grey-run" --quiet --dedup --report "$work/race.json" -- "$B/tests/demo/train" --steps 2 \
        >/dev/null 2>"$work/race.err" || { crashed=$((crashed + 1)); tail -2 "$work/race.err" | sed 's/^/      /'; }
done
[ $crashed = 0 ] && ok "eight recorded training runs, none crashed" || fail "$crashed of 8 recorded training runs failed"

finish dedup-integration
