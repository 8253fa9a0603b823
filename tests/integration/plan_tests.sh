#!/usr/bin/env bash
# grey-plan against the simulated driver: detection, planning by mode, show/check, usage errors.
# Run from the repository root after `make` (needs build/bin/grey-plan and build/sim/libcuda.so.1).
# Stops at the first failure: later checks read the plans earlier ones wrote.
set -euo pipefail

G=${GREY_PLAN:-build/bin/grey-plan}
SIM=${GREY_TEST_SIM:-build/sim}

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
stop() { fail "$@"; finish plan_tests; exit 1; }

[ -x "$G" ] || stop "$G is not built (run make)"
[ -e "$SIM/libcuda.so.1" ] || stop "$SIM/libcuda.so.1 is not built (run make)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

GiB=$((1024 * 1024 * 1024))
MiB=$((1024 * 1024))
VRAM=$((24 * GiB))

# Two 24 GiB devices with 40 SMs each.
sim() {
    env LD_LIBRARY_PATH="$SIM" GREY_SIM_DEVICES=2 GREY_SIM_VRAM=24GiB GREY_SIM_SMS=40 \
        GREY_SIM_NAME="Grey Test GPU" GREY_SIM_CC=9.0 "$@"
}

# Runs a command expecting exit status $1; its stdout/stderr land in $tmp/out and $tmp/err.
expect_rc() {
    local want=$1 rc=0
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq "$want" ] || stop "'$*' exited $rc, expected $want; stderr: $(cat "$tmp/err")"
}

# Asserts that file $1 contains the fixed string $2.
contains() {
    grep -qF -- "$2" "$1" || stop "$1 lacks '$2'; it holds: $(cat "$1")"
}

