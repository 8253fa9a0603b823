#!/usr/bin/env bash
# grey-noded, the node service, as a node would run it: root's service owning the sealed node
# ledger, a member of the GPU group attacking what it hands out, a user outside the group, hooked
# jobs getting their ledger and caps from it, the watchdog catching a process without the hook,
# a member raising its own fair-share weight in the ledger while two users' jobs saturate the
# simulated GPU, and everything as before when the service is absent. Needs root (it creates two users and a
# group, and removes them). Starts the service itself in the foreground, bounded in time, and
# stops exactly the processes it started. Run from the repository root (make noded-tests).
set -uo pipefail

root=$(pwd)
B=$root/build
HOOK=$B/lib/libgreyhook.so
NODED=$B/bin/grey-noded
ATTACK=$B/tests/noded/prog_noded_attack
TWO=$B/tests/integration/prog_two_allocs
HOLD=$B/tests/integration/prog_hold
LOAD=$B/tests/fairshare/fair_load
TOP=$B/bin/grey-top
EXPORTER=$B/bin/grey-exporter
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
MiB=$((1 << 20))

[ "$(id -u)" = 0 ] || { echo "FAIL: tests/noded needs root (it creates users and runs the service)"; exit 1; }
[ -e /etc/grey/plan.conf ] && { echo "FAIL: /etc/grey/plan.conf exists: it would override the test's admin plan"; exit 1; }

G=greyn-gpu
UA=greyn-alice         # in the group, admin weight 3
UB=greyn-bob           # in the group, admin weight 1
UC=greyn-mallory       # not in the group
work=$(mktemp -d /tmp/grey-noded.XXXXXX)
pids=()                # every background process this script started, ended at cleanup
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    for u in $UA $UB $UC; do userdel "$u" 2>/dev/null; done
    groupdel $G 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
for u in $UA $UB $UC; do id "$u" >/dev/null 2>&1 && userdel "$u"; done  # a run killed before its cleanup
getent group $G >/dev/null && groupdel $G
groupadd $G && useradd -M -N -g users -G $G $UA && useradd -M -N -g users -G $G $UB && useradd -M -N -g users $UC ||
    { echo "FAIL: cannot create the test's users"; exit 1; }
chmod 0755 "$work"
mkdir -m 1777 "$work/shm"
mkdir -m 0755 "$work/run"
mkdir -m 1777 "$work/out"
SOCK=$work/run/noded.sock
cat >"$work/plan.conf" <<EOF
grey-plan-version = 1
ledger = "$work/shm/node.ledger"
ledger_group = "$G"
node_service = "$SOCK"
watchdog = kill
[device 0]
budget = 1GiB
process_cap = 512MiB
[user $UA]
weight = 3
[user $UB]
weight = 1
EOF
chmod 0644 "$work/plan.conf"
# One simulated GPU state for the whole node, so the service's NVML sees every user's memory.
: >"$work/sim"
chmod 0666 "$work/sim"
ENVS=(HOME=/nonexistent GREY_ADMIN_PLAN="$work/plan.conf" LD_LIBRARY_PATH="$B/sim" GREY_SIM_VRAM=8GiB GREY_SIM_STATE="$work/sim")

# as USER CMD...: CMD as USER (root: root) in the test's environment. Background processes are
# started with setpriv and env written out, which both exec: $! is then the very process the
# script stops later, never a parent that would leave it running.
as() {
    local u=$1; shift
    if [ "$u" = root ]; then env "${ENVS[@]}" "$@"
    else setpriv --reuid="$u" --regid=users --init-groups env "${ENVS[@]}" "$@"; fi
}
show() { sed 's/^/      /' "$@" 2>/dev/null | head -8; }
# wait_for FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN (default 10 s).
wait_for() {
    local n=$(( ${3:-10} * 20 ))
    for ((i = 0; i < n; i++)); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}
