#!/usr/bin/env bash
# make pacer-tsan: two instrumented processes at weights 3 and 1 on one simulated device, each
# with 4 threads launching through the instrumented hook (mk/pacer-tsan.mk); ThreadSanitizer
# exits 66 on a race. The run must have contended (turns handed over) for it to mean anything.
set -uo pipefail
hook=$1 prog=$2
B=$(pwd)/build
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
work=$(mktemp -d /tmp/grey-tsan-pacer.XXXXXX)
trap 'rm -rf "$work"' EXIT
export LD_LIBRARY_PATH=$B/sim GREY_SIM_STATE=$work/sim GREY_LEDGER=$work/ledger
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
echo "== the pacer under ThreadSanitizer: weights 3 and 1, 4 threads each, 200 us kernels, 2 s"
pass=0 fail=0
ok() { echo "ok:   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
until=$(( $(now_ns) + 2000000000 ))
for w in 3 1; do
    timeout 60 env GREY_WEIGHT=$w LD_PRELOAD=$hook "$prog" "$until" 4 >"$work/w$w.out" 2>"$work/w$w.err" &
    echo $! >"$work/w$w.pid"
done
# While both run (the view lists a device only while it has live processes).
sleep 1.2
handoffs=$("$B/bin/grey-top" --once --json --ledger "$work/ledger" |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(d.get("handoffs",0) for d in j["devices"]))' 2>/dev/null)
for w in 3 1; do
    wait "$(cat "$work/w$w.pid")"
    rc=$?
    out=$(cat "$work/w$w.out")
    if [ $rc -eq 0 ] && [[ $out =~ ^launched\ ([0-9]+)\ allocated\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] \
        && [ "${BASH_REMATCH[2]}" -gt 0 ]; then
        ok "weight $w: no race, $out"
    else
        bad "weight $w: exit $rc, '$out'"
        sed 's/^/      /' "$work/w$w.err" | head -60
    fi
done
if [ "${handoffs:-0}" -gt 0 ]; then ok "the device was contended: $handoffs turns handed over"; else bad "no turn was handed over (handoffs '${handoffs:-}'): the contended path did not run"; fi
echo "pacer-tsan: $pass passed, $fail failed"
[ $fail -eq 0 ]
