#!/usr/bin/env bash
# The simulated node (docs/simgpu.md): 4 physical GPUs seen through the CUDA driver, the HIP
# runtime, NVML and the real CUDA runtime, under the visibility variables, with memory and device
# time shared by every process.
#   node_tests.sh NODE_PROBE NODE_RT   (from the repository root; `make sim-node-tests`)
# NVML's list is the node's truth (it ignores CUDA_VISIBLE_DEVICES): every other view is checked
# against it, device by device, by UUID, PCI bus id and VRAM. The GPUs have different sizes
# (1, 2, 3 and 4 GiB), so a device's VRAM alone already says which physical GPU it is.
set -uo pipefail

P=$1
RT=$2
root=$(pwd)
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
GiB=$((1 << 30)) MiB=$((1 << 20))

export LD_LIBRARY_PATH=$root/build/sim:$CUDA_HOME/lib64
# A setting from the caller's environment must not change the node under test.
for v in $(compgen -e | grep -E '^(GREY_SIM_|CUDA_VISIBLE_DEVICES$|CUDA_DEVICE_ORDER$|HIP_VISIBLE_DEVICES$|ROCR_VISIBLE_DEVICES$|GPU_DEVICE_ORDINAL$)'); do
    unset "$v"
done
work=$(mktemp -d /tmp/grey-simnode.XXXXXX)
# A state file of its own: memory and device time of other simulated processes on this machine
# stay out of the figures below.
export GREY_SIM_STATE=$work/state GREY_SIM_DEVICES=4
export GREY_SIM_VRAM_0=1GiB GREY_SIM_VRAM_1=2GiB GREY_SIM_VRAM_2=3GiB GREY_SIM_VRAM_3=4GiB

declare -A holder_pid holder_fd
cleanup() {
    for h in "${!holder_pid[@]}"; do kill -9 "${holder_pid[$h]}" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
# fail_show NAME [FILE]: the check failed; FILE, when given, is shown indented.
fail_show() { fail_show "$1"; [ -n "${2:-}" ] && sed 's/^/      /' "$2"; }
# check NAME CMD...: CMD must succeed.
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail_show "$name"; fi; }
absent() { ! grep -q "$1" "$2"; }