# weight_race NAME TARGET: alice (admin weight 3) and bob (admin weight 1) saturate the simulated
# GPU with 200 us kernels for 3 s, while bob rewrites his own slot's weight to 1000 through
# TARGET (the service's socket, or the ledger file) from before the window until after it. Each
# job's kernels completed in the window go to $work/NAME-a.json and NAME-b.json, the attack's
# lines to NAME-attack.out, grey-top --json taken in the window to NAME-top.json, bob's job's pid
# to $race_b.
weight_race() {
    local name=$1 target=$2 t F U pa pt
    t=$(now_ns); F=$((t + 1500000000)); U=$((F + 3000000000))
    setpriv --reuid=$UA --regid=users --init-groups env "${ENVS[@]}" LD_PRELOAD="$HOOK" \
        "$LOAD" --from $F --until $U >"$work/$name-a.json" 2>"$work/$name-a.err" &
    pa=$!; pids+=("$pa")
    setpriv --reuid=$UB --regid=users --init-groups env "${ENVS[@]}" LD_PRELOAD="$HOOK" \
        "$LOAD" --from $F --until $U >"$work/$name-b.json" 2>"$work/$name-b.err" &
    race_b=$!; pids+=("$race_b")
    setpriv --reuid=$UB --regid=users --init-groups "$ATTACK" "$target" weight $race_b 1000 4.7 \
        >"$work/$name-attack.out" 2>&1 &
    pt=$!; pids+=("$pt")
    sleep 2.5 # inside the window: what grey-top shows of the two
    as $UA "$TOP" --once --json >"$work/$name-top.json" 2>"$work/$name-top.err"
    wait "$pa" "$race_b" "$pt"
}
# scrape NAME: one grey-exporter (root, per-process series) on an ephemeral port of 127.0.0.1,
# scraped once into $work/NAME.prom, then stopped by its pid; its stderr in $work/NAME-exp.err.
scrape() {
    local port="" e
    env "${ENVS[@]}" "$EXPORTER" --listen 127.0.0.1:0 --per-process 2>"$work/$1-exp.err" &
    e=$!; pids+=("$e")
    wait_for "$work/$1-exp.err" "serving http://127.0.0.1:[0-9]*/metrics" 10 &&
        port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/$1-exp.err")
    [ -n "$port" ] && python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
        "http://127.0.0.1:$port/metrics" >"$work/$1.prom" 2>>"$work/$1-exp.err"
    kill -TERM "$e"; wait "$e" 2>/dev/null
}
# holders NAME LEDGER PID...: grey-top --json in $work/NAME.json and the scrape in NAME.prom read
# LEDGER and show each PID holding 400 MiB on GPU 0.
holders() {
    check_py "$@" <<'PY'
import json, re, sys
w, name, ledger, pids = sys.argv[1], sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]]
top = json.load(open(f"{w}/{name}.json"))
held = {p["pid"]: sum(d["used_bytes"] for d in p["devices"] if d["index"] == 0) for p in top["processes"]}
ok = top["ledger"] == ledger and all(held.get(p) == 400 << 20 for p in pids)
print(("ok" if ok else "FAILED") + f": {name}: grey-top --once --json reads {top['ledger']} and shows "
      + ", ".join(f"pid {p} holding {held.get(p, 0) >> 20} MiB" for p in pids))
prom = open(f"{w}/{name}.prom").read()
seen = {int(m.group(1)): int(float(m.group(2))) for m in
        re.finditer(r'^grey_process_vram_used_bytes\{pid="(\d+)"[^}]*gpu="0"[^}]*\} (\S+)$', prom, re.M)}
ok = all(seen.get(p) == 400 << 20 for p in pids)
print(("ok" if ok else "FAILED") + f": {name}: one grey-exporter scrape shows "
      + ", ".join(f"pid {p} holding {seen.get(p, 0) >> 20} MiB" for p in pids))
PY
}
# shares NAME LO HI PID WEIGHT: checks bob's share of the kernels completed in weight_race NAME is
# in [LO, HI], and that grey-top showed bob's job PID with WEIGHT (the one the pacers use).
shares() {
    check_py "$@" <<'PY'
import json, sys
w, name, lo, hi, pid, weight = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
a, b = (json.load(open(f"{w}/{name}-{n}.json"))["completed"] for n in "ab")
share = b / max(a + b, 1)
busy = (a + b) * 200e-6 / 3.0
print(("ok" if lo <= share <= hi else "FAILED") +
      f": {name}: alice (weight 3) {a} kernels, bob (weight 1, rewritten to 1000) {b}: bob's share {share:.1%} "
      f"(wanted {lo:.1%} to {hi:.1%}; device busy {busy:.0%})")
top = json.load(open(f"{w}/{name}-top.json"))
shown = [d["fair_share"]["weight"] for p in top["processes"] if p["pid"] == pid for d in p["devices"] if d["index"] == 0]
print(("ok" if shown == [weight] else "FAILED") + f": {name}: grey-top shows bob's job with weight {shown} (the pacers' {weight})")
PY
}
noded_pid=
start_noded() {
    : >"$work/noded.log"
    env "${ENVS[@]}" "$NODED" --foreground --interval 100 --slack 0 --verbose 2>>"$work/noded.log" &
    noded_pid=$!
    pids+=("$noded_pid")
    wait_for "$work/noded.log" "serving the node ledger at $SOCK" 10
}

