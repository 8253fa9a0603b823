#!/usr/bin/env bash
# grey-top's live view on real terminals: a private tmux server (its own socket) runs grey-top at
# 80x24 and at 200x50 while 30 hooked processes (tests/top/top_load.c under grey-run) hold memory
# and launch kernels on the simulated GPU. Keys go in with `tmux send-keys`, the screen comes back
# with `capture-pane`. Last, two grey-run --dedup jobs holding the same bytes (prog_dedup live) in
# a ledger of their own: the live view's line of duplicates across jobs, at 80x24 and 200x50. Every wait is bounded; cleanup stops exactly the processes started here, by
# PID. Run from the repository root after `make` (make top-terminal does both).
set -uo pipefail

root=$(pwd)
B=$root/build
TOP=$B/bin/grey-top
LOAD=$B/tests/top/top_load
NPROCS=30
work=$(mktemp -d /tmp/grey-top-test.XXXXXX)
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=80GiB GREY_SIM_NAME="Grey Simulated H100 80GB"
export GREY_SIM_STATE=$work/sim GREY_LEDGER=$work/ledger
T=(tmux -S "$work/tmux.sock" -f /dev/null)
runs=()      # grey-run wrappers
tmux_pid=""
cleanup() {
    local p
    for p in "${runs[@]}"; do kill -TERM "$p" 2>/dev/null; done   # grey-run forwards it to its job
    for p in "${runs[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    [ -n "$tmux_pid" ] && kill -TERM "$tmux_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
command -v tmux >/dev/null || { echo "FAIL: tmux is missing (scripts/install-deps.sh installs it)"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is missing (scripts/install-deps.sh installs it)"; exit 1; }

pane=top                                                    # the tmux target the helpers read
screen() { "${T[@]}" capture-pane -p -J -t "$pane"; }      # what the terminal shows, unwrapped
# wait_for REGEX [SECONDS]: until the screen matches (default 5 s); 1 when it never did.
wait_for() {
    local i
    for i in $(seq $((${2:-5} * 10))); do
        screen | grep -Eq -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
key() { "${T[@]}" send-keys -t top "$@"; }
# zombie_status PID: the exit status of PID if it has exited and is not reaped yet ("/SIG" when a
# signal ended it; nothing while it runs): field 52 of /proc/PID/stat, in wait(2)'s encoding.
zombie_status() {
    local rest code
    rest=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
    set -- $rest
    [ "$1" = Z ] || return 0
    code=${50:-}
    [ -n "$code" ] || return 0
    if [ $((code & 127)) -eq 0 ]; then printf '%s' $((code >> 8)); else printf '/%s' $((code & 127)); fi
}
# pane_exit TARGET SECONDS: the exit status of the pane's process ("" while it runs, "/SIG" when a
# signal ended it). tmux calls a pane dead once its pty closes, which can come before it has reaped
# the process and knows the status, and on a busy machine tmux was seen leaving it a zombie for
# more than 15 s; so this waits for the status itself, from tmux or from the zombie's /proc entry.
pane_exit() {
    local i st pid
    for i in $(seq 0 $(($2 * 10))); do
        st=$("${T[@]}" display-message -p -t "$1" '#{pane_dead_status}#{?pane_dead_signal,/#{pane_dead_signal},}')
        if [ -z "$st" ]; then
            pid=$("${T[@]}" display-message -p -t "$1" '#{pane_pid}')
            [ -n "$pid" ] && st=$(zombie_status "$pid")
        fi
        [ -n "$st" ] && break
        [ "$i" -lt $(($2 * 10)) ] && sleep 0.1
    done
    printf '%s' "$st"
}
# fits W H: every line at most W characters and exactly H lines: nothing wrapped or scrolled.
fits() {
    screen >"$work/screen.txt"
    local long lines
    long=$(awk -v w="$1" 'length($0) > w' "$work/screen.txt" | wc -l)
    lines=$(wc -l <"$work/screen.txt")
    [ "$long" -eq 0 ] && [ "$lines" -eq "$2" ]
}
# column NAME: the values of a column of the process table, read by the header's positions.
column() {
    screen | awk -v name="$1" '
        /^ *PID .*COMMAND/ { head = 1; s = index($0, " " name); if (!s) exit; s++;
                             e = s + length(name) - 1; next }
        head && /^ *[0-9]+\*? / { v = substr($0, 1, e); sub(/.* /, "", v); if (v != "") print v }'
}
to_mib() { awk '{ v = $1 + 0; u = substr($1, length($1));
                  if (u == "G") v *= 1024; else if (u == "K") v /= 1024; else if (u == "B") v /= 1048576;
                  printf "%.3f\n", v }'; }
sorted() { sort -c "$@" 2>/dev/null; }   # sorted [-n] [-r]: stdin already in that order

echo "== grey-top before any ledger exists"
"${T[@]}" new-session -d -s top -x 80 -y 24 "exec '$TOP' --ledger '$work/ledger'"
"${T[@]}" set-option -t top remain-on-exit on >/dev/null
tmux_pid=$("${T[@]}" display-message -p -t top '#{pid}')
if wait_for "no ledger at $work/ledger yet" && sleep 1.5 &&
   [ "$("${T[@]}" display-message -p -t top '#{pane_dead}')" = 0 ]; then
    ok "no ledger yet: an empty view that says so, still running"
else fail "no ledger yet: $(screen | head -3)"; fi
[ "$("${T[@]}" display-message -p -t top '#{alternate_on}')" = 1 ] && ok "the view is on the alternate screen" \
    || fail "grey-top draws on the main screen"

echo "== $NPROCS hooked processes"
for i in $(seq 1 $NPROCS); do
    mib=$((100 + 10 * i)) period=$((20 + 5 * i)) cap=1GiB
    [ "$i" -eq 7 ] && mib=950      # 950 MiB of its 1 GiB cap: over 90%, and first by memory
    nice -n 5 "$B/bin/grey-run" --quiet --cap "$cap" --weight $((1 + i % 3)) -- "$LOAD" "$mib" "$period" \
        >"$work/load.$i.out" 2>&1 &
    runs+=($!)
done
n=0
for _ in $(seq 200); do
    n=$("$TOP" --once --json --ledger "$work/ledger" 2>/dev/null | jq '[.processes[] | select(.kernel_launches > 0)] | length' 2>/dev/null)
    [ "${n:-0}" -ge $NPROCS ] && break
    sleep 0.1
done
[ "${n:-0}" -eq $NPROCS ] && ok "$NPROCS processes hold memory and launch" || fail "only ${n:-0} of $NPROCS processes started"

echo "== 80x24"
if wait_for "rows 1-[0-9]+ of $NPROCS" 5 && fits 80 24; then ok "80x24: 24 lines, none over 80 columns"
else fail "80x24 does not fit:"; sed 's/^/      |/' "$work/screen.txt"; fi
screen >"$work/s80.txt"
sed -n 2p "$work/s80.txt" | grep -Eq '^GPU 0  Grey Simulated.*GPU-[0-9a-f]{8}  80G VRAM  used [0-9.]+G' &&
    ok "80x24: the GPU line names the GPU, its UUID, VRAM and what is used" || fail "GPU line: $(sed -n 2p "$work/s80.txt")"
sed -n 3p "$work/s80.txt" | grep -Eq '^ +PID .*USED .*CAP .*WGT +ENT% +MEAS% COMMAND' &&
    ok "80x24: the table header with the fair-share columns comes right after it" || fail "header: $(sed -n 3p "$work/s80.txt")"
rows=$(grep -Ec '^ +[0-9]+ .* top_load [0-9]+ [0-9]+$' "$work/s80.txt")
[ "$rows" -eq 20 ] && ok "80x24: 20 process rows, COMMAND is the basename and its arguments" \
    || fail "80x24: $rows process rows like 'top_load MIB PERIOD'"
tail -n 1 "$work/s80.txt" | grep -q "sort memory (m l s p).*q quits  rows 1-20 of $NPROCS" &&
    ok "80x24: the footer shows the keys and the rows shown" || fail "footer: $(tail -n 1 "$work/s80.txt")"
column USED | to_mib | sorted -n -r && [ "$(column USED | wc -l)" -eq 20 ] &&
    ok "sorted by memory by default" || fail "not sorted by memory: $(column USED | tr '\n' ' ')"
"${T[@]}" capture-pane -p -e -t top | grep -E $'\e\\[31m(\e\\[[0-9;]*m)* +[0-9]+ .*950M +1G' >/dev/null &&
    ok "a process over 90% of its cap is red" || fail "no red row for the process at 950M of 1G"

echo "== keys"
key p
if wait_for "^sort pid" && column PID | sorted -n && [ "$(column PID | wc -l)" -eq 20 ]; then ok "p sorts by pid"
else fail "p: $(screen | tail -n 1); $(column PID | tr '\n' ' ')"; fi
key l
# The rates differ (one launch every 25 to 170 ms), so the order says something even when a busy
# machine has let each process launch only a few times yet.
if wait_for "^sort launches" && column LAUNCHES | sorted -n -r && [ "$(column LAUNCHES | sort -u | wc -l)" -ge 2 ]
then ok "l sorts by launches"
else fail "l: $(column LAUNCHES | tr '\n' ' ')"; fi
key s
if wait_for "^sort share" && column MEAS% | sorted -n -r; then ok "s sorts by measured share"
else fail "s: $(column MEAS% | tr '\n' ' ')"; fi
key NPage
wait_for "rows 11-30 of $NPROCS" && ok "PgDn scrolls to the last page" || fail "PgDn: $(screen | tail -n 1)"
key Up
wait_for "rows 10-29 of $NPROCS" && ok "Up scrolls one row" || fail "Up: $(screen | tail -n 1)"
key PPage
wait_for "rows 1-20 of $NPROCS" && ok "PgUp goes back to the top" || fail "PgUp: $(screen | tail -n 1)"

echo "== 200x50"
"${T[@]}" resize-window -t top -x 200 -y 50
if wait_for "rows 1-$NPROCS of $NPROCS" 5 && fits 200 50; then ok "200x50 after a resize: 50 lines, none over 200, all rows"
else fail "200x50:"; sed 's/^/      |/' "$work/screen.txt"; fi
screen >"$work/s200.txt"
sed -n 2p "$work/s200.txt" | grep -Eq 'Grey Simulated H100 80GB +GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' &&
    ok "200x50: the whole GPU name and UUID" || fail "200x50 GPU line: $(sed -n 2p "$work/s200.txt")"
sed -n 3p "$work/s200.txt" | grep -Eq 'PEAK .*DENIED .*QUEUED +LEAD +THROTTLED COMMAND' &&
    ok "200x50: the wide terminal shows every column" || fail "200x50 header: $(sed -n 3p "$work/s200.txt")"
"${T[@]}" resize-window -t top -x 80 -y 24
wait_for "rows 1-20 of $NPROCS" && fits 80 24 && ok "back to 80x24: fits again" || fail "back to 80x24"

echo "== q"
key q
if [ "$(pane_exit top 15)" = 0 ]; then ok "q quits with status 0"
else
    fail "q did not end grey-top with status 0 (status/signal: $(pane_exit top 0))"
    qpid=$("${T[@]}" display-message -p -t top '#{pane_pid}/#{pane_dead}')
    echo "      pane pid/dead: $qpid"
    ps -o pid,stat,wchan:24,args -p "${qpid%/*}" 2>&1 | sed 's/^/      /'
    cat "/proc/${qpid%/*}/stack" 2>/dev/null | head -8 | sed 's/^/      /'
    screen | tail -n 3 | sed 's/^/      |/'
fi
! screen | grep -q "q quits" && ok "the terminal's own screen is back, nothing of the view left on it" \
    || fail "the view stayed on the main screen"

echo "== Ctrl-C"
# remain-on-exit before the window exists (so its exit status is kept however soon it comes),
# and C-c only once the view is drawn: before curses takes the terminal, C-c is a plain SIGINT.
"${T[@]}" set-option -g remain-on-exit on >/dev/null
"${T[@]}" new-window -d -t top: -n intr "exec '$TOP' --ledger '$work/ledger'"
drawn=0
for _ in $(seq 150); do "${T[@]}" capture-pane -p -t top:intr | grep -q "q quits" && { drawn=1; break; }; sleep 0.1; done
[ $drawn = 1 ] || fail "the second live view was not drawn within 15 s"
"${T[@]}" send-keys -t top:intr C-c
st=$(pane_exit top:intr 5)
[ "$st" = 0 ] && ok "Ctrl-C ends the live view with status 0" \
    || fail "Ctrl-C did not end grey-top with status 0 (status/signal: $st)"

echo "== duplicates across jobs"
# Two jobs each holding two 8 MiB buffers of the same bytes, publishing their fingerprints every
# second beside a ledger of their own (the 30 processes above publish none).
dl=$work/dups.ledger
for j in 1 2; do
    GREY_LEDGER=$dl GREY_DEDUP_INTERVAL=1 "$B/bin/grey-run" --quiet --dedup --report "$work/dups$j.json" -- \
        "$B/tests/integration/prog_dedup" live "$work/dups.ready$j" "$work/dups.done" >"$work/dups$j.out" 2>&1 &
    runs+=($!)
done
"${T[@]}" new-session -d -s dups -x 80 -y 24 "exec '$TOP' --ledger '$dl'"
pane=dups
if wait_for '^dups: 1 group across jobs, 24M reclaimable \(largest 4 x 8M, 2 jobs, GPU 0\)$' 15; then
    ok "80x24: one line names the group, what sharing gives back and the largest group"
else fail "no line of duplicates at 80x24:"; screen | sed 's/^/      |/'; fi
screen >"$work/d80.txt"
sed -n 3p "$work/d80.txt" | grep -q '^dups: ' && sed -n 4p "$work/d80.txt" | grep -Eq '^ +PID .*COMMAND' &&
    ok "80x24: it stands between the GPU line and the table header" || { fail "dups layout:"; sed 's/^/      |/' "$work/d80.txt"; }
fits 80 24 && ok "80x24 with the line: 24 lines, none over 80 columns" || { fail "80x24 with dups:"; sed 's/^/      |/' "$work/screen.txt"; }
"${T[@]}" resize-window -t dups -x 200 -y 50
if wait_for '^  24M back: 4 x 8M in 2 jobs on GPU 0$' 5 && fits 200 50 && screen | grep -q '^dups: 1 group across jobs, 24M reclaimable$'
then ok "200x50: the summary and a line for the group, fitting"
else fail "200x50 dups:"; sed 's/^/      |/' "$work/screen.txt"; fi
touch "$work/dups.done"
for _ in $(seq 100); do screen | grep -q '^dups: ' || break; sleep 0.1; done
! screen | grep -q '^dups: ' && ok "the jobs ended: the line is gone" || fail "the line stayed after the jobs ended"

finish top-terminal
