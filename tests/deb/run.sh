#!/usr/bin/env bash
# make deb-tests: the Debian packages build, lint and work where they are installed.
# dpkg-buildpackage -us -uc -b runs in a scratch copy of the tree (tracked and untracked files,
# nothing that git ignores, so no build/); the .debs are unpacked with dpkg -x into a scratch
# root, whose grey-run --version must answer and whose grey-run must cap the demo job on the
# installed simulated driver (LD_LIBRARY_PATH into the scratch root); lintian must report no
# error (E:). Its warnings are shown, not counted.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
version=$(cat VERSION)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# This run's own simulated GPUs and ledger: other jobs on the machine must not use its memory.
export GREY_SIM_STATE=$work/sim-state GREY_LEDGER=$work/ledger
for tool in dpkg-buildpackage dh lintian jq; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

cl_version=$(dpkg-parsechangelog -S Version)
[ "$cl_version" = "$version" ] && ok "debian/changelog's version is VERSION's ($version)" ||
    fail "debian/changelog says $cl_version, VERSION says $version"

echo "== dpkg-buildpackage -us -uc -b (in a copy of the tree)"
src=$work/src/grey-$version
mkdir -p "$src"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$src"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="parallel=2 noddebs" dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
    ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s)"
else
    fail "dpkg-buildpackage: status $rc"
    tail -30 "$work/build.log"
    finish deb
    exit 1
fi
deb=$work/src/grey_${version}_${arch}.deb
testdeb=$work/src/grey-test_${version}_${arch}.deb
slurmdeb=$work/src/grey-slurm_${version}_${arch}.deb
for f in "$deb" "$testdeb" "$slurmdeb"; do
    [ -f "$f" ] && ok "built $(basename "$f")" || fail "not built: $(basename "$f")"
done

echo "== what the packages hold"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/grey.list"
dpkg-deb -c "$testdeb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/grey-test.list"
for f in /usr/bin/grey-run /usr/bin/grey-plan /usr/bin/grey-top /usr/bin/grey-report /usr/bin/grey-exporter \
         /usr/lib/grey/libgreyhook.so /usr/share/man/man1/grey-run.1.gz /usr/share/man/man5/grey-plan.5.gz \
         /usr/share/man/man8/grey-exporter.8.gz /usr/share/bash-completion/completions/grey-run \
         /usr/share/zsh/vendor-completions/_grey \
         /lib/systemd/system/grey-exporter.service /etc/grey/plan.conf.example /usr/share/doc/grey/copyright; do
    grep -qx "$f" "$work/grey.list" && ok "grey holds $f" || fail "grey lacks $f"
done
for f in /usr/lib/grey/sim/libcuda.so.1 /usr/lib/grey/sim/libnvidia-ml.so.1 /usr/lib/grey/sim/libamdhip64.so.5 \
         /usr/lib/grey/sim/grey-demo-train; do
    grep -qx "$f" "$work/grey-test.list" && ok "grey-test holds $f" || fail "grey-test lacks $f"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
dpkg-deb -c "$slurmdeb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/grey-slurm.list"
grep -qx "/usr/lib/$multiarch/slurm-wlm/grey_spank.so" "$work/grey-slurm.list" &&
    ok "grey-slurm puts grey_spank.so beside Debian's Slurm plugins" || fail "grey-slurm lacks grey_spank.so"
! grep -q 'spank' "$work/grey.list" && ok "grey itself needs no Slurm" || fail "grey holds the SPANK plugin"
! grep -q '/sim/' "$work/grey.list" && ok "no simulated driver in grey" || fail "grey holds a simulated driver"
! grep -qE '^/(usr/)?lib/(x86_64-linux-gnu/)?lib(cuda|nvidia-ml|amdhip64)' "$work/grey-test.list" &&
    ok "no simulated driver on the linker's path" || fail "grey-test puts a driver on the linker's path"
dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qx /etc/grey/plan.conf.example &&
    ok "the example plan is a conffile" || fail "the example plan is no conffile"
! dpkg-deb -c "$deb" | grep -q 'etc/grey/plan.conf$' && ok "no admin plan put in force" || fail "grey ships /etc/grey/plan.conf"
if dpkg-deb -I "$deb" postinst >"$work/postinst" 2>/dev/null; then
    ! grep -q 'deb-systemd-invoke start' "$work/postinst" && ok "postinst does not start grey-exporter" ||
        fail "postinst starts grey-exporter"
else
    ok "no postinst: grey-exporter is neither enabled nor started"
fi

echo "== installed in a scratch root"
root=$work/root
dpkg -x "$deb" "$root" && dpkg -x "$testdeb" "$root" && ok "dpkg -x both packages" || fail "dpkg -x"
out=$("$root/usr/bin/grey-run" --version 2>&1); rc=$?
[ $rc -eq 0 ] && [ "${out%%$'\n'*}" = "grey-run (grey) $version" ] && ok "installed grey-run --version: ${out%%$'\n'*}" ||
    fail "installed grey-run --version: status $rc, '$out'"
out=$(env -u GREY_HOOK LD_LIBRARY_PATH="$root/usr/lib/grey/sim" GREY_LEDGER="$work/ledger" \
      "$root/usr/bin/grey-run" --cap 2Gi --summary-json "$work/summary.json" -- "$root/usr/lib/grey/sim/grey-demo-train" --steps 2 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "the installed demo job under the installed grey-run exits 0" || fail "capped job: status $rc: $(tail -3 <<<"$out")"
grep -qE 'peak .* of 2.0 GiB on GPU 0' <<<"$out" && ok "capped at 2 GiB on the installed simulated GPU" || fail "no capped summary: $(tail -3 <<<"$out")"
jq -e '.hook_loaded and .gpus[0].cap_bytes == 2147483648 and .gpus[0].peak_bytes <= 2147483648 and .gpus[0].denied >= 1' \
    "$work/summary.json" >/dev/null 2>&1 && ok "the installed hook enforced the cap (summary: denials, peak within 2 GiB)" ||
    fail "summary: $(cat "$work/summary.json" 2>/dev/null)"
out=$(LD_LIBRARY_PATH="$root/usr/lib/grey/sim" "$root/usr/bin/grey-plan" check "$root/etc/grey/plan.conf.example" 2>&1)
[ "$out" = "$root/etc/grey/plan.conf.example: ok (1 device)" ] && ok "the installed example plan checks" || fail "example plan: $out"
spec=$(bash --norc --noprofile -c "source '$root/usr/share/bash-completion/completions/grey-run' && complete -p grey-run" 2>&1)
[ "$spec" = "complete -F _grey_run grey-run" ] && ok "the installed completion loads" || fail "completion: $spec"
zcat "$root/usr/share/man/man1/grey-run.1.gz" | groff -man -ww -z 2>"$work/man.err" && [ ! -s "$work/man.err" ] &&
    ok "the installed grey-run(1) formats cleanly" || fail "grey-run(1): $(cat "$work/man.err")"

echo "== lintian"
lintian --no-tag-display-limit "$deb" "$testdeb" >"$work/lintian.log" 2>&1
grep -E '^W: ' "$work/lintian.log" | sed 's/^/  (warning) /'
errors=$(grep -E '^E: ' "$work/lintian.log")
[ -z "$errors" ] && ok "lintian: no error" || fail "lintian errors:
$errors"

finish deb