echo "== without the service: as today, with one line"
as root env LD_PRELOAD="$HOOK" true 2>"$work/root0.err"   # root makes the node ledger file, as at boot
as $UA env LD_PRELOAD="$HOOK" "$TWO" $((400 * MiB)) $((200 * MiB)) /dev/null >"$work/plain.out" 2>"$work/plain.err"
rc=$?
if [ "$(grep -c . "$work/plain.err")" = 1 ] && grep -q "grey-noded $SOCK: not running; using the ledger as without the service" "$work/plain.err"; then
    ok "no service: one line says so"
else fail "no service: one line says so"; show "$work/plain.err"; fi
if [ $rc = 0 ] && grep -qx 'first ok' "$work/plain.out" && grep -qx 'second denied' "$work/plain.out"; then
    ok "no service: the admin cap holds through the file ledger (400 MiB ok, 200 MiB more denied)"
else fail "no service: the admin cap holds through the file ledger"; show "$work/plain.out" "$work/plain.err"; fi

echo "== the service starts"
if start_noded; then ok "grey-noded serves the node ledger (1 GPU, watchdog kill)"
else fail "grey-noded serves the node ledger"; show "$work/noded.log"; fi
grep -q "watchdog kill" "$work/noded.log" && ok "the plan's watchdog policy is in force" || fail "the plan's watchdog policy is in force"
as root "$NODED" --foreground 2>"$work/second.err"
if [ $? != 0 ] && grep -q "another grey-noded answers there" "$work/second.err"; then
    ok "a second service refuses to start beside the first"
else fail "a second service refuses to start beside the first"; show "$work/second.err"; fi

echo "== a group member attacks what the service hands out"
as $UA "$ATTACK" "$SOCK" seals >"$work/seals.out" 2>"$work/seals.err"
for a in ledger-truncate ledger-grow ledger-unseal-seal-write limits-write limits-map-write limits-mprotect-write \
         limits-reopen-write limits-truncate owners-write owners-map-write owners-mprotect-write owners-reopen-write \
         owners-proc-mem-write owners-punch-hole owners-truncate owners-unseal-seal-write; do
    if grep -qx "$a refused" "$work/seals.out"; then ok "member: $a is refused"
    else fail "member: $a is refused"; show "$work/seals.out" "$work/seals.err"; fi
done
grep -qx "ledger-path none" "$work/seals.out" && ok "member: the ledger has no path in any file system" \
    || { fail "member: the ledger has no path in any file system"; show "$work/seals.out"; }
as $UC "$ATTACK" "$SOCK" seals >"$work/out.out" 2>"$work/out.err"
if [ $? = 1 ] && grep -q "refused: uid $(id -u $UC) is not in the ledger_group '$G'" "$work/out.err" &&
   wait_for "$work/noded.log" "refused pid" 3; then
    ok "a user outside the group gets no ledger, with a reason, and the service logs it"
else fail "a user outside the group gets no ledger"; show "$work/out.err"; fi

echo "== hooked jobs get their ledger and caps from the service"
as $UA env LD_PRELOAD="$HOOK" GREY_LOG=1 GREY_CAP=4GiB "$TWO" $((400 * MiB)) $((200 * MiB)) /dev/null \
    >"$work/job.out" 2>"$work/job.err"
rc=$?
grep -q "loaded: ledger grey-noded:$SOCK" "$work/job.err" && ok "the hooked job maps the service's ledger" \
    || { fail "the hooked job maps the service's ledger"; show "$work/job.err"; }
if [ $rc = 0 ] && grep -qx 'first ok' "$work/job.out" && grep -qx 'second denied' "$work/job.out"; then
    ok "the admin cap 512 MiB holds (GREY_CAP=4GiB asks more): 400 MiB ok, 200 MiB more denied"
