#!/usr/bin/env bash
# make demo: a simulated training job under grey-run, on the simulated GPU.
set -euo pipefail
B=$(pwd)/build
export LD_LIBRARY_PATH=$B/sim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GREY_SIM_NAME=${GREY_SIM_NAME:-"Grey Simulated H100 80GB"}
export GREY_SIM_VRAM=${GREY_SIM_VRAM:-80GiB}
work=$(mktemp -d /tmp/grey-demo.XXXXXX)
export GREY_LEDGER=$work/ledger
trap 'rm -rf "$work"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "the simulated GPU, as grey-plan detects it"
"$B/bin/grey-plan" detect

step "a safe plan for it (grey-plan --mode safe)"
"$B/bin/grey-plan" --mode safe --out "$work/plan.conf"
"$B/bin/grey-plan" show "$work/plan.conf"

step "the training job under the plan: it fits"
"$B/bin/grey-run" --plan "$work/plan.conf" -- "$B/tests/demo/train" --steps 3

step "the same job capped at 2 GiB: it adapts its batch size to the cap"
"$B/bin/grey-run" --cap 2GiB -- "$B/tests/demo/train" --steps 3

step "a cap smaller than the model: the job fails with the driver's own out-of-memory error"
"$B/bin/grey-run" --cap 1GiB -- "$B/tests/demo/train" --steps 3 || echo "(the job exited with status $?)"
