# Sourced by the fair-share scripts (run.sh, deep.sh): paths, this run's own simulated device and
# ledger, and the helpers that start a loaded process and count the analysis' ok/FAILED lines.
B=$(pwd)/build
LOAD=$B/tests/fairshare/fair_load
RUN=$B/bin/grey-run
TOP=$B/bin/grey-top
BENCH=$B/tests/bench/bench_hook
HOOK=$B/lib/libgreyhook.so
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d /tmp/grey-fair.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GREY_SIM_STATE=$work/sim GREY_LEDGER=$work/ledger
unset GREY_WEIGHT GREY_MAX_SHARE GREY_PACE GREY_SIM_KERNEL_US
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

now() { now_ns; }
ms() { echo $(($1 * 1000000)); }
# check NAME PYTHON-EXPR...: python prints "ok: ..." or "FAILED: ..." lines, each counted.
check() { check_py "$@"; }

# load NAME WEIGHT FROM UNTIL [fair_load options...]: one process in the background under grey-run.
load() {
    local name=$1 weight=$2 from=$3 until=$4
    shift 4
    "$RUN" --quiet --weight "$weight" -- "$LOAD" --from "$from" --until "$until" "$@" >"$work/$name.json" \
        2>"$work/$name.err" &
}

