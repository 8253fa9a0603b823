# What the test scripts share: counting checks, and the closing line CI reads ("NAME: N passed,
# N failed", ", N skipped" when some were). Source it, call ok / fail / skip for each check, and
# end the script with `finish NAME`, whose status is the script's. A skip says why; a check that
# could not run is never counted as passed.
t_passed=0
t_failed=0
t_skipped=0

ok()   { t_passed=$((t_passed + 1)); echo "ok:   $*"; }
fail() { t_failed=$((t_failed + 1)); echo "FAIL: $*"; }
skip() { t_skipped=$((t_skipped + 1)); echo "SKIP: $*"; }

# finish NAME: prints the closing line; returns 0 only when nothing failed and something passed.
finish() {
    local line="$1: $t_passed passed, $t_failed failed"
    [ "$t_skipped" -gt 0 ] && line="$line, $t_skipped skipped"
    echo "$line"
    [ "$t_failed" -eq 0 ] && [ "$t_passed" -gt 0 ]
}

# The monotonic clock in ns, as the load programs take --from/--until.
now_ns() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))'; }
# check_py [ARGS...]: runs the Python on stdin with $work and ARGS; each line it prints as
# "ok: ..." or "FAILED: ..." is counted, others are shown indented.
check_py() {
    local out line
    out=$(python3 - "$work" "$@" 2>&1) || { fail "analysis crashed: $out"; return; }
    while IFS= read -r line; do
        case "$line" in
            "ok: "*) ok "${line#ok: }" ;;
            "FAILED: "*) fail "${line#FAILED: }" ;;
            *) echo "      $line" ;;
        esac
    done <<<"$out"
}