else fail "the admin cap holds under the service"; show "$work/job.out" "$work/job.err"; fi
grep -q "gave the ledger to pid .* (uid $(id -u $UA))" "$work/noded.log" && ok "the service logs the hand-out" \
    || fail "the service logs the hand-out"

echo "== a member rewrites budgets and caps in the writable ledger: the sealed limits still hold"
setpriv --reuid=$UA --regid=users --init-groups env "${ENVS[@]}" LD_PRELOAD="$HOOK" \
    "$TWO" $((400 * MiB)) $((200 * MiB)) "$work/out/go-a" >"$work/a.out" 2>"$work/a.err" &
pid_a=$!; pids+=("$pid_a")
setpriv --reuid=$UA --regid=users --init-groups env "${ENVS[@]}" LD_PRELOAD="$HOOK" \
    "$HOLD" $((400 * MiB)) "$work/out/c.status" "$work/out/c.release" 2>"$work/c.err" &
pid_c=$!; pids+=("$pid_c")
wait_for "$work/a.out" "first ok" 10 && wait_for "$work/out/c.status" "^ok" 10 \
    && ok "two hooked jobs hold 400 MiB each" || { fail "two hooked jobs hold 400 MiB each"; show "$work/a.out" "$work/a.err" "$work/c.err"; }
as $UA "$TOP" --once --json >"$work/svc-top.json" 2>"$work/svc-top.err"
scrape svc-top
holders svc-top "grey-noded:$SOCK" "$pid_a" "$pid_c"
grep -q "(ledger grey-noded:$SOCK)" "$work/svc-top-exp.err" && ok "grey-exporter says it reads the service's ledger" \
    || { fail "grey-exporter reads the service's ledger"; show "$work/svc-top-exp.err"; }
as $UC "$TOP" --once --json >/dev/null 2>"$work/out-top.err"
if [ $? = 1 ] && grep -q "refused: uid $(id -u $UC) is not in the ledger_group '$G'" "$work/out-top.err"; then
    ok "grey-top as a user outside the group: refused by the service, with its reason"
else fail "grey-top outside the group is refused"; show "$work/out-top.err"; fi
as $UA "$ATTACK" "$SOCK" raise >"$work/raise.out" 2>&1
grep -qx raised "$work/raise.out" && ok "the member rewrote every budget and cap in the shared ledger" \
    || { fail "the member rewrote the shared ledger"; show "$work/raise.out"; }
as $UA env LD_PRELOAD="$HOOK" "$TWO" $((300 * MiB)) 1 /dev/null >"$work/d.out" 2>"$work/d.err"
grep -qx 'first denied' "$work/d.out" && ok "a third job's 300 MiB is still denied by the sealed 1 GiB budget" \
    || { fail "the sealed budget holds after the rewrite"; show "$work/d.out" "$work/d.err"; }
touch "$work/out/go-a"
wait "$pid_a"
grep -qx 'second denied' "$work/a.out" && ok "a live job whose cap was raised in the ledger is still held to 512 MiB" \
    || { fail "the sealed cap holds after the rewrite"; show "$work/a.out" "$work/a.err"; }
wait_for "$work/noded.log" "tampering: GPU-.*'s budget in the ledger was rewritten; put back to 1.0 GiB" 5 \
    && ok "the service reports the rewritten budget and puts it back" \
    || { fail "the service reports the rewritten budget"; show "$work/noded.log"; }
as $UA "$ATTACK" "$SOCK" forget >/dev/null 2>&1
wait_for "$work/noded.log" "tampering: on GPU-.* the slots hold 400.0 MiB but the device total is 0 B" 5 \
    && ok "the service reports a device total below what the slots hold" \
    || { fail "the service reports a device total below the slots"; show "$work/noded.log"; }

echo "== a member raises its own weight in the ledger: the admin's weights still hold"
weight_race svc "$SOCK"
grep -q "^rewrote slot [0-9]*: weight 1 -> 1000" "$work/svc-attack.out" && grep -q "^landed slot [0-9]* weight 1000" "$work/svc-attack.out" \
    && ok "bob's slot publishes weight 1000 in the shared ledger (rewritten from 1, and still there at the end)" \
    || { fail "bob rewrote his slot's weight"; show "$work/svc-attack.out"; }
