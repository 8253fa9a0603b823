#!/usr/bin/env bash
# make demo: grey's story in about a minute, on the simulated GPU (nothing here needs a real one):
# a plan for the GPU, a capped job hitting its cap, two weighted jobs sharing the GPU as grey-top
# shows them, one scrape of grey-exporter, and the buffer report grey-report reads.
# Everything it starts is stopped by PID; its files live in one temporary directory.
set -euo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_NAME=${GREY_SIM_NAME:-"Grey Simulated H100 80GB"}
export GREY_SIM_VRAM=${GREY_SIM_VRAM:-80GiB}
work=$(mktemp -d /tmp/grey-demo.XXXXXX)
export GREY_SIM_STATE=$work/sim GREY_LEDGER=$work/ledger
started=()
stop_started() {
    local p
    for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
    started=()
}
trap 'stop_started; rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '\033[2m%s\033[0m\n' "$*"; }

step "1. the GPU, as grey-plan detects it, and a safe plan for it"
"$B/bin/grey-plan" detect | sed -n 1,2p   # the table; the lines after it give each figure's source
"$B/bin/grey-plan" --mode safe --out "$work/plan.conf"

step "2. a training job capped at 2 GiB hits its cap: grey refuses the allocations, the job adapts"
"$B/bin/grey-run" --cap 2GiB -- "$B/tests/demo/train" --steps 2

step "3. capped below its model, the job fails with the driver's own out-of-memory error"
"$B/bin/grey-run" --cap 1GiB -- "$B/tests/demo/train" --steps 2 || say "(the job exited with status $?)"

step "4. two jobs share the GPU with weights 3 and 1 (grey-top --once after 3 seconds)"
"$B/bin/grey-run" --quiet --weight 3 --cap 4GiB -- "$B/tests/top/top_load" 3072 0 &
started+=($!)
"$B/bin/grey-run" --quiet --weight 1 --cap 4GiB -- "$B/tests/top/top_load" 1024 0 &
started+=($!)
sleep 3
"$B/bin/grey-top" --once
say "ENTITLED is what the weights give each job; MEASURED is the device time it got. The live"
say "view (grey-top, no options) shows the same on a terminal, sorted and scrollable."

step "5. grey-exporter: one scrape of http://127.0.0.1/metrics while they run"
"$B/bin/grey-exporter" --listen 127.0.0.1:0 2>"$work/exporter.err" &
exporter=$!
started+=($exporter)
port=""
for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/exporter.err")
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -n "$port" ]; then
    curl -s "http://127.0.0.1:$port/metrics" | grep -E '^grey_(device_vram_used_bytes|process_vram_used_bytes|process_kernel_launches_total)' |
        sed -E 's/,?(uuid|pci_bus_id|device|model_name)="[^"]*"//g'   # labels trimmed to fit a screen
    say "(the full text has HELP and TYPE lines and more series: $(curl -s "http://127.0.0.1:$port/metrics" | grep -vc '^#') samples)"
else
    say "grey-exporter did not start: $(cat "$work/exporter.err")"
fi
stop_started

step "6. the buffer report: what a job held at its peak, and where it was allocated (grey-report)"
"$B/bin/grey-run" --quiet --report "$work/report.json" -- "$B/tests/demo/train" --steps 2 >/dev/null
"$B/bin/grey-report" "$work/report.json"