# ---------------------------------------------------------------- the truth: NVML
"$P" nvml-list >"$work/nvml" 2>&1 || { fail_show "nvml-list" "$work/nvml"; exit 1; }
declare -a uuid pci vram
while read -r kind idx u p v _; do
    [ "$kind" = nvml ] || continue
    uuid[idx]=${u#uuid=} pci[idx]=${p#pci=} vram[idx]=${v#vram=}
done <"$work/nvml"

echo "== NVML: the physical GPUs"
check "NVML lists the 4 GPUs" grep -qx 'nvml-count 4' "$work/nvml"
sizes_ok=true
for i in 0 1 2 3; do [ "${vram[i]:-}" = $(((i + 1) * GiB)) ] || sizes_ok=false; done
check "GPU N has GREY_SIM_VRAM_N (1, 2, 3, 4 GiB)" $sizes_ok
check "NVML indices follow PCI bus order" test "$(printf '%s\n' "${pci[@]}")" = "$(printf '%s\n' "${pci[@]}" | sort)"
check "UUIDs and PCI bus ids are distinct" test "$(printf '%s\n' "${uuid[@]}" "${pci[@]}" | sort -u | wc -l)" = 8
check "UUIDs look like nvidia-smi's (GPU-8-4-4-4-12 hex)" \
    test "$(printf '%s\n' "${uuid[@]}" | grep -cE '^GPU-[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$')" = 4
for env in "CUDA_VISIBLE_DEVICES=2" "CUDA_VISIBLE_DEVICES=3,0" "CUDA_DEVICE_ORDER=PCI_BUS_ID" "HIP_VISIBLE_DEVICES=1"; do
    env "$env" "$P" nvml-list >"$work/nvml2" 2>&1
    check "NVML ignores $env: the same 4 GPUs" cmp -s "$work/nvml" "$work/nvml2"
done
"$P" nvml-procs 0 >"$work/procs" 2>&1
check "no process holds memory yet (v1, v2, v3 agree)" grep -qx 'nvml-procs 0 count=0' "$work/procs"
"$P" nvml-links >"$work/links" 2>&1
# As cuDeviceCanAccessPeer says (0 for every pair): read, write and NVLink P2P are not supported
# (5) between two GPUs; a GPU with itself is OK (0). Every NVLink, fabric and platform query is
# NVML_ERROR_NOT_SUPPORTED (3); nvmlDeviceGetFieldValues succeeds with each field not supported.
check "NVML P2P: 16 pairs, not supported between GPUs, OK with itself" \
    test "$(awk '$1 == "p2p" && (($2 == $3 && $4$5$6 == "000") || ($2 != $3 && $4$5$6 == "555"))' "$work/links" | wc -l)" = 16
check "NVML NVLink, fabric, platform: not supported; field values: each field not supported" \
    test "$(grep -cx 'links [0-3] state=3 cap=3 remote=3 fabric=3 platform=3 fields=0/3/3' "$work/links")" = 4
check "NVML confidential computing off (0s); an unknown settings version is a mismatch (25)" \
    grep -qx 'cc state=0/0/0 settings=0/0/0/0 version0=25' "$work/links"

# ---------------------------------------------------------------- expectations
# The line a view must print for its ordinal ORD backed by physical GPU PHYS.
cuda_line() { echo "cuda $1 uuid=${uuid[$2]#GPU-} pci=${pci[$2]} vram=${vram[$2]}"; }
rt_line() { echo "rt $1 uuid=${uuid[$2]#GPU-} pci=${pci[$2]} vram=${vram[$2]}"; }
# ROCm's UUID of a GPU: the first 16 hex digits of its CUDA UUID, upper case.
rocm_uuid() { local h=${uuid[$1]#GPU-}; h=${h//-/}; echo "GPU-${h:0:16}" | tr 'a-f' 'A-F'; }
hip_line() { echo "hip $1 uuid=$(rocm_uuid "$2") pci=${pci[$2]} vram=${vram[$2]}"; }

# expect KIND NAME "PHYS..." [VAR=VALUE...]: the KIND (cuda, hip, rt) view under those variables
# lists exactly the physical GPUs PHYS, in that order; "none" means no device at all.
expect() {
    local kind=$1 name=$2 phys=$3; shift 3
    local cmd=("$P" "$kind-list") count_word="$kind-count" none
    case $kind in
        cuda) none="cuda-init CUDA_ERROR_NO_DEVICE" ;;
        hip) none="hip-init hipErrorNoDevice" ;;
        rt) cmd=("$RT"); none="rt-init cudaErrorNoDevice" ;;
    esac
    local want=$work/want got=$work/got
    if [ "$phys" = none ]; then
        echo "$none" >"$want"
    else
        local ord=0
        {
            echo "$count_word $(wc -w <<<"$phys")"
            for p in $phys; do "${kind}_line" $ord "$p"; ord=$((ord + 1)); done
        } >"$want"
    fi
    env "$@" "${cmd[@]}" >"$work/raw" 2>&1
    local rc=$?
    sed -E 's/ (free|sms|cus|name)=.*$//' "$work/raw" >"$got"
    if [ $rc -eq 0 ] && cmp -s "$want" "$got"; then
        ok "$name"
    else
        fail_show "$name (exit $rc); expected, then got:" "$want"
        sed 's/^/      > /' "$work/raw"
    fi
}