shares svc 0.2125 0.2875 "$race_b" 1
wait_for "$work/noded.log" "tampering: slot [0-9]* (pid $race_b, user $UB) publishes weight 1000 on GPU 0 (GPU-[0-9a-f]*), over the admin's 1 for that user; every pacer uses 1" 3 \
    && ok "the service names the tampering: slot, pid, user, weight, GPU and the admin's ceiling" \
    || { fail "the service reports the raised weight"; show "$work/noded.log"; }
grep -q "tampering: slot .* user $UA" "$work/noded.log" && { fail "alice's honest weight 3 is reported as tampering"; } \
    || ok "alice's weight 3, her admin's, is not reported"

echo "== who owns a slot is what the kernel says, not what the slot says"
as $UA "$ATTACK" "$SOCK" owner "$pid_c" 3 >"$work/own-c.out" 2>&1
grep -qx "owner slot [0-9]* known uid $(id -u $UA) ceiling 3 weight 3" "$work/own-c.out" \
    && ok "alice's job is vouched for: her uid, her admin ceiling 3, paced at 3" \
    || { fail "alice's job is vouched for"; show "$work/own-c.out"; }
as $UB "$ATTACK" "$SOCK" forge "$pid_c" 3 >"$work/forge.out" 2>&1
grep -qx "owner slot [0-9]* known uid $(id -u $UB) ceiling 1 weight 1" "$work/forge.out" \
    && ok "bob's slot rewritten to say alice's pid and start time (and weight 1000) is still bob's: ceiling 1, paced at 1" \
    || { fail "a forged pid is not believed"; show "$work/forge.out"; }
unshare --pid --fork --kill-child --mount-proc setpriv --reuid=$UA --regid=users --init-groups env "${ENVS[@]}" \
    LD_PRELOAD="$HOOK" "$HOLD" $((64 * MiB)) "$work/out/ns.status" "$work/out/ns.release" 2>"$work/ns.err" &
pid_ns=$!; pids+=("$pid_ns")
if wait_for "$work/out/ns.status" "^ok 1$" 10; then
    as $UA "$ATTACK" "$SOCK" owner 1 3 >"$work/own-ns.out" 2>&1
    grep -qx "owner slot [0-9]* known uid $(id -u $UA) ceiling 3 weight 3" "$work/own-ns.out" \
        && ok "a job that is pid 1 in a PID namespace of its own is found through every process's descriptors" \
        || { fail "a job in another PID namespace is vouched for"; show "$work/own-ns.out"; }
else fail "a hooked job runs in a PID namespace of its own"; show "$work/ns.err" "$work/out/ns.status"; fi
touch "$work/out/ns.release"
wait "$pid_ns"
as $UB "$ATTACK" "$SOCK" hide 2.5 >"$work/hide.out" 2>&1
grep -q "^owner slot [0-9]* hidden$" "$work/hide.out" \
    && ok "a slot whose lock is held through no process's descriptor (only a mapping) is vouched for by nobody" \
    || { fail "a hidden holder is not vouched for"; show "$work/hide.out"; }
hider=$(sed -n 's/^hiding slot [0-9]* pid \([0-9]*\)$/\1/p' "$work/hide.out")
wait_for "$work/noded.log" "slot [0-9]* (pid $hider, as it says) holds its lock through no descriptor any process shows" 3 \
    && ok "the service logs the hidden holder" || { fail "the service logs the hidden holder"; show "$work/noded.log"; }

echo "== the watchdog"
setpriv --reuid=$UA --regid=users --init-groups env -u LD_PRELOAD "${ENVS[@]}" \
    "$HOLD" $((700 * MiB)) "$work/out/u.status" "$work/out/u.release" 2>"$work/u.err" &
pid_u=$!; pids+=("$pid_u")
{ wait "$pid_u"; } 2>/dev/null
rc=$?
grep -q "^ok" "$work/out/u.status" 2>/dev/null && ok "an unhooked process got 700 MiB from the driver" \
    || { fail "an unhooked process got 700 MiB"; show "$work/u.err"; }
[ $rc = 137 ] && ok "the watchdog ended it with SIGKILL (status 137)" || fail "the watchdog ended it with SIGKILL (status $rc)"
wait_for "$work/noded.log" "watchdog: pid $pid_u (prog_hold, user $UA) holds 700.0 MiB on GPU 0 (GPU-[0-9a-f]*), over its cap 512.0 MiB: killed (SIGKILL, policy kill)" 3 \
    && ok "the kill is logged with the process, its memory, its GPU and its cap" \
    || { fail "the kill is logged"; show "$work/noded.log"; }
