#!/usr/bin/env bash
# Installs the Debian packages grey needs to build and test. Idempotent: packages already
# present are not fetched again, so `make` may call this on every fresh machine.
set -euo pipefail

packages=(
  build-essential pkg-config
  libunwind-dev libxxhash-dev libcjson-dev
  libmd-dev
  libmicrohttpd-dev    # grey-exporter's HTTP server (tools only, never the hook)
  libdw-dev            # call-site names in-process in grey-report (elfutils; tools only)
  libcriterion-dev
  libncurses-dev       # grey-top's live view
  tmux                 # tests/top: drives grey-top on a terminal of a chosen size
  libzstd1 liblz4-1    # the simulated driver inflates compressed fatbin entries (dlopen)
  libamdhip64-dev      # HIP's C headers (ROCm 5.2 in Debian 12) for shim/hip_*.c and the simulated runtime
  clang llvm libclang-rt-14-dev
  curl jq prometheus   # ledger tests: grey-exporter over HTTP, grey-top --json, promtool
  python3              # fair-share and bench scripts compute shares and figures with it
  chromium             # thermal tests: the fairness heat map's SVG renders (a headless screenshot)
  mandoc groff zsh     # install tests: the man pages lint clean, zsh completions load
  debhelper dpkg-dev lintian fakeroot  # deb tests: build, lint and unpack the packages
  libslurm-dev slurmctld slurmd slurm-client  # the SPANK plugin (slurm/) and its single-node Slurm test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
