#!/usr/bin/env bash
# A simulated 4-GPU node: budgets belong to physical GPUs whatever device numbers a job sees
# (CUDA_VISIBLE_DEVICES by index, UUID and UUID prefix; HIP_VISIBLE_DEVICES and
# ROCR_VISIBLE_DEVICES), grey-top / --json / Prometheus name each GPU, a plan's sections find their
# GPUs by UUID or, from another node, by index; and processes in other PID namespaces keep their
# bytes while alive and give them back when killed. Real processes, the real hook, the simulated
# drivers. Run from the repository root after `make` (make node-integration does both).
set -uo pipefail

root=$(pwd)
B=$root/build
HOOK=$B/lib/libgreyhook.so
HOLD=$B/tests/integration/prog_hold
PROBE=$B/tests/simgpu/node_probe
TOP=$B/bin/grey-top
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_DEVICES=4 GREY_SIM_VRAM=8GiB
unset CUDA_VISIBLE_DEVICES CUDA_DEVICE_ORDER HIP_VISIBLE_DEVICES ROCR_VISIBLE_DEVICES GREY_PLAN GREY_CAP \
      GREY_BUDGET GREY_LEDGER GREY_ADMIN_PLAN
work=$(mktemp -d /tmp/grey-node-test.XXXXXX)
export GREY_SIM_STATE=$work/sim # this node's GPUs are this test's alone
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
check() { # check NAME CMD...: passes when CMD exits 0
    local name=$1; shift
    if "$@" >"$work/check.out" 2>&1; then ok "$name"; else fail "$name"; sed 's/^/      /' "$work/check.out"; fi
}
for tool in jq curl; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

MiB=$((1 << 20))

# hold NAME BYTES "PROG FLAGS" [VAR=VALUE...]: prog_hold under the hook, in the background.
declare -A hold_pid
hold() {
    local name=$1 bytes=$2 flags=$3; shift 3
    rm -f "$work/$name.status" "$work/$name.release"
    # shellcheck disable=SC2086 # flags are words
    env LD_PRELOAD="$HOOK" "$@" "$HOLD" "$bytes" "$work/$name.status" "$work/$name.release" $flags \
        2>"$work/$name.err" &
    hold_pid[$name]=$!
    pids+=($!)
}
status() { # status NAME: ok / denied / error once it has tried
    local f=$work/$1.status
    for _ in $(seq 1 1000); do [ -e "$f" ] && break; sleep 0.01; done
    [ -e "$f" ] && cut -d' ' -f1 "$f" || echo "timeout"
}
expect() { # expect NAME WANT DESCRIPTION
    local got
    got=$(status "$1")
    [ "$got" = "$2" ] && ok "$3" || { fail "$3: $got, wanted $2"; sed 's/^/      /' "$work/$1.err"; }
}
release_all() {
    for name in "${!hold_pid[@]}"; do touch "$work/$name.release"; done
    for name in "${!hold_pid[@]}"; do wait "${hold_pid[$name]}" 2>/dev/null; done
    hold_pid=()
}

# The node's GPUs as the drivers name them: CUDA's UUIDs, ROCm's, PCI addresses.
"$PROBE" cuda-list >"$work/cuda.list" && "$PROBE" hip-list >"$work/hip.list" ||
    { echo "FAIL: node_probe cannot list the simulated GPUs"; exit 1; }
declare -a uuid rocm pci
for i in 0 1 2 3; do
    uuid[$i]=GPU-$(sed -n "s/^cuda $i uuid=\([^ ]*\) .*/\1/p" "$work/cuda.list")
    rocm[$i]=$(sed -n "s/^hip $i uuid=\([^ ]*\) .*/\1/p" "$work/hip.list")
    pci[$i]=$(sed -n "s/^cuda $i .* pci=\([^ ]*\) .*/\1/p" "$work/cuda.list")
done

echo "== grey-plan on a 4-GPU node: sections numbered as nvidia-smi numbers the GPUs, named by UUID"
GREY_LEDGER=$work/plan.ledger GREY_DETECT_SOURCES=nvml,cuda "$B/bin/grey-plan" --budget 1GiB --cap 1GiB \
    --out "$work/plan.conf" 2>"$work/plan.err"