kill -0 "$pid_c" 2>/dev/null && ok "a hooked job within its cap is left alone" || fail "a hooked job within its cap is left alone"

echo "== dead slots are reclaimed by the service"
kill -KILL "$pid_c"; wait "$pid_c" 2>/dev/null
wait_for "$work/noded.log" "reclaimed the slots of 1 dead process" 5 && ok "the service retires a SIGKILLed job's slot" \
    || { fail "the service retires a SIGKILLed job's slot"; show "$work/noded.log"; }

echo "== other policies: log, and signal; a GPU over its budget"
# restart_with POLICY: the plan's watchdog policy becomes POLICY and a fresh service starts.
restart_with() {
    kill -TERM "$noded_pid"; wait "$noded_pid" 2>/dev/null
    sed -i "s/^watchdog = .*/watchdog = $1/" "$work/plan.conf"
    start_noded
}
restart_with log && ok "the service restarts with watchdog = log" || { fail "restart with log"; show "$work/noded.log"; }
hold_bg() { # hold_bg NAME BYTES: an unhooked holder in the background; its pid in $held
    setpriv --reuid=$UA --regid=users --init-groups env -u LD_PRELOAD "${ENVS[@]}" \
        "$HOLD" "$2" "$work/out/$1.status" "$work/out/$1.release" 2>"$work/$1.err" &
    held=$!; pids+=("$held")
    wait_for "$work/out/$1.status" "^ok" 10
}
hold_bg l1 $((400 * MiB)); p1=$held
hold_bg l2 $((400 * MiB)); p2=$held
hold_bg l3 $((450 * MiB)); p3=$held
wait_for "$work/noded.log" "watchdog: pid $p3 (prog_hold, user $UA) holds 450.0 MiB on GPU 0 (GPU-[0-9a-f]*), over the GPU's budget 1.0 GiB (all processes hold 1.2 GiB): logged (policy log)" 5 \
    && ok "three holders within their caps but over the GPU's budget: the largest is logged" \
    || { fail "the budget overrun is logged"; show "$work/noded.log"; }
sleep 0.5
kill -0 $p1 && kill -0 $p2 && kill -0 $p3 && ok "policy log ends nobody" || fail "policy log ends nobody"
[ "$(grep -c "watchdog: pid $p3 " "$work/noded.log")" = 1 ] && ok "a process is dealt with once, not every round" \
    || fail "a process is dealt with once"
touch "$work/out/l1.release" "$work/out/l2.release" "$work/out/l3.release"
wait $p1 $p2 $p3
restart_with signal && ok "the service restarts with watchdog = signal" || { fail "restart with signal"; show "$work/noded.log"; }
hold_bg s1 $((700 * MiB)); p1=$held
{ wait "$p1"; } 2>/dev/null
rc=$?
[ $rc = 0 ] && ok "policy signal: the process over its cap got SIGTERM and exited by itself (status 0)" \
    || fail "policy signal: SIGTERM (status $rc)"
grep -q "watchdog: pid $p1 (prog_hold, user $UA) holds 700.0 MiB .*: sent SIGTERM (policy signal)" "$work/noded.log" \
    && ok "the signal is logged" || { fail "the signal is logged"; show "$work/noded.log"; }

echo "== duplicates across two users' jobs: published beside the service's socket"
if [ "$(stat -c '%a %U %G' "$SOCK.fp" 2>/dev/null)" = "660 root $G" ]; then
    ok "the service made the fingerprint table beside its socket: root's, writable by the group only"
else fail "the fingerprint table beside the socket"; ls -l "$work/run"; fi
rm -f "$work/out"/dready* "$work/out/ddone"
for u in $UA $UB; do
    setpriv --reuid="$u" --regid=users --init-groups env "${ENVS[@]}" GREY_DEDUP_INTERVAL=1 \
        "$B/bin/grey-run" --quiet --dedup --report "$work/out/d-$u.json" -- \
        "$B/tests/integration/prog_dedup" live "$work/out/dready-$u" "$work/out/ddone" >"$work/d-$u.out" 2>&1 &
    pids+=("$!")
