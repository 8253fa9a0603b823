#!/usr/bin/env bash
# The layer rule of docs/DESIGN.md, checked on every build: data flows one way,
#   preload/ -> shim/ -> core/ -> policy/      tools/ -> policy/      slurm/ -> tools/ -> policy/
# so a file may include its own folder's headers and those of the layers below it, nothing above.
# vendor/ holds declarations of vendor ABIs and small helpers over them (no grey state), which the
# shims and the tools may use.
# Vendor headers (<cuda.h>, <hip/...>) belong to the shims and the tools (which query drivers
# themselves): policy/, core/ and preload/ stay vendor-neutral. grey's HIP code calls the
# runtime only through grey_hip_call (shim/hip_shim.h), which sets the re-entry guard.
# Prints every violation and exits 1 when there is one. ROOT (default: this checkout) is the tree
# to check.
set -uo pipefail
cd "${1:-$(dirname "$0")/..}" || exit 2

declare -A allowed=(
  [policy]="policy"
  [core]="core policy"
  [shim]="shim core policy vendor"
  [preload]="preload shim core policy"
  [tools]="tools policy vendor"
  [slurm]="slurm tools policy"
  [vendor]="vendor"
)

bad=0
for layer in "${!allowed[@]}"; do
  for f in $(ls "$layer"/*.[ch] 2>/dev/null); do
    while IFS= read -r inc; do
      case "$inc" in
        */*) dir=${inc%%/*} ;;
        *) continue ;; # the file's own folder
      esac
      ok=0
      for a in ${allowed[$layer]}; do [ "$dir" = "$a" ] && ok=1; done
      if [ $ok -eq 0 ]; then
        echo "layers: $f includes \"$inc\" ($layer/ may include ${allowed[$layer]// /\/, }/)"
        bad=1
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    if [ "$layer" != shim ] && [ "$layer" != tools ] && grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(cuda|cudaTypedefs|cuda_runtime[a-z_]*|hip/[^>]*)\.h>' "$f"; then
      echo "layers: $f includes a vendor header (only shim/ and tools/ may)"
      bad=1
    fi
  done
done

# The HIP runtime is reached only through grey_hip_call.
for f in shim/*.c; do
  if grep -En 'grey_hip_(real|optional)\b' "$f" >/dev/null; then
    grep -En 'grey_hip_(real|optional)\b' "$f" | cut -d: -f1 |
      sed "s|.*|layers: $f:&: grey_hip_real bypasses the re-entry guard (call the runtime through grey_hip_call)|"
    bad=1
  fi
done

exit $bad