for i in 0 1 2 3; do
    check "[device $i] names GPU $i: uuid ${uuid[$i]}, pci_bus_id ${pci[$i]}" \
        awk -v dev="[device $i]" -v u="\"${uuid[$i]}\"" -v p="\"${pci[$i]}\"" '
            /^\[/ { in_dev = ($0 == dev) }
            in_dev && $1 == "uuid" && $3 == u { hu = 1 }
            in_dev && $1 == "pci_bus_id" && $3 == p { hp = 1 }
            END { exit !(hu && hp) }' "$work/plan.conf"
done
# Planned with CUDA ordering the GPUs its own way: the numbers stay nvidia-smi's.
GREY_LEDGER=$work/plan.ledger GREY_DETECT_SOURCES=cuda CUDA_VISIBLE_DEVICES=2,0 "$B/bin/grey-plan" \
    --budget 1GiB --out "$work/plan-cuda.conf" 2>/dev/null
check "planned from CUDA alone with CUDA_VISIBLE_DEVICES=2,0: [device 0] is still GPU 0 (PCI order)" \
    awk -v u="\"${uuid[0]}\"" '/^\[device 0\]/ { d = 1; next } /^\[/ { d = 0 } d && $1 == "uuid" && $3 == u { f = 1 }
        END { exit !f }' "$work/plan-cuda.conf"
GREY_LEDGER=$work/plan.ledger "$B/bin/grey-plan" show --json "$work/plan.conf" >"$work/plan.json"
check "grey-plan show --json gives each device its uuid and pci_bus_id" \
    jq -e --arg u "${uuid[2]}" --arg p "${pci[2]}" '.devices[] | select(.index == 2) | .uuid == $u and .pci_bus_id == $p' \
    "$work/plan.json"

echo "== CUDA: a 1 GiB budget per GPU, 800 MiB asked by jobs that see the GPUs under other numbers"
L=$work/cuda.ledger
P=(GREY_LEDGER="$L" GREY_PLAN="$work/plan.conf")
hold a $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=0
expect a ok "CUDA_VISIBLE_DEVICES=0 holds 800 MiB on GPU 0"
hold b $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=2
expect b ok "CUDA_VISIBLE_DEVICES=2 gets 800 MiB: GPU 2 is empty"
hold c $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=3,0
expect c ok "CUDA_VISIBLE_DEVICES=3,0 gets 800 MiB on its device 0: GPU 3 is empty"
hold d $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES="${uuid[0]}"
expect d denied "CUDA_VISIBLE_DEVICES=${uuid[0]} is refused: the same GPU 0"
hold d2 $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES="${uuid[0]:0:12}"
expect d2 denied "CUDA_VISIBLE_DEVICES=${uuid[0]:0:12} (a unique prefix) is refused: GPU 0 again"
hold e $((800 * MiB)) "--device 1" "${P[@]}" CUDA_VISIBLE_DEVICES=1,0
expect e denied "CUDA_VISIBLE_DEVICES=1,0 allocating on its device 1 is refused: GPU 0 again"
hold f $((800 * MiB)) "--device 0" "${P[@]}" CUDA_VISIBLE_DEVICES=1,0
expect f ok "CUDA_VISIBLE_DEVICES=1,0 allocating on its device 0 gets GPU 1's"
hold g $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=3 CUDA_DEVICE_ORDER=PCI_BUS_ID
expect g denied "CUDA_VISIBLE_DEVICES=3 with CUDA_DEVICE_ORDER=PCI_BUS_ID is refused: GPU 3 is held by c"

"$TOP" --once --json --ledger "$L" >"$work/top.json"
for i in 0 1 2 3; do
    check "grey-top --json: GPU $i by index, uuid and PCI address, 800 MiB of its 1 GiB in use" \
        jq -e --argjson i "$i" --arg u "${uuid[$i]}" --arg p "${pci[$i]}" \
        '[.devices[] | select(.index == $i)] | length == 1 and (.[0] | .uuid == $u and .pci_bus_id == $p and
          .used_bytes == 838860800 and .budget_bytes == 1073741824 and .name == "Grey Simulated GPU")' "$work/top.json"
done
check "grey-top --json: the refused job's denial is counted on GPU 0, where it was refused" \
    jq -e --argjson pid "${hold_pid[e]}" --arg u "${uuid[0]}" \
    '.processes[] | select(.pid == $pid) | .devices[] | select(.uuid == $u) | .denied >= 1' "$work/top.json"
check "grey-top --json: job c's bytes are on GPU 3, not on its device number 0" \
    jq -e --argjson pid "${hold_pid[c]}" \
    '[.processes[] | select(.pid == $pid) | .devices[] | select(.used_bytes > 0) | .index] == [3]' "$work/top.json"
