#!/usr/bin/env bash
# grey-plan end to end: detection on the simulated GPU (NVML + CUDA driver) and from recorded
# tool output (stand-in nvidia-smi / lspci first on PATH), plans by mode and tenants with their
# reasons, the configuration layers (admin plan, ~/.config, GREY_*, options) through grey-plan and
# through the hook, malformed plans refused by check, grey-run and the hook, and install's dry run.
# Run from the repository root after `make` (make plan-integration does both). Prints "ok: NAME"
# per passing check and "FAIL: ..." per failing one; checks that cannot run here print "SKIP: ..."
# and are not counted as passed. Exit status 1 when any check failed.
set -uo pipefail

root=$(pwd)
B=$root/build
G=$B/bin/grey-plan
FIX=$root/tests/fixtures
SIM=$B/sim
work=$(mktemp -d /tmp/grey-plan-chain.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GREY_LEDGER=$work/ledger
# Nothing of the machine's own configuration may leak in.
unset GREY_PLAN GREY_CAP GREY_BUDGET GREY_MODE GREY_TENANTS GREY_MODEL_SIZE GREY_WORKLOAD GREY_WEIGHT \
      GREY_DETECT_SOURCES GREY_ADMIN_PLAN
export XDG_CONFIG_HOME=$work/no-config

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
check() { # NAME CMD...: passes when CMD succeeds (its output is not shown)
    local name=$1; shift
    if "$@" >/dev/null; then ok "$name"; else fail "$name"; fi
}
# run WANT_RC CMD...: stdout in $work/out, stderr in $work/err; a wrong status is a failure.
run() {
    local want=$1 rc=0; shift
    "$@" >"$work/out" 2>"$work/err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "'$*' exited $rc, wanted $want"; sed 's/^/      /' "$work/err" | head -20
        return 1
    fi
}
has() { grep -qF -- "$2" "$1"; }
value() { # FILE N KEY: the value of KEY in [device N] (N = top for the top level)
    awk -v dev="[device $2]" -v key="$3" -v top="$2" '
        /^\[/ { in_dev = ($0 == dev) } top == "top" && /^\[/ { exit }
        (in_dev || top == "top") && $1 == key && $2 == "=" { print $3; exit }' "$1"
}

GiB=$((1 << 30)) MiB=$((1 << 20))
sim() { env LD_LIBRARY_PATH="$SIM" GREY_DETECT_SOURCES=nvml,cuda GREY_SIM_DEVICES=2 GREY_SIM_VRAM=24GiB \
            GREY_SIM_SMS=40 GREY_SIM_NAME="Grey Test GPU" "$@"; }
# Only the stand-ins on PATH: the machine's own nvidia-smi or lspci must not answer.
tools() { env -u LD_LIBRARY_PATH PATH="$FIX/bin" "$@"; } # tools VAR=VALUE... CMD...

echo "== the simulated GPU: NVML and the CUDA driver"
if run 0 sim "$G" detect --json; then
    check "detect --json: two devices with VRAM and SM count" \
        jq -e "length == 2 and all(.[]; .vram_total_bytes == $((24 * GiB)) and .sm_count == 40)" "$work/out"
    check "detect --json: both sources, field by field" \
        jq -e 'all(.[]; .source == "nvml+cuda driver" and
                        (.fields[] | select(.field == "vram_total") | .from) == "nvml+cuda driver" and
                        (.fields[] | select(.field == "sm_count") | .from) == "cuda driver")' "$work/out"
    check "detect --json: thresholds, power, clocks and versions from NVML" \
        jq -e 'all(.[]; .slowdown_temp_c == 89 and .shutdown_temp_c == 92 and .power_limit_mw == 700000 and
                        .max_sm_clock_mhz == 1980 and .driver_version == "580.95.05" and .cuda_version == "13.0" and
                        .pci_bus_id != null and .mig_enabled == false and .confidence > 0.9)' "$work/out"
fi
run 0 sim env GREY_SIM_NVML_THRESHOLDS=0 "$G" --out "$work/nothresh.conf" &&
    check "thresholds NVML does not support: vendor default, low confidence" \
        grep -q '^cooldown_temp.why = 0.3 "no source reported a slowdown temperature' "$work/nothresh.conf"
run 0 sim env GREY_SIM_MIG=1 GREY_SIM_MIG_VRAM=10GiB "$G" --out "$work/mig.conf" &&
    check "MIG on: the cap is planned for the largest instance (75% of 10 GiB)" \
        test "$(value "$work/mig.conf" 0 process_cap)" = $((10 * GiB * 75 / 100 / MiB * MiB))

for mode in safe balanced aggressive; do
    for t in 1 4; do
        run 0 sim "$G" --mode $mode --tenants $t --out "$work/$mode-$t.conf" || continue
    done
done
budget=$(value "$work/safe-1.conf" 0 budget)
check "budget 90% of VRAM" test "$budget" = $((24 * GiB * 90 / 100 / MiB * MiB))
check "aggressive caps > balanced > safe" test "$(value "$work/safe-1.conf" 0 process_cap)" -lt \
    "$(value "$work/balanced-1.conf" 0 process_cap)" -a "$(value "$work/balanced-1.conf" 0 process_cap)" -lt \
    "$(value "$work/aggressive-1.conf" 1 process_cap)"
check "--tenants 4, safe: the budget divided by 4" \
    test "$(value "$work/safe-4.conf" 1 process_cap)" = $((budget / 4 / MiB * MiB))
check "--tenants 4, balanced: 1.25 x budget / 4" \
    test "$(value "$work/balanced-4.conf" 0 process_cap)" = $((budget * 125 / 100 / 4 / MiB * MiB))
check "--tenants 4, aggressive: 1.5 x budget / 4, larger than safe's" \
    test "$(value "$work/aggressive-4.conf" 0 process_cap)" = $((budget * 150 / 100 / 4 / MiB * MiB))
check "--tenants 4 is recorded with its reason" grep -q '^tenants.why = 1 "set by --tenants: 4"' "$work/safe-4.conf"

if run 0 "$G" explain "$work/balanced-4.conf"; then
    check "explain: the tenants reason for the cap" grep -q '^  process_cap  *6.7 GiB  *0\.[0-9]*  4 tenants share' "$work/out"
    # Every "key = value" line of the plan has a row with a confidence (a number) and a reason.
    missing=$(awk '/^[a-z_]+ = / && $1 != "grey-plan-version" && $1 != "name" && $1 != "source" { print $1 }' \
                  "$work/balanced-4.conf" | sort -u | while read -r k; do
                  grep -Eq "^ *$k +[^ ].* +(0|1|0\.[0-9]+) +[^ ]" "$work/out" || echo "$k"; done)
    check "explain: every value with its confidence and reason" test -z "$missing"
fi
printf 'grey-plan-version = 1\n[device 0]\nbudget = 2GiB\nprocess_cap = 1GiB\nprocess_cap.why = 0.5 "by hand"\n' \
    >"$work/hand.conf"
run 0 "$G" explain "$work/hand.conf" &&
    check "explain: a value without a .why line says so; one with it gives it" \
        test -n "$(grep -E '^  budget +2.0 GiB +- +\(no reason recorded' "$work/out")" -a \
             -n "$(grep -E '^  process_cap +1.0 GiB +0.5 +by hand$' "$work/out")"
run 0 "$G" check "$work/aggressive-4.conf" &&
    check "check accepts every generated plan" has "$work/out" "ok (2 devices)"
run 0 "$G" show --json "$work/safe-4.conf" &&
    check "show --json: the reasons, the hints and the inputs" \
        jq -e '.tenants == 4 and (.why | length) > 10 and all(.devices[]; .batch_size > 0 and .cooldown_temp_c == 86)' \
        "$work/out"
run 0 sim "$G" --model-size 7GiB --workload inference --out "$work/model.conf" &&
    check "--model-size and --workload shape the hints and are recorded" \
        test "$(value "$work/model.conf" top workload)" = inference -a \
             "$(value "$work/model.conf" top model_size)" = $((7 * GiB))

echo "== recorded tool output (stand-ins first on PATH)"
smi() { tools GREY_DETECT_SOURCES=nvidia-smi,lspci GREY_FIXTURE_SMI="$1" GREY_FIXTURE_LSPCI="${2:-server-mixed.txt}" \
            "${@:3}"; }
if run 0 smi dgx-h100 "" "$G" detect --json; then
    check "DGX H100: 8 devices, 81559 MiB, slowdown from -q -x, compute capability from the query" \
        jq -e "length == 8 and all(.[]; .vram_total_bytes == $((81559 * MiB)) and .slowdown_temp_c == 87 and
               .compute_capability == \"9.0\" and .sm_count == null and .source == \"nvidia-smi+nvidia-smi -q\")" "$work/out"
fi
run 0 smi dgx-h100 "" "$G" --out "$work/dgx.conf" &&
    check "DGX H100 plan: 8 devices, cooldown 3 C below the reported 87 C" \
        test "$(grep -c '^\[device' "$work/dgx.conf")" = 8 -a "$(value "$work/dgx.conf" 7 cooldown_temp)" = 84
run 0 smi a100-mig "" "$G" --out "$work/a100.conf" &&
    check "A100 with MIG: planned for the 19968 MiB instance" \
        test "$(value "$work/a100.conf" 0 process_cap)" -le $((19968 * MiB * 75 / 100))
run 0 smi rtx4090 "" "$G" detect --json &&
    check "RTX 4090: consumer card, MIG unknown (N/A), compute capability 8.9" \
        jq -e '.[0].mig_enabled == null and .[0].compute_capability == "8.9" and .[0].power_limit_mw == 450000' "$work/out"
run 0 smi v100-old-driver "" "$G" detect --json &&
    check "old driver: asked again without compute_cap; 2 GPUs, capability unknown" \
        jq -e 'length == 2 and all(.[]; .compute_capability == null and .vram_total_bytes > 0)' "$work/out"
if run 0 smi truncated "" "$G" detect --json; then
    check "cut-off output: the cut GPU is partial, its memory null (not 0), its confidence low" \
        jq -e '.[1].partial == true and .[1].vram_total_bytes == null and .[1].confidence < 0.3 and
               .[0].vram_total_bytes > 0' "$work/out"
    check "cut-off output: said on stderr" has "$work/err" "was cut off"
fi
if run 0 smi truncated "" "$G" --out "$work/trunc.conf"; then
    check "cut-off output: only the whole GPU is planned" test "$(grep -c '^\[device' "$work/trunc.conf")" = 1
    check "cut-off output: the other is not planned, and why" has "$work/err" "memory size is unknown"
fi
run 0 smi unreadable "" "$G" detect --json &&
    check "[N/A] and 0 MiB: unknown (null), never a trusted 0" \
        jq -e '.[0].vram_total_bytes == null and .[1].vram_total_bytes == '$((81559 * MiB)) "$work/out"
if run 1 smi no-driver server-mixed.txt "$G"; then
    check "driver not loaded: lspci finds the GPUs, nothing is planned from unknown sizes" \
        has "$work/err" "no GPU with a known memory size: nothing to plan"
    check "driver not loaded: nvidia-smi's message is noted" has "$work/err" "NVIDIA-SMI has failed"
fi
run 0 smi no-driver server-mixed.txt "$G" detect --json &&
    check "lspci: 4 display controllers, vendors by id, memory unknown" \
        jq -e 'length == 4 and ([.[].vendor] | sort) == ["amd", "nvidia", "nvidia", "other"] and
               all(.[]; .vram_total_bytes == null and .source == "lspci")' "$work/out"
run 1 smi no-driver garbage.txt "$G" detect &&
    check "garbage everywhere: exit 1 naming every source's reason" \
        has "$work/err" "nvidia-smi lists no GPU; lspci shows no display controller"
run 1 env -u LD_LIBRARY_PATH PATH=/nonexistent GREY_DETECT_SOURCES=nvidia-smi,lspci "$G" detect &&
    check "no tool at all: 'not found in PATH' for each" \
        has "$work/err" "nvidia-smi: not found in PATH; lspci: not found in PATH"
run 0 tools GREY_DETECT_SOURCES=amd GREY_SYSFS_ROOT="$FIX/amd/sysfs" "$G" --out "$work/amd.conf" &&
    check "AMD (detect_amd.c): no thresholds reported, the AMD defaults 85/72 C at low confidence" \
        test "$(value "$work/amd.conf" 0 throttle_temp)" = 85 -a "$(value "$work/amd.conf" 0 cooldown_temp)" = 72
run 2 env GREY_DETECT_SOURCES=nvml,gpu "$G" detect &&
    check "an unknown GREY_DETECT_SOURCES entry is a usage error" has "$work/err" "unknown source 'gpu'"

echo "== layers: admin plan, ~/.config/grey/plan.conf, GREY_*, options"
plan() { printf 'grey-plan-version = 1\n%s[device 0]\nbudget = %s\nprocess_cap = %s\n' "${4:-}" "$2" "$3" >"$1"; }
mkdir -p "$work/xdg/grey"
plan "$work/xdg/grey/plan.conf" 20GiB 16GiB "mode = aggressive
tenants = 2
"
run 0 sim env XDG_CONFIG_HOME="$work/xdg" "$G" --out "$work/l1.conf" &&
    check "the user's config sets the mode and tenants" \
        test "$(value "$work/l1.conf" top mode)" = aggressive -a "$(value "$work/l1.conf" top tenants)" = 2
run 0 sim env XDG_CONFIG_HOME="$work/xdg" GREY_MODE=balanced "$G" --tenants 3 --out "$work/l2.conf" &&
    check "GREY_MODE over the config, --tenants over both" \
        test "$(value "$work/l2.conf" top mode)" = balanced -a "$(value "$work/l2.conf" top tenants)" = 3
run 2 sim env GREY_TENANTS=four "$G" &&
    check "a malformed GREY_* variable is a usage error naming it" has "$work/err" "GREY_TENANTS: 'four'"
if [ "$(id -u)" = 0 ] && [ ! -e /etc/grey/plan.conf ]; then
    plan "$work/admin.conf" 16GiB 4GiB
    chmod 0644 "$work/admin.conf"
    A=(env GREY_ADMIN_PLAN="$work/admin.conf")
    run 0 sim "${A[@]}" GREY_CAP=8GiB "$G" --out "$work/a1.conf" &&
        check "GREY_CAP above the admin cap: the admin's 4 GiB, and a warning" \
            test "$(value "$work/a1.conf" 0 process_cap)" = $((4 * GiB)) -a -n "$(grep 'above the admin plan' "$work/err")"
    run 0 sim "${A[@]}" GREY_CAP=2GiB "$G" --out "$work/a2.conf" &&
        check "GREY_CAP below it lowers it" test "$(value "$work/a2.conf" 0 process_cap)" = $((2 * GiB))
    run 0 sim "${A[@]}" XDG_CONFIG_HOME="$work/xdg" "$G" --cap 12GiB --budget 24GiB --out "$work/a3.conf" &&
        check "--cap, --budget and the user's config do not raise the admin's cap or budget" \
            test "$(value "$work/a3.conf" 0 process_cap)" = $((4 * GiB)) -a "$(value "$work/a3.conf" 0 budget)" = $((16 * GiB))
    # The hook: a --plan / GREY_PLAN file is a user's plan even when root owns it.
    plan "$work/root-user.conf" 1GiB 512MiB
    chmod 0644 "$work/root-user.conf"
    run 0 env LD_LIBRARY_PATH="$SIM" GREY_SIM_VRAM=80GiB "$B/bin/grey-run" --quiet --plan "$work/root-user.conf" \
            --cap 1GiB -- "$B/tests/integration/prog_families" alloc linked $GiB &&
        ok "a root-owned --plan is a user layer: --cap 1GiB replaces its 512 MiB"
    plan "$work/admin-hook.conf" 1GiB 256MiB
    chmod 0644 "$work/admin-hook.conf"
    run 0 env LD_LIBRARY_PATH="$SIM" GREY_SIM_VRAM=80GiB GREY_ADMIN_PLAN="$work/admin-hook.conf" \
            LD_PRELOAD="$B/lib/libgreyhook.so" GREY_CAP=1GiB "$B/tests/integration/prog_families" alloc linked $((256 * MiB)) &&
        ok "the hook: GREY_CAP=1GiB under an admin cap of 256 MiB gets 256 MiB"
else
    skip "admin-layer checks: need root and no /etc/grey/plan.conf (an admin plan is root-owned at the admin path)"
fi
plan "$work/xdg/grey/plan.conf" 1GiB 512MiB
run 0 env LD_LIBRARY_PATH="$SIM" GREY_SIM_VRAM=80GiB XDG_CONFIG_HOME="$work/xdg" LD_PRELOAD="$B/lib/libgreyhook.so" \
        "$B/tests/integration/prog_families" alloc linked $((512 * MiB)) &&
    ok "the hook reads ~/.config/grey/plan.conf when no GREY_PLAN is set"
run 0 env LD_LIBRARY_PATH="$SIM" GREY_SIM_VRAM=80GiB XDG_CONFIG_HOME="$work/xdg" "$B/bin/grey-run" \
        -- "$B/tests/integration/prog_families" alloc linked $((512 * MiB)) &&
    check "grey-run's banner names the config plan" has "$work/err" "plan $work/xdg/grey/plan.conf"

echo "== malformed plans are refused everywhere, naming the line"
cp "$work/safe-1.conf" "$work/bad.conf"
sed -i 's/^tenants = 1 /tenants = lots /; s/^budget.why = 0\.[0-9]* /budget.why = 1.5 /' "$work/bad.conf"
t_line=$(grep -n '^tenants = lots' "$work/bad.conf" | cut -d: -f1)
w_line=$(grep -n '^budget.why = 1.5' "$work/bad.conf" | head -1 | cut -d: -f1)
if run 1 "$G" check "$work/bad.conf"; then
    check "check: the first error with file and line" has "$work/err" "$work/bad.conf:$t_line: tenants: 'lots' is not a whole number"
    check "check: and the next one" has "$work/err" "$work/bad.conf:$w_line: 'budget.why' must start with a confidence"
fi
marker=$work/started
run 125 env LD_LIBRARY_PATH="$SIM" "$B/bin/grey-run" --plan "$work/bad.conf" -- touch "$marker" &&
    check "grey-run: exit 125, the line named, the job not started" \
        test -n "$(grep "bad.conf:$t_line:" "$work/err")" -a ! -e "$marker"
run 1 env LD_LIBRARY_PATH="$SIM" GREY_PLAN="$work/bad.conf" LD_PRELOAD="$B/lib/libgreyhook.so" \
        "$B/tests/integration/prog_families" alloc linked 1 &&
    check "the hook: one line naming the file and line, every allocation denied" \
        test "$(grep -c "bad.conf:$t_line: .*denying every GPU allocation" "$work/err")" = 1
if [ "$(id -u)" = 0 ] && [ ! -e /etc/grey/plan.conf ]; then
    chmod 0644 "$work/bad.conf"
    run 1 env LD_LIBRARY_PATH="$SIM" GREY_ADMIN_PLAN="$work/bad.conf" LD_PRELOAD="$B/lib/libgreyhook.so" \
            "$B/tests/integration/prog_families" alloc linked 1 &&
        check "a malformed admin plan: the hook fails closed, naming the line" \
            has "$work/err" "bad.conf:$t_line: tenants: 'lots' is not a whole number; denying every GPU allocation"
else
    skip "malformed admin plan through the hook: needs root"
fi

echo "== install: a dry run unless --yes"
dest=$work/etc-grey/plan.conf
run 0 env GREY_ADMIN_PLAN="$dest" "$G" install "$work/safe-1.conf" &&
    check "install without --yes says what it would do and writes nothing" \
        test -n "$(grep "would install $work/safe-1.conf (2 devices, checked) as the admin plan $dest" "$work/out")" \
             -a -n "$(grep 'dry run: nothing was written' "$work/out")" -a ! -e "$dest"
run 1 env GREY_ADMIN_PLAN="$dest" "$G" install --yes "$work/bad.conf" &&
    check "install refuses a malformed plan" test ! -e "$dest"
if [ ! -e /etc/grey/plan.conf ]; then
    run 0 env GREY_ADMIN_PLAN="$dest" "$G" install --yes "$work/safe-1.conf" &&
        check "install --yes writes it 0644 and it checks" \
            test "$(stat -c %a "$dest")" = 644 -a -n "$("$G" check "$dest" | grep ok)"
else
    skip "install --yes: /etc/grey/plan.conf exists, GREY_ADMIN_PLAN cannot stand in for it"
fi
run 2 "$G" --tenants 0 && check "--tenants 0 is a usage error" has "$work/err" "--tenants: '0' is not a number of tenants"
run 2 "$G" install && check "install without FILE is a usage error" has "$work/err" "install: missing FILE"

finish plan_chain_tests