# The integer value of KEY in a plan file's [device N] section.
plan_value() { # FILE N KEY
    awk -v dev="[device $2]" -v key="$3" '
        /^\[/ { in_dev = ($0 == dev) }
        in_dev && $1 == key && $2 == "=" { print $3; exit }' "$1"
}

# JSON printed by grey-plan: one "key": value per line, so grep is enough here.
json_values() { # FILE KEY -> the values, one per line
    sed -nE "s/^[[:space:]]*\"$2\":[[:space:]]*\"?([^\",]*)\"?,?\$/\1/p" "$1"
}

# ---------------------------------------------------------------- detect
expect_rc 0 sim "$G" detect --json
[ "$(json_values "$tmp/out" index | tr '\n' ' ')" = "0 1 " ] || stop "detect --json indices: $(cat "$tmp/out")"
[ "$(json_values "$tmp/out" vram_total_bytes | sort -u)" = "$VRAM" ] || stop "detect --json VRAM: $(cat "$tmp/out")"
[ "$(json_values "$tmp/out" sm_count | sort -u)" = "40" ] || stop "detect --json SMs: $(cat "$tmp/out")"
[ "$(json_values "$tmp/out" name | sort -u)" = "Grey Test GPU" ] || stop "detect --json name: $(cat "$tmp/out")"
[ "$(json_values "$tmp/out" compute_capability | sort -u)" = "9.0" ] || stop "detect --json cc"
free=$(json_values "$tmp/out" vram_free_bytes | head -1)
[ -n "$free" ] && [ "$free" -le "$VRAM" ] && [ "$free" -gt 0 ] || stop "detect --json free: '$free'"
ok "detect --json lists 2 devices with GREY_SIM_VRAM and GREY_SIM_SMS"

expect_rc 0 sim "$G" detect
[ "$(grep -c 'Grey Test GPU.*24.0 GiB' "$tmp/out")" -eq 2 ] || stop "detect table: $(cat "$tmp/out")"
ok "detect prints a table with both devices"

expect_rc 1 env LD_LIBRARY_PATH="$SIM" GREY_SIM_DEVICES=0 "$G" detect
contains "$tmp/err" "grey-plan: cuInit failed: CUDA_ERROR_NO_DEVICE"
ok "no devices: exit 1 naming the CUDA error"

if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    expect_rc 1 env LD_LIBRARY_PATH="$tmp/nowhere" "$G" detect
    contains "$tmp/err" "grey-plan: no CUDA driver: libcuda.so.1"
    ok "no driver: exit 1 'no CUDA driver'"
fi

# ---------------------------------------------------------------- planning by mode
for mode in safe balanced aggressive; do
    expect_rc 0 sim "$G" --mode "$mode" --out "$tmp/$mode.conf"
    [ ! -e "$tmp/$mode.conf.tmp" ] || stop "$mode: temporary file left behind"
    contains "$tmp/err" "grey-plan: device 1 \"Grey Test GPU\" 24.0 GiB: budget 21.6 GiB"
    contains "$tmp/err" "($mode)"
done
ok "plans written for every mode with a summary on stderr"

# 90% budget and 75/85/90% caps, rounded down to whole MiB
budget=$((VRAM * 90 / 100 / MiB * MiB))
for spec in safe:75 balanced:85 aggressive:90; do
    mode=${spec%:*} pct=${spec#*:}
    want=$((VRAM * pct / 100 / MiB * MiB))
    [ "$want" -le "$budget" ] || want=$budget
    for d in 0 1; do
        [ "$(plan_value "$tmp/$mode.conf" $d budget)" = "$budget" ] || stop "$mode dev $d budget"
        [ "$(plan_value "$tmp/$mode.conf" $d process_cap)" = "$want" ] ||
            stop "$mode dev $d process_cap $(plan_value "$tmp/$mode.conf" $d process_cap) != $want"
        [ "$(plan_value "$tmp/$mode.conf" $d vram)" = "$VRAM" ] || stop "$mode dev $d vram"
    done
done
ok "budget is 90% of VRAM; caps are 75/85/90% (clamped to the budget)"

for d in 0 1; do
    s=$(plan_value "$tmp/safe.conf" $d process_cap)
    b=$(plan_value "$tmp/balanced.conf" $d process_cap)
    a=$(plan_value "$tmp/aggressive.conf" $d process_cap)
    [ "$s" -lt "$b" ] && [ "$b" -lt "$a" ] || stop "device $d caps not increasing: $s $b $a"
done
ok "aggressive caps > balanced caps > safe caps"

contains "$tmp/safe.conf" "Written by grey-plan on"
contains "$tmp/safe.conf" "# 21.6 GiB: all hooked processes on this device together"
ok "plan file is commented with human sizes"

expect_rc 0 sim "$G" --mode balanced
cmp -s <(grep -v '^# Written' "$tmp/out") <(grep -v '^# Written' "$tmp/balanced.conf") ||
    stop "plan on stdout differs from --out"
ok "without --out the plan goes to stdout"

# ---------------------------------------------------------------- overrides
expect_rc 0 sim "$G" --cap 10GiB --budget 20GiB --out "$tmp/over.conf"
[ "$(plan_value "$tmp/over.conf" 0 process_cap)" = $((10 * GiB)) ] || stop "--cap not applied"
[ "$(plan_value "$tmp/over.conf" 1 budget)" = $((20 * GiB)) ] || stop "--budget not applied"
ok "--cap and --budget apply to every device"

expect_rc 0 sim "$G" --cap 100GiB --budget 1.5T --out "$tmp/clamp.conf"
contains "$tmp/err" "warning: device 0 \"Grey Test GPU\": --budget 1.5 TiB is more than its VRAM 24.0 GiB"
contains "$tmp/err" "warning: device 1 \"Grey Test GPU\": --cap 100.0 GiB is more than its VRAM 24.0 GiB"
[ "$(plan_value "$tmp/clamp.conf" 1 process_cap)" = "$VRAM" ] || stop "--cap not clamped to VRAM"
ok "oversized --cap/--budget are clamped to VRAM with a warning naming the device"

expect_rc 0 sim "$G" --cap 20GiB --budget 10GiB --out "$tmp/capbud.conf"
contains "$tmp/err" "--cap 20.0 GiB is more than the budget 10.0 GiB; using 10.0 GiB"
[ "$(plan_value "$tmp/capbud.conf" 0 process_cap)" = $((10 * GiB)) ] || stop "cap > budget kept"
ok "--cap above --budget is lowered to the budget with a warning"

# ---------------------------------------------------------------- show and check
expect_rc 0 "$G" show --json "$tmp/aggressive.conf"
[ "$(json_values "$tmp/out" process_cap_bytes | tr '\n' ' ')" = \
  "$(plan_value "$tmp/aggressive.conf" 0 process_cap) $(plan_value "$tmp/aggressive.conf" 1 process_cap) " ] ||
    stop "show --json caps differ from the plan: $(cat "$tmp/out")"
[ "$(json_values "$tmp/out" budget_bytes | sort -u)" = "$budget" ] || stop "show --json budget"
[ "$(json_values "$tmp/out" vram_bytes | sort -u)" = "$VRAM" ] || stop "show --json vram"
[ "$(json_values "$tmp/out" mode)" = "aggressive" ] || stop "show --json mode"
[ "$(json_values "$tmp/out" version)" = "1" ] || stop "show --json version"
ok "show --json gives the planned integer bytes"

expect_rc 0 "$G" show "$tmp/safe.conf"
contains "$tmp/out" '"Grey Test GPU": vram 24.0 GiB, budget 21.6 GiB, per-process cap 18.0 GiB'
contains "$tmp/out" 'device 1 (GPU-'
ok "show prints human sizes"

expect_rc 0 "$G" check "$tmp/safe.conf"
[ "$(cat "$tmp/out")" = "$tmp/safe.conf: ok (2 devices)" ] || stop "check output: $(cat "$tmp/out")"
ok "check accepts a generated plan"

line=$(grep -n '^budget' "$tmp/safe.conf" | head -1 | cut -d: -f1)
sed "${line}s/^budget/budgit/" "$tmp/safe.conf" >"$tmp/bad.conf"
expect_rc 1 "$G" check "$tmp/bad.conf"
section=$(grep -n '^\[device 0\]' "$tmp/safe.conf" | cut -d: -f1)
[ "$(cat "$tmp/err")" = "$tmp/bad.conf:$line: unknown key 'budgit' in [device 0]
$tmp/bad.conf:$section: [device 0] is missing 'budget'" ] ||
    stop "check message: $(cat "$tmp/err")"
ok "check on a malformed plan exits 1 naming every error's line"

sed "s/^process_cap = [0-9]*/process_cap = 12XB/" "$tmp/safe.conf" >"$tmp/bad2.conf"
expect_rc 1 "$G" show "$tmp/bad2.conf"
contains "$tmp/err" "process_cap: unknown unit 'XB' in '12XB'"
ok "show refuses a malformed plan with exit 1"

expect_rc 1 "$G" check "$tmp/missing.conf"
contains "$tmp/err" "$tmp/missing.conf: cannot open: No such file or directory"
ok "check on a missing file exits 1"

# ---------------------------------------------------------------- usage
expect_rc 0 "$G" --help
contains "$tmp/out" "usage: grey-plan [--mode safe|balanced|aggressive]"
expect_rc 0 "$G" show --help
contains "$tmp/out" "grey-plan check FILE"
ok "--help prints the usage and exits 0"

usage_error() { # EXPECTED-MESSAGE ARGS...
    local msg=$1
    shift
    expect_rc 2 sim "$G" "$@"
    contains "$tmp/err" "grey-plan: $msg"
    contains "$tmp/err" "try 'grey-plan --help'"
    [ ! -s "$tmp/out" ] || stop "'$*' wrote to stdout on a usage error"
}
usage_error "--cap: unknown unit 'XB' in '12XB'" --cap 12XB
usage_error "--budget: '-1G' is not a size" --budget -1G
usage_error "--mode: unknown mode 'fast'" --mode fast
usage_error "unknown option '--bogus'" --bogus
usage_error "option '--out' needs an argument" --out
usage_error "unknown command 'plan'" plan
usage_error "show: missing FILE" show
usage_error "check: unexpected argument 'b'" check a b
usage_error "unknown option '--yaml'" detect --yaml
ok "usage errors exit 2 with one line and the --help hint"

finish plan_tests