"$TOP" --once --ledger "$L" >"$work/top.txt"
check "grey-top names each GPU by index and UUID" \
    sh -c "grep -q '^GPU 2 (${uuid[2]:0:12}) ' '$work/top.txt' && grep -q '^GPU 3 (${uuid[3]:0:12}) ' '$work/top.txt'"
# dcgm_pci 0000:3b:00.0: the address as NVML and DCGM write it, 00000000:3B:00.0.
dcgm_pci() { local d=${1%%:*} rest=${1#*:}; printf '%08X:%s' "0x$d" "${rest^^}"; }
"$TOP" --prometheus --ledger "$L" >"$work/top.prom"
check "Prometheus: grey_device_vram_used_bytes of GPU 3 with its index, uuid and PCI address" \
    grep -Eq "^grey_device_vram_used_bytes\{gpu=\"3\",UUID=\"${uuid[3]}\",pci_bus_id=\"$(dcgm_pci "${pci[3]}")\",device=\"nvidia3\",[^}]*\} 838860800$" \
    "$work/top.prom"
release_all

echo "== grey-run says which GPU a job's device is"
GREY_LEDGER="$work/run.ledger" GREY_PLAN="$work/plan.conf" CUDA_VISIBLE_DEVICES=2 \
    "$B/bin/grey-run" -- "$HOLD" $((100 * MiB)) "$work/run.status" "$work/run.status" >"$work/run.out" 2>&1
check "grey-run: device 0 is GPU 2 (${uuid[2]:0:12}...)" grep -q "device 0: GPU 2 (${uuid[2]:0:12}" "$work/run.out"
check "grey-run's summary names GPU 2" grep -q "on GPU 2 (${uuid[2]:0:12}" "$work/run.out"

echo "== HIP: the same GPUs through HIP_VISIBLE_DEVICES and ROCR_VISIBLE_DEVICES"
L=$work/hip.ledger
P=(GREY_LEDGER="$L" GREY_PLAN="$work/plan.conf")
hold ha $((800 * MiB)) "--hip" "${P[@]}" HIP_VISIBLE_DEVICES=0
expect ha ok "HIP_VISIBLE_DEVICES=0 holds 800 MiB on GPU 0"
hold hb $((800 * MiB)) "--hip" "${P[@]}" HIP_VISIBLE_DEVICES=2
expect hb ok "HIP_VISIBLE_DEVICES=2 gets 800 MiB"
hold hc $((800 * MiB)) "--hip" "${P[@]}" HIP_VISIBLE_DEVICES=3,0
expect hc ok "HIP_VISIBLE_DEVICES=3,0 gets 800 MiB on its device 0"
hold hd $((800 * MiB)) "--hip" "${P[@]}" ROCR_VISIBLE_DEVICES="${rocm[0]}"
expect hd denied "ROCR_VISIBLE_DEVICES=${rocm[0]} (ROCm's UUID) is refused: GPU 0"
hold he $((800 * MiB)) "--hip --device 1" "${P[@]}" HIP_VISIBLE_DEVICES=1,0
expect he denied "HIP_VISIBLE_DEVICES=1,0 allocating on its device 1 is refused: GPU 0"
hold hf $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=2
expect hf denied "a CUDA job on GPU 2 shares the budget the HIP job holds (one board, one PCI address)"
"$TOP" --once --json --ledger "$L" >"$work/hip.json"
for i in 0 2 3; do
    check "grey-top --json: HIP's GPU $i has index $i, its PCI address and 800 MiB in use" \
        jq -e --argjson i "$i" --arg p "${pci[$i]}" \
        '[.devices[] | select(.index == $i)] | length == 1 and (.[0] | .pci_bus_id == $p and .used_bytes == 838860800)' \
        "$work/hip.json"
done
release_all

echo "== a holder in its own PID namespace (unshare -p -f --mount-proc)"
L=$work/ns.ledger
printf 'grey-plan-version = 1\n[device 0]\nuuid = "%s"\nbudget = 1GiB\nprocess_cap = 1GiB\n' "${uuid[0]}" \
    >"$work/ns.conf"
P=(GREY_LEDGER="$L" GREY_PLAN="$work/ns.conf")
if ! unshare -p -f --mount-proc true 2>"$work/unshare.err"; then
    skip "PID namespaces are not allowed here: $(head -1 "$work/unshare.err")"
else
    rm -f "$work/ns.status" "$work/ns.release"
    env LD_PRELOAD="$HOOK" "${P[@]}" unshare -p -f --mount-proc \
        "$HOLD" $((700 * MiB)) "$work/ns.status" "$work/ns.release" 2>"$work/ns.err" &
    ns_unshare=$!
    pids+=($ns_unshare)
    for _ in $(seq 1 1000); do [ -e "$work/ns.status" ] && break; sleep 0.01; done
    ns_holder=$(pgrep -P "$ns_unshare" | head -1)
    check "the namespaced holder got 700 MiB, and is pid 1 there" grep -qx "ok 1" "$work/ns.status"
    "$TOP" --once --json --ledger "$L" >"$work/ns.json"
    check "host grey-top sees it alive, in another PID namespace, with its 700 MiB" \
        jq -e '[.processes[] | select(.other_pid_namespace == true)] | length == 1 and .[0].devices[0].used_bytes == 734003200' \
        "$work/ns.json"
    "$B/bin/grey-exporter" --listen 127.0.0.1:0 --ledger "$L" 2>"$work/exporter.err" &
    exporter=$!
    pids+=($exporter)
    for _ in $(seq 1 500); do grep -q serving "$work/exporter.err" && break; sleep 0.01; done
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/exporter.err")
    served=$(curl -s "http://127.0.0.1:$port/metrics" | grep "^grey_device_vram_used_bytes{gpu=\"0\"")
    [[ "$served" == *" 734003200" ]] && ok "host grey-exporter serves GPU 0's 700 MiB" ||
        fail "host grey-exporter: '$served'"
    kill "$exporter"; wait "$exporter" 2>/dev/null
    hold host1 $((700 * MiB)) "" "${P[@]}"
    expect host1 denied "a host process asking 700 MiB more is refused: the budget holds"
    hold host2 $((300 * MiB)) "" "${P[@]}"
    expect host2 ok "a host process gets the 300 MiB that are left"
    kill -9 "$ns_holder"
    wait "$ns_unshare" 2>/dev/null
    start=$(date +%s%N)
    back=""
    while [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]; do
        hold host3 $((700 * MiB)) "" "${P[@]}"
        if [ "$(status host3)" = ok ]; then back=$(( ($(date +%s%N) - start) / 1000000 )); break; fi
        wait "${hold_pid[host3]}" 2>/dev/null
        unset 'hold_pid[host3]'
    done
    [ -n "$back" ] && ok "SIGKILLed in its namespace, its 700 MiB came back to a host process in $back ms (at most 1000)" ||
        fail "the killed namespaced holder's 700 MiB did not come back within a second"
    "$TOP" --once --json --ledger "$L" >"$work/ns2.json"
    check "host grey-top no longer lists it" jq -e '[.processes[] | select(.other_pid_namespace == true)] | length == 0' \
        "$work/ns2.json"
    release_all
fi

echo "== a plan written on another node"
L=$work/foreign.ledger
cat >"$work/foreign.conf" <<EOF
grey-plan-version = 1
[device 0]
uuid = "GPU-deadbeef-0000-4000-8000-000000000000"
budget = 1GiB
process_cap = 1GiB
[device 3]
uuid = "${uuid[1]}"
budget = 512MiB
process_cap = 512MiB
EOF
P=(GREY_LEDGER="$L" GREY_PLAN="$work/foreign.conf")
hold fa $((1200 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=0
expect fa denied "a UUID on no GPU here: [device 0] caps GPU 0 by index (1.2 GiB refused)"
check "and says so in one line" test "$(grep -c 'GPU-deadbeef-0000-4000-8000-000000000000, which is on no GPU of this node; it applies to GPU 0' "$work/fa.err")" = 1
check "that line is the only thing it says" test "$(wc -l <"$work/fa.err")" = 1
hold fb $((800 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=0
expect fb ok "800 MiB fit GPU 0's 1 GiB"
hold fc $((600 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=1
expect fc denied "[device 3] names GPU 1 by UUID: its 512 MiB cap applies to GPU 1"
hold fd $((2048 * MiB)) "" "${P[@]}" CUDA_VISIBLE_DEVICES=3
expect fd ok "GPU 3 takes no section: [device 3] is GPU 1's, so 2 GiB are not refused on GPU 3"
check "the UUID that matched says nothing" test ! -s "$work/fc.err"
release_all

finish node-integration