done
for _ in $(seq 100); do [ "$(ls "$work"/out/dready-* 2>/dev/null | wc -l)" = 2 ] && break; sleep 0.1; done
sleep 1.5 # a snapshot each (GREY_DEDUP_INTERVAL=1) publishes the fingerprints
as $UA "$B/bin/grey-report" --node --json >"$work/dups.json" 2>"$work/dups.err"
if python3 - "$work/dups.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
g = j["groups"]
sys.exit(0 if j["processes"] == 2 and len(g) == 1 and g[0]["jobs"] == 2 and g[0]["count"] == 4 else 1)
PY
then ok "grey-report --node (no ledger named) finds alice's and bob's copies through the service: one group of 4 in 2 jobs"
else fail "grey-report --node under the service"; show "$work/dups.json" "$work/dups.err" "$work/d-$UA.out"; fi
touch "$work/out/ddone"
for u in $UA $UB; do wait "${pids[-1]}" 2>/dev/null; unset 'pids[-1]'; done

echo "== the job's limits are the service's: an admin plan edited under a running service"
sed -i 's/^process_cap = 512MiB/process_cap = 2GiB/; s/^budget = 1GiB/budget = 4GiB/' "$work/plan.conf"
as $UA env LD_PRELOAD="$HOOK" GREY_LOG=1 "$TWO" $((400 * MiB)) $((200 * MiB)) /dev/null >"$work/edit.out" 2>"$work/edit.err"
grep -q "sealed limits (grey-noded's row and the admin plan): cap 512.0 MiB, budget 1.0 GiB" "$work/edit.err" \
    && ok "the job says its sealed limits: the service's 512 MiB, not the edited plan's 2 GiB (budget 4 GiB)" \
    || { fail "the job's sealed limits"; show "$work/edit.err"; }
grep -qx 'second denied' "$work/edit.out" && ok "and is held to them (400 MiB ok, 200 MiB more denied)" \
    || { fail "the job is held to the service's cap"; show "$work/edit.out"; }
sed -i 's/^process_cap = 2GiB/process_cap = 512MiB/; s/^budget = 4GiB/budget = 1GiB/' "$work/plan.conf"

echo "== the service stops: everything as before"
kill -TERM "$noded_pid"
wait "$noded_pid"
rc=$?
if [ $rc = 0 ] && grep -q "stopped (signal 15)" "$work/noded.log" && [ ! -e "$SOCK" ]; then
    ok "SIGTERM stops the service, its socket removed"
else fail "SIGTERM stops the service (status $rc)"; show "$work/noded.log"; fi
as $UA env LD_PRELOAD="$HOOK" "$TWO" $((400 * MiB)) $((200 * MiB)) /dev/null >"$work/after.out" 2>"$work/after.err"
if grep -q "not running; using the ledger as without the service" "$work/after.err" &&
   grep -qx 'first ok' "$work/after.out" && grep -qx 'second denied' "$work/after.out"; then
    ok "after the service: jobs fall back to the file ledger with their caps"
else fail "after the service: jobs fall back"; show "$work/after.out" "$work/after.err"; fi

echo "== without the service grey-top and grey-exporter read the ledger file, as before"
setpriv --reuid=$UA --regid=users --init-groups env "${ENVS[@]}" LD_PRELOAD="$HOOK" \
    "$HOLD" $((400 * MiB)) "$work/out/f.status" "$work/out/f.release" 2>"$work/f.err" &
pid_f=$!; pids+=("$pid_f")
if wait_for "$work/out/f.status" "^ok" 10; then
    as $UA "$TOP" --once --json >"$work/file-top.json" 2>"$work/file-top.err"
    scrape file-top
    holders file-top "$work/shm/node.ledger" "$pid_f"
else fail "a hooked job holds 400 MiB through the file ledger"; show "$work/f.err"; fi
touch "$work/out/f.release"
wait "$pid_f"

echo "== without the service the same rewrite takes the GPU (the test above can fail)"
weight_race file "$work/shm/node.ledger"
grep -q "^landed slot [0-9]* weight 1000" "$work/file-attack.out" \
    && ok "bob's slot in the ledger file publishes weight 1000" || { fail "bob rewrote the file ledger"; show "$work/file-attack.out"; }
shares file 0.5 1.0 "$race_b" 1000

finish noded
