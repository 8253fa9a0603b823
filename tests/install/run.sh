#!/usr/bin/env bash
# make install-tests: what a packager and an admin meet. The man pages lint clean, the bash
# completions load and complete, every tool answers --version and --help with status 0, and
# `make install DESTDIR=... PREFIX=/usr` lays out the FHS tree that `make uninstall` then removes
# without leaving a file behind.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
B=build
TOOLS=(grey-run grey-plan grey-top grey-report grey-exporter)
version=$(cat VERSION)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# This run's own simulated GPUs and ledger: other jobs on the machine must not use its memory.
export GREY_SIM_STATE=$work/sim-state GREY_LEDGER=$work/ledger

for tool in mandoc groff; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

echo "== --version and --help"
for t in "${TOOLS[@]}"; do
    out=$("$B/bin/$t" --version 2>&1); rc=$?
    if [ $rc -eq 0 ] && [ "$out" = "$t (grey) $version
Copyright the grey authors. Licensed under the Apache License, Version 2.0." ]; then
        ok "$t --version: $t (grey) $version"
    else
        fail "$t --version: status $rc, '$out'"
    fi
    out=$("$B/bin/$t" --help 2>&1); rc=$?
    if [ $rc -eq 0 ] && grep -q "^usage: $t" <<<"$out" && grep -q -- "--version" <<<"$out"; then
        ok "$t --help: usage and --version listed"
    else
        fail "$t --help: status $rc"
    fi
done
out=$(GREY_CAP=12XB "$B/bin/grey-plan" --version 2>&1)
[ "$out" != "${out#grey-plan (grey) $version}" ] && ok "grey-plan --version answers despite a bad GREY_CAP" ||
    fail "grey-plan --version with GREY_CAP=12XB: '$out'"
out=$("$B/bin/grey-run" --version -- true 2>&1); rc=$?
[ $rc -eq 0 ] && ok "grey-run --version exits 0 (it used to be 125)" || fail "grey-run --version: status $rc"

echo "== man pages"
for t in "${TOOLS[@]}"; do
    n=$(ls man/$t.[158] 2>/dev/null | wc -l)
    [ "$n" -ge 1 ] && ok "$t has a man page ($(ls man/$t.[158] | head -1))" || fail "$t has no man page"
done
[ -f man/grey-plan.5 ] && ok "the plan format has grey-plan(5)" || fail "no grey-plan(5)"
for m in man/*.[158]; do
    lint=$(mandoc -T lint -W warning "$m" 2>&1); rc=$?
    [ $rc -eq 0 ] && [ -z "$lint" ] && ok "mandoc -T lint $m: clean" || fail "mandoc -T lint $m: $lint"
    lint=$(groff -man -ww -z "$m" 2>&1)
    [ -z "$lint" ] && ok "groff -ww $m: clean" || fail "groff -ww $m: $lint"
done
# A page must document every long option its tool's --help lists.
for t in "${TOOLS[@]}"; do
    page=$(ls man/$t.[158] | head -1)
    text=$(groff -man -Tascii -P-cbou "$page" 2>/dev/null)
    missing=
    for opt in $("$B/bin/$t" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        grep -qF -- "$opt" <<<"$text" || missing="$missing $opt"
    done
    [ -z "$missing" ] && ok "$page documents every option of $t --help" || fail "$page lacks$missing"
done

echo "== bash completions"
for t in "${TOOLS[@]}"; do
    spec=$(bash --norc --noprofile -c "source completions/$t && complete -p $t" 2>&1)
    [ "$spec" = "complete -F _${t//-/_} $t" ] && ok "completions/$t loads: $spec" || fail "completions/$t: '$spec'"
done
# complete_words FILE WORD...: what the completion function offers for the last word.
complete_words() {
    local file=$1; shift
    bash --norc --noprofile -c '
        source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        fn=$(complete -p "$1" | awk "{print \$3}"); $fn; printf "%s\n" "${COMPREPLY[@]}"' "$file" "$@"
}
got=$(complete_words completions/grey-run grey-run --su)
[ "$got" = "--summary-json" ] && ok "grey-run --su<TAB> completes --summary-json" || fail "grey-run --su: '$got'"
got=$(complete_words completions/grey-plan grey-plan ch)
[ "$got" = "check" ] && ok "grey-plan ch<TAB> completes check" || fail "grey-plan ch: '$got'"
got=$(complete_words completions/grey-plan grey-plan --mode ba)
[ "$got" = "balanced" ] && ok "grey-plan --mode ba<TAB> completes balanced" || fail "grey-plan --mode ba: '$got'"
got=$(complete_words completions/grey-top grey-top --prom)
[ "$got" = "--prometheus" ] && ok "grey-top --prom<TAB> completes --prometheus" || fail "grey-top --prom: '$got'"

echo "== zsh completions"
command -v zsh >/dev/null || { echo "FAIL: zsh is missing (scripts/install-deps.sh installs it)"; exit 1; }
got=$(zsh -f -c 'fpath=($0 $fpath); autoload -U compinit; compinit -u -d "$1/zcompdump"
    for t in grey-run grey-plan grey-top grey-report grey-exporter; do print -r -- "$t=${_comps[$t]}"; done' \
    "$PWD/completions" "$work")
want=$(printf '%s=_grey\n' "${TOOLS[@]}")
[ "$got" = "$want" ] && ok "compinit finds completions/_grey for all five tools" || fail "zsh: $got"
for t in "${TOOLS[@]}"; do
    specs=$(zsh -f tests/install/zsh_specs.zsh completions/_grey "$t" "$t" - 2>&1)
    missing=
    for opt in $("$B/bin/$t" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
        case $t:$opt in grey-plan:--json|grey-plan:--yes|grey-report:--dedup|grey-report:--report|grey-exporter:--prometheus) continue ;; esac
        grep -qE -- "(^|[)}'])$opt\\[" <<<"$specs" || missing="$missing $opt"
    done
    [ -z "$missing" ] && ok "zsh completes every option of $t --help" || fail "zsh lacks for $t:$missing ($specs)"
done
got=$(zsh -f tests/install/zsh_specs.zsh completions/_grey grey-plan grey-plan "" | cut -d: -f1 | tr '\n' ' ')
[ "$got" = "detect show check explain install " ] && ok "zsh offers grey-plan's commands" || fail "grey-plan commands: '$got'"
zsh -f tests/install/zsh_specs.zsh completions/_grey grey-plan grey-plan check "" | grep -qx ':plan file:_files' &&
    ok "zsh completes a file after grey-plan check" || fail "grey-plan check: no file"

echo "== example plan and systemd unit"
out=$("$B/bin/grey-plan" check etc/plan.conf 2>&1)
[ "$out" = "etc/plan.conf: ok (1 device)" ] && ok "etc/plan.conf checks: $out" || fail "etc/plan.conf: $out"

echo "== make install DESTDIR=... PREFIX=/usr, then make uninstall"
root=$work/root
if make -s install DESTDIR="$root" PREFIX=/usr >"$work/install.log" 2>&1; then
    ok "make install DESTDIR PREFIX=/usr"
else
    fail "make install: $(tail -5 "$work/install.log")"
fi
for f in usr/bin/grey-run usr/bin/grey-plan usr/bin/grey-top usr/bin/grey-report usr/bin/grey-exporter \
         usr/lib/libgreyhook.so usr/share/man/man1/grey-run.1 usr/share/man/man5/grey-plan.5 \
         usr/share/man/man8/grey-exporter.8 usr/share/bash-completion/completions/grey-run \
         usr/share/zsh/vendor-completions/_grey usr/share/doc/grey/README.md usr/share/doc/grey/examples/plan.conf \
         lib/systemd/system/grey-exporter.service etc/grey/plan.conf.example; do
    [ -f "$root/$f" ] && ok "installed /$f" || fail "not installed: /$f"
done
[ ! -e "$root/etc/grey/plan.conf" ] && ok "no admin plan is put in force by install" || fail "install wrote /etc/grey/plan.conf"
grep -qx 'ExecStart=/usr/bin/grey-exporter --listen 127.0.0.1:10931' "$root/lib/systemd/system/grey-exporter.service" &&
    ok "the unit starts /usr/bin/grey-exporter" || fail "the unit's ExecStart: $(grep ExecStart "$root/lib/systemd/system/grey-exporter.service")"
for key in 'Documentation=man:grey-exporter(8)' 'WantedBy=multi-user.target' 'ProtectSystem=strict'; do
    grep -qxF "$key" "$root/lib/systemd/system/grey-exporter.service" && ok "the unit has $key" || fail "the unit lacks $key"
done
noded_unit=$root/lib/systemd/system/grey-noded.service
[ -x "$root/usr/bin/grey-noded" ] && [ -f "$root/usr/share/man/man8/grey-noded.8" ] &&
    ok "installed /usr/bin/grey-noded and grey-noded(8)" || fail "grey-noded or its man page not installed"
for key in 'ExecStart=/usr/bin/grey-noded --foreground' 'Documentation=man:grey-noded(8)' 'RuntimeDirectory=grey' \
           'WantedBy=multi-user.target' 'ProtectSystem=strict'; do
    grep -qxF "$key" "$noded_unit" 2>/dev/null && ok "grey-noded.service has $key" || fail "grey-noded.service lacks $key"
done
out=$(LD_LIBRARY_PATH=$B/sim "$root/usr/bin/grey-run" --cap 2GiB -- "$B/tests/demo/train" --steps 2 2>&1); rc=$?
[ $rc -eq 0 ] && grep -qE 'peak .* of 2.0 GiB on GPU 0' <<<"$out" && ok "the installed grey-run finds the installed hook and caps at 2 GiB" ||
    fail "installed grey-run: status $rc: $(tail -3 <<<"$out")"
make -s install-sim DESTDIR="$root" PREFIX=/usr >"$work/install-sim.log" 2>&1 || fail "make install-sim: $(tail -5 "$work/install-sim.log")"
for f in libcuda.so.1 libnvidia-ml.so.1 libamdhip64.so.5 grey-demo-train; do
    [ -f "$root/usr/lib/grey/sim/$f" ] && ok "install-sim: /usr/lib/grey/sim/$f" || fail "install-sim did not install $f"
done
out=$(LD_LIBRARY_PATH=$root/usr/lib/grey/sim "$root/usr/bin/grey-run" --cap 2GiB -- "$root/usr/lib/grey/sim/grey-demo-train" --steps 1 2>&1)
grep -qE 'peak .* of 2.0 GiB on GPU 0 \(GPU-' <<<"$out" && ok "the installed demo job on the installed simulators (NVML names GPU 0)" ||
    fail "installed simulators: $(tail -3 <<<"$out")"
make -s uninstall-sim DESTDIR="$root" PREFIX=/usr >"$work/uninstall-sim.log" 2>&1 || fail "make uninstall-sim: $(tail -5 "$work/uninstall-sim.log")"
if make -s uninstall DESTDIR="$root" PREFIX=/usr >"$work/uninstall.log" 2>&1; then
    ok "make uninstall"
else
    fail "make uninstall: $(tail -5 "$work/uninstall.log")"
fi
left=$(find "$root" ! -type d)
[ -z "$left" ] && ok "uninstall left no file behind" || fail "left behind: $left"
left=$(find "$root" -name '*grey*')
[ -z "$left" ] && ok "uninstall removed grey's own directories" || fail "left behind: $left"

finish install
