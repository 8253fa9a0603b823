#!/usr/bin/env bash
# The node-wide ledger with real processes, the real hook and the simulated driver: shared device
# budgets, bytes given back when a process exits or is killed, per-user and admin caps, grey-top
# and grey-exporter (checked with promtool). Run from the repository root after `make`
# (make ledger-integration does both). Prints ok/FAIL per check; exits 1 if any failed.
set -uo pipefail

root=$(pwd)
B=$root/build
HOOK=$B/lib/libgreyhook.so
HOLD=$B/tests/integration/prog_hold
TOP=$B/bin/grey-top
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_VRAM=80GiB
work=$(mktemp -d /tmp/grey-ledger-test.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
check() { # check NAME CMD...: passes when CMD exits 0
    local name=$1; shift
    if "$@" >"$work/check.out" 2>&1; then ok "$name"; else fail "$name"; sed 's/^/      /' "$work/check.out"; fi
}
# promtool_ok FILE: promtool check metrics finds no error, and no lint finding but one: its
# style note that modelName is not snake_case. modelName is DCGM's label name, kept as DCGM
# writes it so that grey's series join DCGM's (README, grey-exporter); it must be the only
# label name that is not snake_case.
promtool_ok() {
    local out rc
    out=$(promtool check metrics <"$1" 2>&1); rc=$?
    [ $rc -eq 0 ] && return 0
    [ $rc -eq 3 ] || { echo "$out"; return 1; } # 3: lint findings only, no parse error
    if grep -v "label names should be written in 'snake_case' not 'camelCase'$" <<<"$out" | grep -q .; then
        echo "$out"; return 1
    fi
    local camel
    camel=$(grep -v '^#' "$1" | grep -oE '[{,][A-Za-z_]+=' | tr -d '{,=' | sort -u | grep -E '[a-z][A-Z]' | paste -sd' ')
    [ "$camel" = modelName ] || { echo "camelCase label names: $camel"; return 1; }
}
for tool in jq curl promtool python3; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

MiB=$((1 << 20))
GiB=$((1 << 30))

# hold NAME BYTES [VAR=VALUE...]: starts prog_hold under the hook in the background.
declare -A hold_pid
hold() {
    local name=$1 bytes=$2; shift 2
    rm -f "$work/$name.status" "$work/$name.release"
    env LD_PRELOAD="$HOOK" "$@" "$HOLD" "$bytes" "$work/$name.status" "$work/$name.release" \
        ${HOLD_FLAGS:-} 2>"$work/$name.err" &
    hold_pid[$name]=$!
    pids+=($!)
}
# status NAME: prints ok / denied / error once the process has tried its allocation.
status() {
    local f=$work/$1.status
    for _ in $(seq 1 1000); do [ -e "$f" ] && break; sleep 0.01; done
    [ -e "$f" ] && cut -d' ' -f1 "$f" || echo "timeout"
}
# release NAME: lets it free and exit; its exit status goes to $released (not a subshell:
# only this shell can wait for its children).
release() {
    touch "$work/$1.release"
    wait "${hold_pid[$1]}"
    released=$?
}
json() { "$TOP" --once --json --ledger "$1"; }
plan() { # plan FILE BUDGET CAP [extra text]
    printf 'grey-plan-version = 1\n%s\n[device 0]\nbudget = %s\nprocess_cap = %s\n' "${4:-}" "$2" "$3" >"$1"
}

echo "== four processes, 400 MiB each, against a 1 GiB budget with a 512 MiB cap"
L=$work/shared.ledger
"$B/bin/grey-plan" --budget 1GiB --cap 512MiB --out "$work/plan.conf" 2>/dev/null
check "grey-plan --budget 1GiB --cap 512MiB writes the plan" grep -q '^budget = 1073741824' "$work/plan.conf"
for i in 1 2 3 4; do hold "p$i" $((400 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan.conf"; done
results=$(for i in 1 2 3 4; do status "p$i"; done | sort | tr '\n' ' ')
[ "$results" = "denied denied ok ok " ] && ok "exactly two got their 400 MiB ($results)" || fail "results: $results"
json "$L" >"$work/top.json"
check "grey-top --json: device 0 has the plan's 1 GiB budget and 800 MiB in use" \
    jq -e '.devices[] | select(.index == 0) | .budget_bytes == 1073741824 and .used_bytes == 838860800' "$work/top.json"
holders=()
for i in 1 2 3 4; do
    pid=${hold_pid[p$i]}
    if [ "$(status "p$i")" = ok ]; then
        holders+=("$pid")
        check "grey-top --json: holder $pid has 400 MiB in use and peak, under a 512 MiB cap" \
            jq -e --argjson pid "$pid" '.processes[] | select(.pid == $pid) | .devices[] | select(.index == 0)
                | .used_bytes == 419430400 and .peak_bytes == 419430400 and .cap_bytes == 536870912 and .denied == 0' \
            "$work/top.json"
    else
        check "grey-top --json: $pid holds nothing and has one denial of 400 MiB" \
            jq -e --argjson pid "$pid" '.processes[] | select(.pid == $pid) | .devices[] | select(.index == 0)
                | .used_bytes == 0 and .denied == 1 and .largest_denied_bytes == 419430400' "$work/top.json"
    fi
done
check "grey-top --json lists the four processes with their user and command" \
    jq -e '[.processes[] | select(.command | startswith("'"$HOLD"'"))] | length == 4 and all(.user != "")' "$work/top.json"
"$TOP" --once --ledger "$L" >"$work/top.txt"
check "grey-top --once shows the budget and the holders" \
    grep -Eq "^GPU 0 \(GPU-[0-9a-f]{8}\) +1.0 GiB +800.0 MiB +224.0 MiB" "$work/top.txt"
"$TOP" --prometheus --ledger "$L" >"$work/top.prom"
check "promtool check metrics accepts grey-top --prometheus" promtool_ok "$work/top.prom"
gpu_re='gpu="0",UUID="GPU-[0-9a-f-]{36}",pci_bus_id="[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.[0-7]",device="nvidia0",modelName="[^"]+",Hostname="'"$(hostname)"'"'
check "the metrics carry the budget and the device total, with DCGM's GPU labels" \
    grep -Eqx "grey_device_vram_budget_bytes\{$gpu_re\} 1073741824" "$work/top.prom"
grep -Eqx "grey_device_vram_used_bytes\{$gpu_re\} 838860800" "$work/top.prom" && ok "device total in the metrics" \
    || fail "device total in the metrics"
check "the holders' job (no grey-run: grey_run_id=\"\") holds their 800 MiB" \
    grep -Eqx "grey_job_vram_used_bytes\{grey_run_id=\"\",slurm_job_id=\"\",$gpu_re\} 838860800" "$work/top.prom"
check "no per-process series, pid, user or command by default" \
    sh -c "! grep -Eq 'grey_process_|pid=|user=|command=|$HOLD' '$work/top.prom'"
check "grey_build_info carries the version" grep -qx "grey_build_info{version=\"$(cat VERSION)\"} 1" "$work/top.prom"
"$TOP" --prometheus --per-process --process-names --ledger "$L" >"$work/top-pp.prom"
check "promtool check metrics accepts grey-top --prometheus --per-process --process-names" promtool_ok "$work/top-pp.prom"
check "--per-process: each holder's bytes, by pid and program basename" \
    grep -Eqx "grey_process_vram_used_bytes\{pid=\"${holders[0]}\",grey_run_id=\"\",program=\"prog_hold\",$gpu_re\} 419430400" \
    "$work/top-pp.prom"
check "--per-process: never the command line or the user" \
    sh -c "! grep -Eq 'user=|command=|$work' '$work/top-pp.prom'"
for t in grey_process_vram_peak_bytes grey_process_allocations_denied_total grey_process_kernel_launches_total \
         grey_process_weight grey_process_entitled_share grey_process_measured_share \
         grey_process_throttled_seconds_total grey_process_queued_device_seconds; do
    check "$t has HELP and TYPE" grep -q "^# TYPE $t " "$work/top-pp.prom"
done
check "grey-top: --per-process without --prometheus is a usage error" \
    sh -c "'$TOP' --once --per-process --ledger '$L' 2>/dev/null; [ \$? -eq 2 ]"

timeout --preserve-status -s INT 2.5 "$TOP" --ledger "$L" >"$work/live.out" 2>&1
rc=$?
frames=$(grep -c "ledger $L" "$work/live.out")
[ $rc -eq 0 ] && [ "$frames" -ge 2 ] && ok "live grey-top refreshes every second and Ctrl-C ends it (exit 0)" \
    || fail "live grey-top: exit $rc, $frames frames"
if command -v script >/dev/null; then
    # On a terminal (script gives it one): q quits at once.
    (sleep 0.5; printf q) | timeout 10 script -qfec "'$TOP' --ledger '$L'" /dev/null >"$work/live2.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q "q quits" "$work/live2.out" && ok "live grey-top on a terminal: q quits" \
        || fail "grey-top on a terminal: exit $rc"
fi

echo "== grey-exporter"
# start_exporter ARGS...: starts it on a free port of 127.0.0.1; sets $exporter and $port.
start_exporter() {
    "$B/bin/grey-exporter" --listen 127.0.0.1:0 --ledger "$L" "$@" 2>"$work/exporter.err" &
    exporter=$!
    pids+=($exporter)
    for _ in $(seq 1 500); do grep -q serving "$work/exporter.err" && break; sleep 0.01; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/exporter.err")
}
# stop_exporter: SIGTERM to the one we started; its exit status in $rc.
stop_exporter() { kill -TERM "$exporter"; wait "$exporter"; rc=$?; }
start_exporter
if [ -n "$port" ]; then
    code=$(curl -s -o "$work/served.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics")
    [ "$code" = 200 ] && ok "GET /metrics: 200" || fail "GET /metrics: $code"
    check "promtool check metrics accepts what grey-exporter serves (a live scrape)" promtool_ok "$work/served.prom"
    check "grey-exporter serves exactly what grey-top --prometheus prints" diff "$work/top.prom" "$work/served.prom"
    check "the Content-Type is Prometheus text 0.0.4" \
        sh -c "curl -sI 'http://127.0.0.1:$port/metrics' | grep -qi '^content-type: text/plain; version=0.0.4'"
    code=$(curl -s -o "$work/landing.html" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/")
    [ "$code" = "200 text/html; charset=utf-8" ] && grep -q '<a href="/metrics">' "$work/landing.html" &&
        grep -q "grey $(cat VERSION)" "$work/landing.html" && ok "GET /: an HTML page linking /metrics, with the version" \
        || fail "GET /: $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metricsx")
    [ "$code" = 404 ] && ok "GET /metricsx: 404" || fail "GET /metricsx: $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")
    [ "$code" = 405 ] && ok "POST /metrics: 405" || fail "POST /metrics: $code"
    code=$(curl -s -o "$work/head.out" -w '%{http_code}' -I "http://127.0.0.1:$port/metrics")
    [ "$code" = 200 ] && ! grep -q '^grey_' "$work/head.out" && ok "HEAD /metrics: 200, no body" || fail "HEAD /metrics: $code"

    # Slow clients: 200 connections each trickling a request a byte a second, while a scrape a
    # second for 10 s must each be answered (the old exporter served none of them).
    python3 tests/integration/slow_clients.py "$port" 200 12 >"$work/slow.out" 2>&1 &
    slow=$!
    pids+=($slow)
    for _ in $(seq 1 500); do grep -q '^connected' "$work/slow.out" && break; sleep 0.01; done
    served=0 worst=0
    for _ in $(seq 1 10); do
        t0=$(date +%s%N)
        code=$(curl -s --max-time 2 -o "$work/scrape.prom" -w '%{http_code}' "http://127.0.0.1:$port/metrics")
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ "$ms" -gt "$worst" ] && worst=$ms
        [ "$code" = 200 ] && grep -q '^grey_build_info' "$work/scrape.prom" && served=$((served + 1))
        sleep 1
    done
    wait "$slow"
    grep -qx 'connected 200' "$work/slow.out" && ok "200 slow clients connected" \
        || fail "slow clients: $(head -1 "$work/slow.out")"
    [ "$served" -eq 10 ] && ok "with 200 slow clients, 10 of 10 scrapes served (slowest ${worst} ms)" \
        || fail "with 200 slow clients, $served of 10 scrapes served (slowest ${worst} ms)"
    held=$(sed -n 's/^open //p' "$work/slow.out")
    [ "${held:-0}" -ge 190 ] && ok "the slow clients were still held open meanwhile ($held of 200)" \
        || fail "only ${held:-?} slow clients were still open: the test did not load the exporter"
else
    fail "grey-exporter did not start: $(cat "$work/exporter.err")"
fi
start=$(date +%s%N)
stop_exporter
[ $rc -eq 0 ] && [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ] && ok "SIGTERM stops grey-exporter (exit 0)" \
    || fail "grey-exporter after SIGTERM: exit $rc"

# One address may hold at most --max-connections-per-ip slots (256 by default).
start_exporter --max-connections-per-ip 8
python3 tests/integration/slow_clients.py "$port" 20 3 >"$work/per-ip.out" 2>&1
stop_exporter
check "--max-connections-per-ip 8: 20 clients from one address, 8 held, the rest closed" \
    grep -qx 'open 8' "$work/per-ip.out"
check "libmicrohttpd's refusals are logged at most once a second" \
    sh -c "[ \$(grep -c 'connection limit' '$work/exporter.err') -le 4 ]"

start_exporter --per-process --process-names
curl -s -o "$work/served-pp.prom" "http://127.0.0.1:$port/metrics"
stop_exporter
check "grey-exporter --per-process --process-names serves what grey-top prints with them" \
    diff "$work/top-pp.prom" "$work/served-pp.prom"
check "grey-exporter's default address is 127.0.0.1:10931, not dcgm-exporter's 9400" \
    sh -c "'$B/bin/grey-exporter' --help | grep -q 'default 127.0.0.1:10931'"
check "grey-exporter --process-names without --per-process is a usage error" \
    sh -c "'$B/bin/grey-exporter' --process-names 2>/dev/null; [ \$? -eq 2 ]"
echo "== 30 processes, each its own job: the series stay few without --per-process"
L30=$work/thirty.ledger
# Each its own grey-run, the first inside a Slurm job: its series carry the job's id.
for i in $(seq 1 30); do
    if [ $i = 1 ]; then slurm=(SLURM_JOB_ID=4242); else slurm=(); fi
    hold "t$i" $MiB GREY_LEDGER="$L30" GREY_RUN_ID="$(printf '%x' $((0x100 + i)))" "${slurm[@]}"
done
got=0; for i in $(seq 1 30); do [ "$(status "t$i")" = ok ] && got=$((got + 1)); done
[ "$got" -eq 30 ] && ok "30 processes hold 1 MiB each" || fail "only $got of 30 processes got their 1 MiB"
"$TOP" --prometheus --ledger "$L30" >"$work/thirty.prom"
series=$(grep -vc '^#' "$work/thirty.prom")
[ "$series" -le 200 ] && ok "30 processes in 30 jobs: $series series (at most 200)" || fail "30 processes: $series series (over 200)"
check "... and 30 jobs among them" sh -c "[ \$(grep -c '^grey_job_vram_used_bytes{' '$work/thirty.prom') -eq 30 ]"
check "the job in Slurm is labelled with its SLURM_JOB_ID, the others with none" \
    sh -c "grep -q '^grey_job_vram_used_bytes{grey_run_id=\"101\",slurm_job_id=\"4242\",' '$work/thirty.prom' &&
           [ \$(grep -c '^grey_job_vram_used_bytes{[^}]*slurm_job_id=\"\",' '$work/thirty.prom') -eq 29 ]"
"$TOP" --prometheus --per-process --ledger "$L30" >"$work/thirty-pp.prom"
pp=$(grep -vc '^#' "$work/thirty-pp.prom")
[ "$pp" -gt "$series" ] && ok "--per-process adds the processes' own ($pp series)" || fail "--per-process: $pp series"
for i in $(seq 1 30); do touch "$work/t$i.release"; done
for i in $(seq 1 30); do wait "${hold_pid[t$i]}"; done

echo "== contrib: alert rules, their unit tests, the Grafana dashboard"
check "promtool check rules contrib/prometheus/grey-alerts.yml" promtool check rules contrib/prometheus/grey-alerts.yml
check "promtool test rules contrib/prometheus/grey-alerts.test.yml" \
    sh -c 'cd contrib/prometheus && promtool test rules grey-alerts.test.yml'
check "the dashboard is JSON with panels that query Prometheus" \
    jq -e '(.panels | length) > 0 and all(.panels[]; (.targets | length) > 0)' contrib/grafana/grey-dashboard.json
# Every grey_ metric the dashboard and the alerts use is one the exporter serves.
used=$( (jq -r '.panels[].targets[].expr, .templating.list[].definition // empty' contrib/grafana/grey-dashboard.json;
         cat contrib/prometheus/grey-alerts.yml) | grep -oE 'grey_[a-z_]+' | grep -v '^grey_run_id$' | sort -u)
missing=""
for m in $used; do grep -q "^# TYPE $m " "$work/top.prom" || missing="$missing $m"; done
[ -z "$missing" ] && ok "the dashboard and the alerts use only served metrics ($(echo $used | wc -w) of them)" \
    || fail "the dashboard or the alerts use metrics grey does not serve:$missing"

check "grey-exporter --listen without a port is a usage error" \
    sh -c "'$B/bin/grey-exporter' --listen 127.0.0.1 2>/dev/null; [ \$? -eq 2 ]"

for i in 1 2 3 4; do
    want=0; [ "$(status "p$i")" = denied ] && want=3
    release "p$i"; [ "$released" -eq "$want" ] || fail "p$i exited $released, wanted $want"
done
check "after they free and exit, the device total is back to exactly zero (nothing orphaned)" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '(.devices[] | select(.index == 0) | .used_bytes == 0)
        and .reclaimed.orphaned_bytes == 0 and .reclaimed.processes == 0'"
check "and no process is listed any more" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '.processes == []'"

echo "== a process killed with SIGKILL gives its bytes back"
L=$work/kill.ledger
plan "$work/plan1g.conf" 1GiB 1GiB
hold big $((500 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan1g.conf"
[ "$(status big)" = ok ] && ok "a process holds 500 MiB of the 1 GiB budget" || fail "500 MiB holder: $(status big)"
kill -9 "${hold_pid[big]}"; wait "${hold_pid[big]}" 2>/dev/null
hold next $((900 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan1g.conf"
[ "$(status next)" = ok ] && ok "right after the SIGKILL a new process takes 900 MiB (the hook reclaimed the dead slot)" \
    || fail "900 MiB after SIGKILL: $(status next); $(cat "$work/next.err")"
json "$L" >"$work/kill.json"
check "the reclaim was the denied process's, and the total is exactly its 900 MiB" \
    jq -e '.reclaimed.processes == 1 and .reclaimed.bytes == 524288000 and .reclaimed.orphaned_bytes == 0
           and (.devices[] | select(.index == 0) | .used_bytes == 943718400)' "$work/kill.json"
release next
hold big2 $((500 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan1g.conf"
[ "$(status big2)" = ok ] || fail "second 500 MiB holder: $(status big2)"
kill -9 "${hold_pid[big2]}"; wait "${hold_pid[big2]}" 2>/dev/null
check "grey-top reclaims a killed process when it reads the ledger" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '.reclaimed.processes == 2 and (.devices[0].used_bytes == 0)'"
HOLD_FLAGS=--exit-without-free hold leaver $((600 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan1g.conf"
[ "$(status leaver)" = ok ] || fail "600 MiB leaver: $(status leaver)"
release leaver
check "a process that exits without freeing gives its 600 MiB back at exit (no reclaim needed)" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '.reclaimed.processes == 2 and .devices[0].used_bytes == 0
        and .reclaimed.orphaned_bytes == 0'"
hold after $((900 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/plan1g.conf"
[ "$(status after)" = ok ] && ok "and 900 MiB fit again" || fail "900 MiB after an exit: $(status after)"
release after

echo "== budgets from plans"
L=$work/budget.ledger
plan "$work/user1g.conf" 1GiB 512MiB; chmod 0666 "$work/user1g.conf"   # writable by others: a user's plan
plan "$work/user2g.conf" 2GiB 512MiB; chmod 0666 "$work/user2g.conf"
hold b1 $((100 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/user1g.conf"
status b1 >/dev/null
hold b2 $((100 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/user2g.conf"
status b2 >/dev/null
check "a conflicting user plan leaves the shared budget alone and says so" \
    grep -Eq "keeps its budget 1.0 GiB on GPU 0 \(GPU-[0-9a-f]{8}\) \(the plan says 2.0 GiB\)" "$work/b2.err"
check "the ledger keeps 1 GiB while the first process runs" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '.devices[0].budget_bytes == 1073741824'"
release b1; release b2
hold b3 $((100 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/user2g.conf"
status b3 >/dev/null
check "once nobody else uses the ledger, the new plan's budget applies" \
    sh -c "'$TOP' --once --json --ledger '$L' | jq -e '.devices[0].budget_bytes == 2147483648'"
release b3

echo "== caps per user, and admin caps a user cannot raise"
L=$work/caps.ledger
plan "$work/users.conf" 1GiB 1GiB "[user $(id -un)]
process_cap = 128MiB
[group nosuchgroup-grey]
process_cap = 1MiB"
hold u1 $((200 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/users.conf"
[ "$(status u1)" = denied ] && ok "[user $(id -un)] process_cap 128MiB denies 200 MiB" || fail "user cap: $(status u1)"
release u1
hold u2 $((100 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/users.conf"
[ "$(status u2)" = ok ] && ok "and admits 100 MiB (a group we are not in does not apply)" || fail "user cap: $(status u2)"
release u2
plan "$work/group.conf" 1GiB 1GiB "[group $(id -gn)]
process_cap = 64MiB"
chmod 0644 "$work/group.conf"
hold g1 $((100 * MiB)) GREY_LEDGER="$L" GREY_PLAN="$work/group.conf"
[ "$(status g1)" = denied ] && ok "[group $(id -gn)] process_cap 64MiB denies 100 MiB" || fail "group cap: $(status g1)"
release g1

plan "$work/admin.conf" 1GiB 256MiB
chmod 0644 "$work/admin.conf"
if [ "$(stat -c %u "$work/admin.conf")" = 0 ]; then
    # An admin plan is the one at the admin path (GREY_ADMIN_PLAN stands in for /etc/grey/plan.conf
    # while that does not exist), root-owned and writable by nobody else; GREY_PLAN is a user's.
    hold a1 $((300 * MiB)) GREY_LEDGER="$L" GREY_ADMIN_PLAN="$work/admin.conf" GREY_CAP=1GiB
    [ "$(status a1)" = denied ] && ok "GREY_CAP=1GiB does not raise a root-owned plan's 256 MiB cap" \
        || fail "admin cap raised: $(status a1)"
    check "the hook says the admin cap applies" grep -q "above the admin plan's cap on GPU 0 (GPU-" "$work/a1.err"
    release a1
    hold a2 $((200 * MiB)) GREY_LEDGER="$L" GREY_ADMIN_PLAN="$work/admin.conf" GREY_CAP=128MiB
    [ "$(status a2)" = denied ] && ok "GREY_CAP=128MiB lowers it" || fail "admin cap not lowered: $(status a2)"
    release a2
    out=$(GREY_ADMIN_PLAN="$work/admin.conf" "$B/bin/grey-run" --cap 1GiB -- "$HOLD" $((300 * MiB)) "$work/r.status" /dev/null 2>&1)
    rc=$?
    [ $rc -eq 3 ] && ok "grey-run --cap 1GiB under an admin plan: the job is denied 300 MiB" || fail "grey-run: exit $rc: $out"
    grep -q "capped at 256.0 MiB for this process" <<<"$out" && ok "grey-run's banner shows the admin cap" \
        || fail "banner: $out"
    grep -q -- "--cap 1.0 GiB is above the admin plan's cap 256.0 MiB" <<<"$out" && ok "grey-run says why" \
        || fail "grey-run warning: $out"
    chmod 0666 "$work/admin.conf"
    hold a3 $((300 * MiB)) GREY_LEDGER="$L" GREY_ADMIN_PLAN="$work/admin.conf" GREY_CAP=1GiB
    [ "$(status a3)" = ok ] && ok "the same plan writable by others is a user's plan: GREY_CAP overrides it" \
        || fail "user plan override: $(status a3)"
    release a3
else
    echo "note: not root: the admin-plan checks need a root-owned plan (unit tests cover the rule)"
fi

echo "== the plan's ledger keys"
plan "$work/ledgerkey.conf" 1GiB 1GiB "ledger = \"$work/planned.ledger\"
ledger_group = \"$(id -gn)\""
chmod 0666 "$work/ledgerkey.conf"
hold k1 $MiB GREY_PLAN="$work/ledgerkey.conf" GREY_LEDGER=
status k1 >/dev/null
check "a plan's ledger key names the ledger file" test -f "$work/planned.ledger"
check "created 0660 for the plan's ledger_group" \
    sh -c "[ \"\$(stat -c '%a %G' '$work/planned.ledger')\" = '660 $(id -gn)' ]"
check "and the process registered there" \
    sh -c "'$TOP' --once --json --ledger '$work/planned.ledger' | jq -e '.processes | length == 1'"
release k1

echo "== 10 000 short processes that never touch a GPU leave the ledger's slots to others"
L=$work/short.ledger
GREY_LEDGER="$L" "$B/bin/grey-run" -- bash -c 'for i in $(seq 10000); do /bin/true; done; exec "$0" "$@"' \
    "$HOLD" $((100 * MiB)) "$work/short.status" "$work/short.status" >"$work/short.out" 2>&1
rc=$?
[ $rc = 0 ] && ! grep -q "no free slot" "$work/short.out" && grep -q "^ok " "$work/short.status" &&
    ok "grey-run -- bash -c 'for 10 000 x true; then a GPU job': every process found a slot, the GPU job too" ||
    { fail "10 000 short processes (exit $rc): $(grep -c 'no free slot' "$work/short.out") found no slot"
      head -3 "$work/short.out" | sed 's/^/      /'; }
grep -q "peak 100.0 MiB of no cap on GPU 0" "$work/short.out" && ok "and the summary has the GPU job's 100 MiB" ||
    { fail "summary after the short processes"; tail -2 "$work/short.out" | sed 's/^/      /'; }
GREY_LEDGER="$L" "$B/bin/grey-run" -- bash -c 'for i in $(seq 300); do /bin/true; done' >"$work/short2.out" 2>&1
grep -q "the job made no GPU calls through the hook (302 processes)" "$work/short2.out" &&
    ok "grey-run counts each of them once (300 + bash + seq = 302), though none kept a slot" ||
    { fail "the count of short processes"; tail -2 "$work/short2.out" | sed 's/^/      /'; }

echo "== grey-top on ledgers it must refuse"
good=$work/shared.ledger
size=$(stat -c %s "$good")
head -c "$size" /dev/zero >"$work/zero.ledger"
head -c 1000 "$good" >"$work/short.ledger"
head -c "$size" /dev/urandom >"$work/garbage.ledger"
cp "$good" "$work/v9.ledger"; printf '\x09' | dd of="$work/v9.ledger" bs=1 seek=8 conv=notrunc status=none
printf 'hello\n' >"$work/text.ledger"
for f in zero:"not a grey ledger" short:"truncated" garbage:"not a grey ledger" v9:"layout version 9" \
         text:"truncated" missing:"cannot open"; do
    name=${f%%:*} want=${f#*:}
    for mode in "--once" "--once --json" "--prometheus"; do
        # shellcheck disable=SC2086
        "$TOP" $mode --ledger "$work/$name.ledger" >"$work/bad.out" 2>&1
        rc=$?
        if [ $rc -eq 1 ] && grep -q "$want" "$work/bad.out"; then ok "grey-top $mode, $name ledger: exit 1, '$want'"
        else fail "grey-top $mode, $name ledger: exit $rc: $(cat "$work/bad.out")"; fi
    done
done

echo
finish "ledger integration"