# The shortest prefix of TEXT that no other CANDIDATE starts with.
unique_prefix() {
    local t=$1 len p n c; shift
    for ((len = 5; len <= ${#t}; len++)); do
        p=${t:0:len} n=0
        for c in "$@"; do [[ $c == "$p"* ]] && n=$((n + 1)); done
        [ $n -eq 1 ] && { echo "$p"; return; }
    done
}
common_prefix() { local a=$1 b=$2 i=0; while [ $i -lt ${#a} ] && [ "${a:i:1}" = "${b:i:1}" ]; do i=$((i + 1)); done; echo "${a:0:i}"; }

prefix2=$(unique_prefix "${uuid[2]}" "${uuid[@]}")
prefix3=$(unique_prefix "${uuid[3]}" "${uuid[@]}")
# The longest prefix two GPUs share (at least "GPU-"): it names neither.
ambiguous=GPU-
for i in 0 1 2 3; do for j in 0 1 2 3; do
    [ $i -lt $j ] || continue
    c=$(common_prefix "${uuid[i]}" "${uuid[j]}")
    [ ${#c} -gt ${#ambiguous} ] && ambiguous=$c
done; done
# A first digit no GPU's UUID has: the prefix of none.
for d in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
    n=0; for u in "${uuid[@]}"; do [[ $u == "GPU-$d"* ]] && n=$((n + 1)); done
    [ $n -eq 0 ] && { unknown="GPU-$d"; break; }
done

# ---------------------------------------------------------------- CUDA_VISIBLE_DEVICES
echo "== the CUDA driver: CUDA_VISIBLE_DEVICES (prefix $prefix2, ambiguous $ambiguous, unknown $unknown)"
expect cuda "unset: all four, in order" "0 1 2 3"
expect cuda "2: physical GPU 2 as device 0" "2" CUDA_VISIBLE_DEVICES=2
expect cuda "3,0: reordered" "3 0" CUDA_VISIBLE_DEVICES=3,0
expect cuda "the full UUID of GPU 1" "1" "CUDA_VISIBLE_DEVICES=${uuid[1]}"
expect cuda "a unique UUID prefix ($prefix2)" "2" "CUDA_VISIBLE_DEVICES=$prefix2"
expect cuda "an index and a UUID prefix together" "1 3" "CUDA_VISIBLE_DEVICES=1,$prefix3"
expect cuda "an ambiguous prefix in the middle ends the list" "0" "CUDA_VISIBLE_DEVICES=0,$ambiguous,1"
expect cuda "an unknown UUID in the middle ends the list" "3" "CUDA_VISIBLE_DEVICES=3,$unknown,1"
expect cuda "an index out of range in the middle ends the list" "1" CUDA_VISIBLE_DEVICES=1,7,2
expect cuda "a negative index ends the list" "1" CUDA_VISIBLE_DEVICES=1,-1,2
expect cuda "garbage ends the list" "2" CUDA_VISIBLE_DEVICES=2,abc,0
expect cuda "an index is read like strtoul: '2x' is 2" "2 0" CUDA_VISIBLE_DEVICES=2x,0
expect cuda "blanks around entries are ignored" "3 1" "CUDA_VISIBLE_DEVICES= 3 , 1"
expect cuda "a device named twice hides every device" none CUDA_VISIBLE_DEVICES=1,2,1
expect cuda "named twice, once by index and once by UUID" none "CUDA_VISIBLE_DEVICES=0,${uuid[0]}"
expect cuda "a MIG UUID without MIG ends the list" none "CUDA_VISIBLE_DEVICES=MIG-${uuid[0]#GPU-},0"
expect cuda "empty: no device, cuInit gives CUDA_ERROR_NO_DEVICE" none CUDA_VISIBLE_DEVICES=

echo "== the CUDA driver: CUDA_DEVICE_ORDER (GPU 2 has 200 SMs, GPU 0 100, the others 132)"
order=(GREY_SIM_SMS_0=100 GREY_SIM_SMS_2=200)
expect cuda "FASTEST_FIRST by default: most SMs first, ties in PCI order" "2 1 3 0" "${order[@]}"
expect cuda "FASTEST_FIRST" "2 1 3 0" "${order[@]}" CUDA_DEVICE_ORDER=FASTEST_FIRST
expect cuda "PCI_BUS_ID" "0 1 2 3" "${order[@]}" CUDA_DEVICE_ORDER=PCI_BUS_ID
expect cuda "indices in CUDA_VISIBLE_DEVICES follow FASTEST_FIRST" "2 0" "${order[@]}" CUDA_VISIBLE_DEVICES=0,3
expect cuda "indices in CUDA_VISIBLE_DEVICES follow PCI_BUS_ID" "0 3" "${order[@]}" CUDA_DEVICE_ORDER=PCI_BUS_ID \
    CUDA_VISIBLE_DEVICES=0,3
env "${order[@]}" "$P" cuda-list >"$work/raw" 2>&1
check "the fastest device reports its 200 SMs" grep -q '^cuda 0 .* sms=200 ' "$work/raw"
expect hip "HIP does not reorder" "0 1 2 3" "${order[@]}"

# ---------------------------------------------------------------- the real CUDA runtime
echo "== the real CUDA runtime (integrity check over the visible devices)"
expect rt "all four" "0 1 2 3"
expect rt "CUDA_VISIBLE_DEVICES=3,1" "3 1" CUDA_VISIBLE_DEVICES=3,1
expect rt "a UUID prefix" "2" "CUDA_VISIBLE_DEVICES=$prefix2"
expect rt "FASTEST_FIRST reordering" "2 1 3 0" "${order[@]}"
expect rt "empty" none CUDA_VISIBLE_DEVICES=

# ---------------------------------------------------------------- HIP
echo "== the HIP runtime: ROCR_VISIBLE_DEVICES, then HIP_VISIBLE_DEVICES or CUDA_VISIBLE_DEVICES"
rocm=()
for i in 0 1 2 3; do rocm[i]=$(rocm_uuid $i); done
rocm_prefix2=$(unique_prefix "${rocm[2]}" "${rocm[@]}" | tr 'A-Z' 'a-z')
expect hip "unset: all four, in PCI order, UUIDs and addresses of the same GPUs" "0 1 2 3"
expect hip "HIP_VISIBLE_DEVICES=2,0" "2 0" HIP_VISIBLE_DEVICES=2,0
expect hip "ROCR_VISIBLE_DEVICES=3,1" "3 1" ROCR_VISIBLE_DEVICES=3,1
expect hip "HIP_VISIBLE_DEVICES indexes what ROCR_VISIBLE_DEVICES left" "1" ROCR_VISIBLE_DEVICES=3,1 HIP_VISIBLE_DEVICES=1
expect hip "ROCR_VISIBLE_DEVICES takes a UUID prefix, in any case ($rocm_prefix2)" "2 0" \
    "ROCR_VISIBLE_DEVICES=$rocm_prefix2,0"
expect hip "HIP_VISIBLE_DEVICES takes a whole ROCm UUID" "3" "HIP_VISIBLE_DEVICES=${rocm[3]}"
expect hip "CUDA_VISIBLE_DEVICES when HIP_VISIBLE_DEVICES is unset" "2" CUDA_VISIBLE_DEVICES=2
expect hip "HIP_VISIBLE_DEVICES wins over CUDA_VISIBLE_DEVICES" "1" HIP_VISIBLE_DEVICES=1 CUDA_VISIBLE_DEVICES=3
expect hip "an NVIDIA UUID means nothing to HIP" none "CUDA_VISIBLE_DEVICES=${uuid[1]}"
expect hip "HIP_VISIBLE_DEVICES: a bad index ends the list" "0" HIP_VISIBLE_DEVICES=0,9,1
expect hip "HIP_VISIBLE_DEVICES: a repeated index is skipped" "1 2" HIP_VISIBLE_DEVICES=1,1,2
expect hip "ROCR_VISIBLE_DEVICES: a repeated index ends the list" "1" ROCR_VISIBLE_DEVICES=1,1,2
expect hip "ROCR_VISIBLE_DEVICES trims blanks, HIP_VISIBLE_DEVICES does not" "1" "ROCR_VISIBLE_DEVICES= 1"
expect hip "HIP_VISIBLE_DEVICES=' 1' is no index" none "HIP_VISIBLE_DEVICES= 1"
expect hip "HIP_VISIBLE_DEVICES empty: no device" none HIP_VISIBLE_DEVICES=
expect hip "ROCR_VISIBLE_DEVICES empty: no device" none ROCR_VISIBLE_DEVICES=

# ---------------------------------------------------------------- MIG
echo "== MIG (GREY_SIM_MIG=1, 2 instances of 256 MiB per GPU)"
mig=(GREY_SIM_MIG=1 GREY_SIM_MIG_VRAM=256MiB)
env "${mig[@]}" "$P" nvml-list >"$work/nvml-mig" 2>&1
declare -A mig_uuid
while read -r kind idx u p v _; do
    [ "$kind" = nvml-mig ] || continue
    mig_uuid[$idx]=${u#uuid=}
    gpu=${idx%.*}
    [ "${p#pci=}" = "${pci[gpu]}" ] && [ "${v#vram=}" = $((256 * MiB)) ] || echo "bad $idx" >>"$work/mig-bad"
done <"$work/nvml-mig"
check "NVML lists 2 MIG instances under each GPU, at its address, with 256 MiB each" \
    test "${#mig_uuid[@]}" = 8 -a ! -e "$work/mig-bad"
check "MIG UUIDs are MIG-<uuid> and all distinct" \
    test "$(printf '%s\n' "${mig_uuid[@]}" | grep -E '^MIG-[0-9a-f]{8}-' | sort -u | wc -l)" = 8
# expect_mig NAME INSTANCE VAR=VALUE...: CUDA sees exactly that instance, as device 0.
expect_mig() {
    local name=$1 inst=$2; shift 2
    local gpu=${inst%.*}
    printf 'cuda-count 1\ncuda 0 uuid=%s pci=%s vram=%s\n' "${mig_uuid[$inst]#MIG-}" "${pci[gpu]}" $((256 * MiB)) \
        >"$work/want"
    env "${mig[@]}" "$@" "$P" cuda-list >"$work/raw" 2>&1
    sed -E 's/ (free|sms|cus|name)=.*$//' "$work/raw" >"$work/got"
    if cmp -s "$work/want" "$work/got"; then ok "$name"; else fail_show "$name; expected, then got:" "$work/want"; sed 's/^/      > /' "$work/raw"; fi
}
expect_mig "unset: CUDA enumerates one instance, the first" 0.0
expect_mig "CUDA_VISIBLE_DEVICES=MIG-<uuid of 2.1>: that instance is device 0" 2.1 "CUDA_VISIBLE_DEVICES=${mig_uuid[2.1]}"
expect_mig "a unique MIG UUID prefix" 3.0 \
    "CUDA_VISIBLE_DEVICES=$(unique_prefix "${mig_uuid[3.0]}" "${mig_uuid[@]}")"
expect_mig "a GPU index stands for its first instance" 1.0 CUDA_VISIBLE_DEVICES=1
expect_mig "a GPU UUID stands for its first instance" 3.0 "CUDA_VISIBLE_DEVICES=${uuid[3]}"
expect_mig "two instances listed: only the first is enumerated" 2.1 \
    "CUDA_VISIBLE_DEVICES=${mig_uuid[2.1]},${mig_uuid[0.0]}"
env "${mig[@]}" CUDA_VISIBLE_DEVICES="${mig_uuid[2.1]}" "$P" cuda-list >"$work/raw" 2>&1
check "the instance is named like a MIG device, with a 3g profile's 60 SMs" \
    grep -q '^cuda 0 .* sms=60 name=Grey Simulated GPU MIG 3g\.1gb$' "$work/raw"
env "${mig[@]}" CUDA_VISIBLE_DEVICES="${mig_uuid[2.1]}" "$RT" >"$work/raw" 2>&1
check "the real CUDA runtime on that instance" grep -qx "rt 0 uuid=${mig_uuid[2.1]#MIG-} pci=${pci[2]} vram=$((256 * MiB))" "$work/raw"
expect hip "HIP sees whole GPUs (MIG is NVIDIA's)" "0 1 2 3" "${mig[@]}"

# ---------------------------------------------------------------- holders
# hold NAME VAR=VALUE... -- PROBE-ARGS...: a process that allocates and keeps the memory until
# release NAME (a normal exit, without freeing) or kill -9.
hold() {
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    mkfifo "$work/$name.ctl"
    env "${envs[@]}" "$P" "$@" <"$work/$name.ctl" >"$work/$name.out" 2>&1 &
    holder_pid[$name]=$!
    exec {fd}>"$work/$name.ctl"
    holder_fd[$name]=$fd
    for _ in $(seq 100); do grep -q '^held ' "$work/$name.out" && return 0; sleep 0.05; done
    fail_show "holder $name did not start" "$work/$name.out"
    return 1
}
release() { local fd=${holder_fd[$1]}; exec {fd}>&-; wait "${holder_pid[$1]}" 2>/dev/null; unset "holder_pid[$1]"; }
killed() { kill -9 "${holder_pid[$1]}"; wait "${holder_pid[$1]}" 2>/dev/null; unset "holder_pid[$1]"; }
# used_on ID [VAR=VALUE...]: the used bytes NVML reports for GPU N (or instance N.K).
used_on() { env "${@:2}" "$P" nvml-list | awk -v id="$1" '$2 "" == id "" { sub("used=", "", $6); print $6 }'; }

echo "== VRAM shared by every process on a GPU, whatever its ordinal or API"
hold A CUDA_VISIBLE_DEVICES=2 -- cuda-hold 0 $((2 * GiB))
apid=${holder_pid[A]}
CUDA_VISIBLE_DEVICES=3,2 "$P" cuda-alloc 1 $((3 * GiB / 2)) >"$work/b" 2>&1
check "another process, GPU 2 as its device 1, sees 1 GiB free" grep -qx "free $GiB" "$work/b"
check "... and is refused 1.5 GiB with CUDA_ERROR_OUT_OF_MEMORY" grep -qx 'alloc CUDA_ERROR_OUT_OF_MEMORY' "$work/b"
CUDA_VISIBLE_DEVICES=3,2 "$P" cuda-alloc 1 $GiB >"$work/b" 2>&1
check "... but gets exactly the 1 GiB left" grep -qx 'alloc CUDA_SUCCESS' "$work/b"
HIP_VISIBLE_DEVICES=2 "$P" hip-alloc 0 $((3 * GiB / 2)) >"$work/h" 2>&1
check "a HIP process on GPU 2 sees the same 1 GiB free and is refused 1.5 GiB" \
    test "$(tr '\n' ' ' <"$work/h")" = "free $GiB alloc hipErrorOutOfMemory "
CUDA_VISIBLE_DEVICES=3 "$P" cuda-alloc 0 $((3 * GiB)) >"$work/b" 2>&1
check "another GPU is unaffected (3 GiB on GPU 3)" grep -qx 'alloc CUDA_SUCCESS' "$work/b"
check "NVML: GPU 2 has 2 GiB used, GPU 3 none (its allocation left with its process)" \
    test "$(used_on 2)/$(used_on 3)" = "$((2 * GiB))/0"
"$P" nvml-procs 2 >"$work/procs" 2>&1
check "NVML lists the holder's pid and bytes on GPU 2 (v1, v2, v3 agree)" \
    test "$(tr '\n' ' ' <"$work/procs")" = "nvml-procs 2 count=1 proc pid=$apid bytes=$((2 * GiB)) gi=4294967295 "
"$P" nvml-procs 3 >"$work/procs" 2>&1
check "... and nothing on GPU 3" grep -qx 'nvml-procs 3 count=0' "$work/procs"
killed A
GREY_SIM_TRACE=1 "$P" nvml-procs 2 >"$work/procs" 2>&1
check "after kill -9 the holder is gone from NVML's list" grep -qx 'nvml-procs 2 count=0' "$work/procs"
check "... because the reader found its slot's owner dead" grep -q 'emptied 1 slot(s) of dead processes' "$work/procs"
check "... and GPU 2 shows nothing used" test "$(used_on 2)" = 0
CUDA_VISIBLE_DEVICES=3,2 "$P" cuda-alloc 1 $((5 * GiB / 2)) >"$work/b" 2>&1
check "2.5 GiB of GPU 2 fit again" grep -qx 'alloc CUDA_SUCCESS' "$work/b"

echo "== MIG memory, and a holder that exits normally"
hold M "${mig[@]}" "CUDA_VISIBLE_DEVICES=${mig_uuid[2.1]}" -- cuda-hold 0 $((100 * MiB))
mpid=${holder_pid[M]}
check "NVML: instance 2.1 and GPU 2 have the 100 MiB used, instance 2.0 none" \
    test "$(used_on 2.1 "${mig[@]}")/$(used_on 2 "${mig[@]}")/$(used_on 2.0 "${mig[@]}")" = \
        "$((100 * MiB))/$((100 * MiB))/0"
env "${mig[@]}" "$P" nvml-procs 2 >"$work/procs" 2>&1
check "NVML lists the holder on GPU 2 with its GPU instance id (2)" \
    grep -qx "proc pid=$mpid bytes=$((100 * MiB)) gi=2" "$work/procs"
env "${mig[@]}" "CUDA_VISIBLE_DEVICES=${mig_uuid[2.1]}" "$P" cuda-alloc 0 $((200 * MiB)) >"$work/b" 2>&1
check "the instance's own 256 MiB are the limit: 200 MiB more are refused" \
    grep -qx 'alloc CUDA_ERROR_OUT_OF_MEMORY' "$work/b"
release M
env "${mig[@]}" GREY_SIM_TRACE=1 "$P" nvml-procs 2 >"$work/procs" 2>&1
check "after a normal exit the holder is gone from NVML's list" grep -qx 'nvml-procs 2 count=0' "$work/procs"
check "... because it emptied its own slot (no reader had to)" absent 'emptied' "$work/procs"

# ---------------------------------------------------------------- device time
echo "== device timelines per physical GPU"
CUDA_VISIBLE_DEVICES=2 "$P" cuda-kernel 0 1000000 nosync >"$work/k" 2>&1 ||
    fail_show "a 1 s kernel on GPU 2" "$work/k"
CUDA_VISIBLE_DEVICES=3,2 "$P" cuda-kernel 0 1 sync >"$work/other" 2>&1
CUDA_VISIBLE_DEVICES=3,2 "$P" cuda-kernel 1 1 sync >"$work/same" 2>&1
other=$(awk '/^kernel-ms/ { print $2 }' "$work/other")
same=$(awk '/^kernel-ms/ { print $2 }' "$work/same")
check "a kernel on another GPU runs at once (${other:-?} ms)" test "${other:-9999}" -lt 300
check "a kernel on GPU 2 through another ordinal waits for the queued one (${same:-?} ms)" test "${same:-0}" -ge 500
CUDA_VISIBLE_DEVICES=1 "$P" cuda-kernel 0 1000000 nosync >"$work/k" 2>&1 ||
    fail_show "a 1 s kernel on GPU 1" "$work/k"
HIP_VISIBLE_DEVICES=1 "$P" hip-kernel 0 1 >"$work/same" 2>&1
same=$(awk '/^kernel-ms/ { print $2 }' "$work/same")
check "a HIP kernel on GPU 1 waits for the CUDA one (${same:-?} ms)" test "${same:-0}" -ge 500

finish "sim-node tests"
