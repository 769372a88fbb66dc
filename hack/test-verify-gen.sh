#!/usr/bin/env bash
# Proves that `make verify-gen` passes on a clean tree and fails after a hand edit of a generated
# file. It works on a copy of the tree so the developer's files are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work"
cd "$work"

make --no-print-directory verify-gen >/dev/null || { echo "test-verify-gen: FAIL: verify-gen failed on the current tree (run 'make generate manifests' and commit)"; exit 1; }

crd=$(ls config/crd/bases/*.yaml | head -n1)
# expect_stale FILE: verify-gen must fail, and for the right reason (FILE reported stale).
expect_stale() {
  local out
  if out=$(make --no-print-directory verify-gen 2>&1); then
    echo "test-verify-gen: FAIL: verify-gen passed after a hand edit of $1"; exit 1
  fi
  grep -q "verify-gen: $1 was stale" <<<"$out" || { echo "test-verify-gen: FAIL: verify-gen failed, but not because $1 was stale:"; echo "$out"; exit 1; }
}
grep -q 'maximum: 1000' "$crd" || { echo "test-verify-gen: FAIL: $crd has no 'maximum: 1000' to edit"; exit 1; }
sed -i 's/maximum: 1000/maximum: 1001/' "$crd"
expect_stale "$crd"
deepcopy=$(ls api/*/zz_generated.deepcopy.go | head -n1)
echo "// a hand edit" >>"$deepcopy"
expect_stale "$deepcopy"
echo "test-verify-gen: ok (passes on a clean tree, fails after hand edits of a CRD and of generated code)"
