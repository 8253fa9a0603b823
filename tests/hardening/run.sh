#!/usr/bin/env bash
# The attacks of issue 16, replayed as three local users of one node would (two of them in the
# GPU group), each followed by checks that it now fails with one clear line and that nothing was
# lost: symlinks and files planted at ledger paths and temporary names, ledgers truncated under
# live processes or created on a full tmpfs. Needs root (it creates the users and a small tmpfs,
# and removes them at the end). Run from the repository root after `make` (make hardening).
set -uo pipefail

root=$(pwd)
B=$root/build
HOOK=$B/lib/libgreyhook.so
PROG=$B/tests/integration/prog_two_allocs
TOP=$B/bin/grey-top
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
MiB=$((1 << 20))

[ "$(id -u)" = 0 ] || { echo "FAIL: tests/hardening needs root (it creates users and mounts a tmpfs)"; exit 1; }

G=greyh-gpu            # the node's GPU group
UA=greyh-alice          # in the group: the victim
UB=greyh-bob            # in the group
UC=greyh-mallory        # not in the group: the attacker
work=$(mktemp -d /tmp/grey-hardening.XXXXXX)
bg=()                   # pid files of background helpers, ended at cleanup
cleanup() {
    for f in "${bg[@]}"; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    umount "$work/full" 2>/dev/null
    for u in $UA $UB $UC; do userdel "$u" 2>/dev/null; done
    groupdel $G 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
groupadd $G
useradd -M -N -g users -G $G $UA
useradd -M -N -g users -G $G $UB
useradd -M -N -g users $UC
GID=$(getent group $G | cut -d: -f3)
chmod 0755 "$work"
mkdir -m 1777 "$work/shm"        # like /dev/shm: everyone may create, only owners may remove
for u in $UA $UB $UC; do mkdir -m 0700 "$work/$u"; chown "$u" "$work/$u"; done  # homes, and each one's sim state

# as USER CMD...: runs CMD as USER (root: ROOT) with the simulated driver and its own sim state.
as() {
    local u=$1; shift
    local envs=(LD_LIBRARY_PATH="$B/sim" GREY_SIM_VRAM=8GiB GREY_SIM_STATE="$work/${u/#root/.}/sim")
    if [ "$u" = root ]; then env "${envs[@]}" "$@"; else runuser -u "$u" -- env "${envs[@]}" "$@"; fi
}
# hooked USER OUT VAR=VALUE... -- ARGS: prog_two_allocs ARGS under the hook; stdout to OUT.out,
# stderr to OUT.err, exit status in $rc.
hooked() {
    local u=$1 out=$2; shift 2
    local vars=()
    while [ "$1" != "--" ]; do vars+=("$1"); shift; done
    shift
    as "$u" env LD_PRELOAD="$HOOK" "${vars[@]}" "$PROG" "$@" >"$work/$out.out" 2>"$work/$out.err"
    rc=$?
}
# one_line OUT PATTERN: OUT.err is exactly one line, and it matches PATTERN.
one_line() {
    [ "$(grep -c . "$work/$1.err")" = 1 ] && grep -q -- "$2" "$work/$1.err"
}
show() { sed 's/^/      /' "$work/$1.err" "$work/$1.out" 2>/dev/null | head -5; }
check() { # check NAME OUT CONDITION...
    local name=$1 out=$2; shift 2
    if "$@"; then ok "$name"; else fail "$name"; show "$out"; fi
}

echo "== symlinks planted at ledger paths"
printf 'ssh-ed25519 AAAA alice\n' >"$work/$UA/keys"; chown $UA "$work/$UA/keys"; chmod 0600 "$work/$UA/keys"
cp -p "$work/$UA/keys" "$work/keys.orig"
intact() { cmp -s "$work/keys.orig" "$work/$UA/keys" && [ "$(stat -c '%U %a' "$work/$UA/keys")" = "$UA 600" ]; }
as $UC ln -s "$work/$UA/keys" "$work/shm/alice.ledger"
hooked $UA sym GREY_LEDGER="$work/shm/alice.ledger" GREY_CAP=64MiB -- $((32 * MiB)) $((48 * MiB)) /
check "a symlink at a user's ledger path is refused with one line" sym \
    one_line sym "alice.ledger: is a symbolic link; refusing to follow it; caps are enforced in this process only"
check "the file it pointed to is untouched" sym intact
check "the process ran, and its cap held privately (32 MiB ok, 48 MiB more denied)" sym \
    sh -c "[ $rc = 0 ] && grep -qx 'first ok' '$work/sym.out' && grep -qx 'second denied' '$work/sym.out'"

as $UC ln -s "$work/$UA/authorized_keys" "$work/shm/alice2.ledger"
hooked $UA dangle GREY_LEDGER="$work/shm/alice2.ledger" -- 1 1 /
check "a dangling symlink is refused too" dangle one_line dangle "is a symbolic link; refusing to follow it"
check "and creates nothing where it pointed" dangle test ! -e "$work/$UA/authorized_keys"

as $UC mkfifo -m 0666 "$work/shm/alice3.ledger"
hooked $UA fifo0 GREY_LEDGER="$work/shm/alice3.ledger" -- 1 1 /
check "a FIFO planted at a ledger path neither blocks the process nor is used" fifo0 \
    eval "[ $rc = 0 ] && one_line fifo0 'alice3.ledger: not a regular file; refusing it'"

cat >"$work/admin.conf" <<CONF
grey-plan-version = 1
ledger = "$work/shm/node.ledger"
ledger_group = "$G"
[device 0]
budget = 1GiB
process_cap = 512MiB
CONF
chmod 0644 "$work/admin.conf"
ADMIN=GREY_ADMIN_PLAN="$work/admin.conf"
as $UC ln -s "$work/etc-passwd-like" "$work/shm/node.ledger"
hooked root nodesym "$ADMIN" -- 1 1 /
check "a symlink at the node ledger's path is refused by root's process" nodesym \
    one_line nodesym "node.ledger: is a symbolic link; refusing"
check "and no root-owned file appears where it pointed" nodesym test ! -e "$work/etc-passwd-like"
rm -f "$work/shm/node.ledger"

echo "== ledgers made by another user"
hooked $UC mal GREY_LEDGER="$work/shm/bob.ledger" -- 1 1 /
as $UC chmod 0666 "$work/shm/bob.ledger"
check "(the attacker made a valid ledger at bob's path, writable by all)" mal test -s "$work/shm/bob.ledger"
hooked $UB adopt GREY_LEDGER="$work/shm/bob.ledger" GREY_CAP=64MiB -- $((32 * MiB)) $((48 * MiB)) /
check "bob refuses a ledger another user owns, with one line" adopt \
    one_line adopt "bob.ledger: owned by uid $(id -u $UC), not by this user (uid $(id -u $UB)); refusing it"
check "and keeps his cap privately" adopt \
    sh -c "[ $rc = 0 ] && grep -qx 'second denied' '$work/adopt.out'"

hooked $UA nodeabsent "$ADMIN" -- 1 1 /
check "a member does not create the node ledger (only root does), and says so" nodeabsent \
    one_line nodeabsent "node.ledger: does not exist yet, and only root creates the node's ledger"
check "so no user owns the node ledger" nodeabsent test ! -e "$work/shm/node.ledger"

as $UC sh -c "touch '$work/shm/node.ledger'; chmod 0666 '$work/shm/node.ledger'"
hooked root nodeplant "$ADMIN" -- 1 1 /
check "root refuses a node ledger planted by another user" nodeplant \
    one_line nodeplant "node.ledger: owned by uid $(id -u $UC), not by this user (uid 0) or root; refusing it"
check "and leaves it empty (not grown into a ledger)" nodeplant test ! -s "$work/shm/node.ledger"
rm -f "$work/shm/node.ledger"

hooked root nodemade "$ADMIN" -- 1 1 /
check "root's first hooked process creates the node ledger root:$G 0660" nodemade \
    sh -c "[ $rc = 0 ] && [ ! -s '$work/nodemade.err' ] && [ \"\$(stat -c '%U %G %a' '$work/shm/node.ledger')\" = 'root $G 660' ]"
rm -f "$work/go"
hooked $UA nodeuse "$ADMIN" -- $((100 * MiB)) $((600 * MiB)) "$work/go" &
hp=$!
for _ in $(seq 200); do grep -q first "$work/nodeuse.out" 2>/dev/null && break; sleep 0.05; done
n=$("$TOP" --once --json --ledger "$work/shm/node.ledger" 2>/dev/null | jq '.processes | length')
touch "$work/go"; wait $hp
check "a member uses root's node ledger (registered there, the admin cap applies)" nodeuse \
    sh -c "[ '$n' = 1 ] && [ ! -s '$work/nodeuse.err' ] && grep -qx 'first ok' '$work/nodeuse.out' && grep -qx 'second denied' '$work/nodeuse.out'"

echo "== temporary names of grey-run --report and grey-plan --out"
lastpid=$(cat /proc/sys/kernel/ns_last_pid)
for i in $(seq $((lastpid + 1)) $((lastpid + 400))); do ln -s "$work/$UA/keys" "$work/shm/r.json.tmp.$i"; done
chown -h $UC "$work"/shm/r.json.tmp.* 
as $UA "$B/bin/grey-run" --quiet --report "$work/shm/r.json" -- "$PROG" $MiB $MiB / >"$work/rr.out" 2>"$work/rr.err"
rc=$?
check "grey-run --report follows none of the planted temporary names" rr intact
check "and writes its report in place" rr \
    sh -c "[ $rc = 0 ] && [ -f '$work/shm/r.json' ] && [ ! -L '$work/shm/r.json' ] && jq -e .processes '$work/shm/r.json' >/dev/null"
check "the report is private to its owner (0600)" rr \
    sh -c "[ \"\$(stat -c '%U %a' '$work/shm/r.json')\" = '$UA 600' ]"
mkdir -m 0777 "$work/shm/r-dir.json"
as $UA "$B/bin/grey-run" --quiet --report "$work/shm/r-dir.json" -- "$PROG" $MiB $MiB / >"$work/rfail.out" 2>"$work/rfail.err"
rc=$?
check "grey-run exits 125 when the job succeeded but the report could not be written" rfail \
    sh -c "[ $rc = 125 ] && grep -q 'buffer report: cannot write' '$work/rfail.err'"

sim_plan() { as "$1" env GREY_SIM_DEVICES=1 GREY_SIM_NAME="Grey Test GPU" "$B/bin/grey-plan" "${@:2}"; }
as $UC ln -s "$work/$UA/keys" "$work/shm/plan.conf.tmp"
sim_plan $UA --out "$work/shm/plan.conf" >"$work/gp.out" 2>"$work/gp.err"
rc=$?
check "grey-plan --out follows no planted FILE.tmp: the victim keeps its text and mode 0600" gp \
    eval '[ $rc = 0 ] && intact'
check "the plan is written 0644 as asked" gp \
    sh -c "grep -q grey-plan-version '$work/shm/plan.conf' && [ \"\$(stat -c '%U %a' '$work/shm/plan.conf')\" = '$UA 644' ]"
as $UA chmod 0600 "$work/shm/plan.conf"
sim_plan $UA --out "$work/shm/plan.conf" >"$work/gp2.out" 2>"$work/gp2.err"
check "rewriting a 0600 plan keeps it 0600 (never widened)" gp2 \
    sh -c "[ \"\$(stat -c %a '$work/shm/plan.conf')\" = 600 ]"

echo "== a shared ledger truncated under a live process"
rm -f "$work/go"
hooked $UA trunc "$ADMIN" GREY_CAP=256MiB -- $((200 * MiB)) $((300 * MiB)) "$work/go" &
hp=$!
for _ in $(seq 200); do grep -q first "$work/trunc.out" 2>/dev/null && break; sleep 0.05; done
as $UB truncate -s 0 "$work/shm/node.ledger"
truncated=$(stat -c %s "$work/shm/node.ledger")
touch "$work/go"; wait $hp; rc=$?
check "a member's truncate -s 0 of the node ledger ($truncated bytes left) does not kill the process" trunc \
    sh -c "[ $rc = 0 ] && [ '$truncated' = 0 ] && grep -qx 'first ok' '$work/trunc.out' && grep -q '^second ' '$work/trunc.out'"
check "it says so in one line, and its cap still holds (300 MiB over a 256 MiB cap denied)" trunc \
    sh -c "grep -c . '$work/trunc.err' | grep -qx 1 && grep -q 'node.ledger was truncated by someone else; this process now enforces its caps privately' '$work/trunc.err' && grep -qx 'second denied' '$work/trunc.out'"
hooked root after "$ADMIN" -- 1 1 /
check "the next process refuses the truncated file with one line rather than faulting" after \
    sh -c "[ $rc = 0 ] && grep -c . '$work/after.err' | grep -qx 1 && grep -q 'node.ledger: 0 bytes, expected [0-9]* (damaged or truncated); refusing it' '$work/after.err'"
rm -f "$work/shm/node.ledger"

# The guard takes only faults inside the ledger: a program's own SIGBUS is what it was.
cat >"$work/bus.py" <<'PY'
import mmap, os, sys
f = open(sys.argv[1], "w+b"); f.write(b"x" * 8192); f.flush()
m = mmap.mmap(f.fileno(), 8192)
os.truncate(sys.argv[1], 0)
print(m[4096])
PY
{ as $UA env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/$UA/bus.ledger" python3 "$work/bus.py" "$work/$UA/bus.data" \
    >"$work/bus.out" 2>"$work/bus.err"; rc=$?; } 2>/dev/null
check "a SIGBUS of the program's own still ends it as without grey (status 135, nothing from grey)" bus \
    eval "[ $rc = 135 ] && ! grep -q grey '$work/bus.err' && [ -s '$work/$UA/bus.ledger' ]"

echo "== a ledger on a full tmpfs"
mkdir -m 1777 "$work/full"
mount -t tmpfs -o size=64k,mode=1777 greyh-full "$work/full"
dd if=/dev/zero of="$work/full/filler" bs=4k count=64 2>/dev/null
as $UA env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/full/l.ledger" ls / >"$work/ls.out" 2>"$work/ls.err"
rc=$?
check "ls under the hook on a full tmpfs runs (no SIGBUS), with one line" ls \
    sh -c "[ $rc = 0 ] && grep -q '^etc\$' '$work/ls.out' && grep -c . '$work/ls.err' | grep -qx 1 && grep -q 'l.ledger: cannot allocate its bytes ([0-9]* bytes): No space left on device; caps are enforced in this process only' '$work/ls.err'"
check "and leaves no half-made ledger behind" ls test ! -e "$work/full/l.ledger"
hooked $UA full GREY_LEDGER="$work/full/l.ledger" GREY_CAP=64MiB -- $((32 * MiB)) $((48 * MiB)) /
check "a GPU process there is capped privately" full \
    sh -c "[ $rc = 0 ] && grep -qx 'second denied' '$work/full.out' && grep -c . '$work/full.err' | grep -qx 1"
as $UA truncate -s "$(stat -c %s "$work/shm/bob.ledger")" "$work/full/sparse.ledger"
hooked $UA sparse GREY_LEDGER="$work/full/sparse.ledger" -- 1 1 /
check "a sparse ledger-sized file there is refused, not mapped" sparse \
    sh -c "[ $rc = 0 ] && grep -c . '$work/sparse.err' | grep -qx 1 && grep -q 'unallocated blocks' '$work/sparse.err'"

echo "== admin plans seen from user namespaces"
cat >"$work/ns-admin.conf" <<CONF
grey-plan-version = 1
[device 0]
budget = 8GiB
process_cap = 512MiB
CONF
chmod 0644 "$work/ns-admin.conf"
# inns USER OUT VAR=VALUE... -- ARGS: hooked, inside `unshare -Ur` run by USER.
inns() {
    local u=$1 out=$2; shift 2
    local vars=()
    while [ "$1" != "--" ]; do vars+=("$1"); shift; done
    shift
    as "$u" unshare -Ur env LD_PRELOAD="$HOOK" GREY_LEDGER="$work/$u/ns.ledger" "${vars[@]}" "$PROG" "$@" \
        >"$work/$out.out" 2>"$work/$out.err"
    rc=$?
}
if as $UA unshare -Ur true 2>/dev/null; then
    inns $UA ns GREY_ADMIN_PLAN="$work/ns-admin.conf" GREY_CAP=4GiB -- $((1000 * MiB)) 1 /
    check "in unshare -Ur, root's plan (owner shown as the overflow uid) is still the admin plan: 1000 MiB denied" ns \
        eval "[ $rc = 0 ] && grep -qx 'first denied' '$work/ns.out' && one_line ns 'GREY_CAP 4GiB is above the admin plan.s cap on GPU 0 .*the admin cap 512.0 MiB applies'"
    cp "$work/ns-admin.conf" "$work/$UA/own.conf"; chown $UA "$work/$UA/own.conf"
    inns $UA nsown GREY_ADMIN_PLAN="$work/$UA/own.conf" GREY_CAP=1GiB -- $((600 * MiB)) 1 /
    check "and the user's own plan, shown there as uid 0, is only a user's plan (GREY_CAP 1GiB gets 600 MiB)" nsown \
        sh -c "[ $rc = 0 ] && grep -qx 'first ok' '$work/nsown.out' && [ ! -s '$work/nsown.err' ]"
    uledger=/dev/shm/grey-$(id -u $UA).ledger
    rm -f "$uledger" "$work/go"
    as $UA unshare -Ur env LD_PRELOAD="$HOOK" "$PROG" $MiB 1 "$work/go" >"$work/nsdef.out" 2>"$work/nsdef.err" &
    hp=$!
    for _ in $(seq 200); do grep -q first "$work/nsdef.out" 2>/dev/null && break; sleep 0.05; done
    n=$("$TOP" --once --json --ledger "$uledger" 2>/dev/null | jq '.processes | length')
    touch "$work/go"; wait $hp; rc=$?
    check "a job in unshare -Ur uses its user's own ledger ($uledger), not root's" nsdef \
        eval "[ $rc = 0 ] && [ '$n' = 1 ] && [ ! -s '$work/nsdef.err' ] && [ \"\$(stat -c %U '$uledger')\" = $UA ]"
    rm -f "$uledger"
else
    fail "unshare -Ur does not work for $UA here: the user-namespace checks could not run"
fi

echo "== settings that cannot be used as given fail closed"
long=/$(head -c 5000 /dev/zero | tr '\0' a)
hooked $UA longplan GREY_PLAN="$long" GREY_LEDGER="$work/$UA/l.ledger" -- $MiB 1 /
check "a GREY_PLAN of 5001 bytes is refused with one line, and every allocation denied" longplan \
    eval "[ $rc = 0 ] && grep -qx 'first denied' '$work/longplan.out' && one_line longplan 'GREY_PLAN is 5001 bytes, longer than a path may be (4095); denying every GPU allocation (fail closed)'"
as $UA env GREY_PLAN="$long" "$B/bin/grey-run" -- true >"$work/runlong.out" 2>"$work/runlong.err"
rc=$?
check "grey-run refuses to start the job under it (exit 125)" runlong \
    eval "[ $rc = 125 ] && one_line runlong 'GREY_PLAN is 5001 bytes.*not starting the job'"
hooked $UA longledger GREY_LEDGER="$long" -- $MiB 1 /
check "so does an over-long GREY_LEDGER" longledger \
    eval "[ $rc = 0 ] && grep -qx 'first denied' '$work/longledger.out' && one_line longledger 'GREY_LEDGER is 5001 bytes'"

cat >"$work/nogroup.conf" <<CONF
grey-plan-version = 1
ledger = "$work/shm/nogroup.ledger"
ledger_group = "nosuchgroup"
[device 0]
budget = 1GiB
process_cap = 512MiB
CONF
chmod 0644 "$work/nogroup.conf"
"$B/bin/grey-plan" check "$work/nogroup.conf" >"$work/ngcheck.out" 2>"$work/ngcheck.err"
rc=$?
check "grey-plan check fails on ledger_group = \"nosuchgroup\", naming it" ngcheck \
    eval "[ $rc != 0 ] && one_line ngcheck \"nogroup.conf: ledger_group 'nosuchgroup' is not a group on this node\""
hooked root ng GREY_ADMIN_PLAN="$work/nogroup.conf" -- $MiB 1 /
check "the hook refuses it (denies every allocation) instead of leaving the node budget" ng \
    eval "[ $rc = 0 ] && grep -qx 'first denied' '$work/ng.out' && one_line ng \"the plan's ledger_group 'nosuchgroup' does not exist; denying every GPU allocation (fail closed)\""
as root env GREY_ADMIN_PLAN="$work/nogroup.conf" "$B/bin/grey-run" -- true >"$work/ngrun.out" 2>"$work/ngrun.err"
rc=$?
check "and grey-run does not start the job (exit 125)" ngrun \
    eval "[ $rc = 125 ] && one_line ngrun \"ledger_group 'nosuchgroup' does not exist; not starting the job\""

echo "== grey-report: its inputs and --live"
jq '.processes[0].exe = "/bin/\u001b]0;owned\u0007\u001b[2Jx\r" | .processes[0].pid = 77' "$work/shm/r.json" >"$work/esc.json"
"$B/bin/grey-report" "$work/esc.json" >"$work/esc.out" 2>"$work/esc.err"
rc=$?
check "control characters in a report are escaped in the text output" esc \
    eval "[ $rc = 0 ] && ! grep -q \$'[\\x1b\\x07\\r]' '$work/esc.out' && grep -qF 'pid 77 \\x1b]0;owned\\x07\\x1b[2Jx\\x0d' '$work/esc.out'"
"$B/bin/grey-report" --json "$work/esc.json" >"$work/escj.out" 2>"$work/escj.err"
check "and --json prints none either" escj eval "! grep -q \$'\\x1b' '$work/escj.out' && jq -e .processes '$work/escj.out' >/dev/null"
truncate -s 300M "$work/big.json"
"$B/bin/grey-report" "$work/big.json" >"$work/big.out" 2>"$work/big.err"
rc=$?
check "a 300 MiB input is refused at once, with the limit named" big \
    eval "[ $rc = 1 ] && one_line big 'big.json: larger than 256 MiB, the most grey-report reads'"
mkfifo "$work/fifo.json"
timeout 10 "$B/bin/grey-report" "$work/fifo.json" >"$work/fifo.out" 2>"$work/fifo.err"
rc=$?
check "a FIFO is refused, not waited on" fifo eval "[ $rc = 1 ] && one_line fifo 'fifo.json: not a regular file or a directory'"

# A socket server: python3 serves "ok PATH" at SOCK, as whoever runs it, and writes its pid.
serve() { # serve USER SOCK PATH PIDFILE
    { as "$1" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[3], "w").write(str(os.getpid()))
while True:
    c, _ = s.accept()
    try:
        c.recv(64); c.sendall(("ok " + sys.argv[2] + "\n").encode())
    except OSError:
        pass
    c.close()
' "$2" "$3" "$4"; } 2>/dev/null &
    disown
    bg+=("$4")
    for _ in $(seq 100); do [ -s "$4" ] && [ -S "$2" ] && break; sleep 0.05; done
}
as $UA sh -c "printf precious >'$work/$UA/precious'"
{ as $UA sh -c "echo \$\$ >'$work/$UA/sleep.pid'; exec sleep 60"; } 2>/dev/null &
disown
bg+=("$work/$UA/sleep.pid")
for _ in $(seq 100); do [ -s "$work/$UA/sleep.pid" ] && break; sleep 0.05; done
spid=$(cat "$work/$UA/sleep.pid")
as $UC mkdir -m 0777 "$work/shm/grey-a" "$work/shm/grey-a/live"
serve $UC "$work/shm/grey-a/live/$spid.sock" "$work/$UA/precious" "$work/shm/srv1.pid"
as $UA env GREY_DIR="$work/shm/grey-a" "$B/bin/grey-report" --live "$spid" >"$work/live1.out" 2>"$work/live1.err"
rc=$?
check "--live refuses a report directory another user made" live1 \
    eval "[ $rc = 1 ] && one_line live1 'grey-a belongs to another user (uid $(id -u $UC)); refusing to use it; not asking process $spid through it' && [ -e '$work/$UA/precious' ]"
kill "$(cat "$work/shm/srv1.pid")" 2>/dev/null
as $UA mkdir -m 0700 "$work/$UA/grey" "$work/$UA/grey/live"
serve $UA "$work/$UA/grey/live/$spid.sock" "$work/$UA/precious" "$work/$UA/srv2.pid"
as $UA env GREY_DIR="$work/$UA/grey" "$B/bin/grey-report" --live "$spid" >"$work/live2.out" 2>"$work/live2.err"
rc=$?
check "--live refuses a socket served by another process than the one asked (SO_PEERCRED)" live2 \
    eval "[ $rc = 1 ] && one_line live2 'is served by pid $(cat "$work/$UA/srv2.pid") of uid $(id -u $UA), not by process $spid of this user' && [ -e '$work/$UA/precious' ]"
srv=$(cat "$work/$UA/srv2.pid"); ln -s "$spid.sock" "$work/$UA/grey/live/$srv.sock"
as $UA env GREY_DIR="$work/$UA/grey" "$B/bin/grey-report" --live "$srv" >"$work/live3.out" 2>"$work/live3.err"
rc=$?
check "and never reads or deletes a path the peer names" live3 \
    eval "[ $rc = 1 ] && one_line live3 'process $srv answered with a record outside .*; refusing it' && [ \"\$(cat '$work/$UA/precious')\" = precious ]"
kill "$srv" "$spid" 2>/dev/null

finish hardening
