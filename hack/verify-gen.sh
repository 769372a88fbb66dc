#!/usr/bin/env bash
# Regenerates DeepCopy code, CRDs and the operator's ClusterRole, and fails if the tree had stale
# copies. It compares file contents before and after (not git state), so it works with uncommitted
# changes too. The regenerated files are left in place: commit them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every file the generators own: DeepCopy code next to the API types, the CRDs, the manager's role.
generated() {
  { find api -name 'zz_generated.*.go'; find config/crd/bases -name '*.yaml'
    [ -f config/rbac/role.yaml ] && echo config/rbac/role.yaml; } 2>/dev/null | sort -u
}

before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
generated | while read -r f; do mkdir -p "$before/$(dirname "$f")"; cp "$f" "$before/$f"; done

make --no-print-directory generate manifests >/dev/null

stale=0
for f in $( (generated; cd "$before" && find . -type f | sed 's|^\./||') | sort -u); do
  if [ ! -f "$before/$f" ]; then echo "verify-gen: $f was missing"; stale=1
  elif [ ! -f "$f" ]; then echo "verify-gen: $f is no longer generated (remove it)"; stale=1
  elif ! diff -u "$before/$f" "$f"; then echo "verify-gen: $f was stale"; stale=1
  fi
done
if [ "$stale" -ne 0 ]; then
  echo "verify-gen: generated files were out of date; they have been regenerated — review and commit them." >&2
  echo "verify-gen: never edit generated files by hand; change the markers in api/ or controllers/ and run 'make generate manifests'." >&2
  exit 1
fi
echo "verify-gen: generated code and manifests are up to date"
