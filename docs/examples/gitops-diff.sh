#!/usr/bin/env bash
# microseg's check of a pull request to a GitOps repository: which connections the change flips,
# and what it does to NSX. Run it in a checkout of the pull request (the head), with the base
# branch fetched (CI systems check out the base ref anyway; the script itself needs no network).
#
#   docs/examples/gitops-diff.sh [BASE_REF] [MANIFEST_DIR]
#
#   BASE_REF      the branch the pull request goes into (default: main)
#   MANIFEST_DIR  the repository's directory of cluster manifests, read with its subdirectories
#                 (default: the repository's root)
#
# It writes microseg-diff.md (Markdown, ready to post as a pull-request comment) and exits 3 when
# connections flip, so that a CI job fails until someone looks; set ALLOW_FLIPS=1 to report
# without failing. Other exit codes: 1 a manifest or flag needs fixing, 2 a microseg bug.
# KUBECTL_MICROSEG names the binary (default: kubectl-microseg on PATH).
set -euo pipefail

base_ref=${1:-main}
dir=${2:-.}
tool=${KUBECTL_MICROSEG:-kubectl-microseg}
out=${MICROSEG_DIFF_OUT:-microseg-diff.md}

repo=$(git rev-parse --show-toplevel)
prefix=$(git -C "$dir" rev-parse --show-prefix)
base=$(mktemp -d)
trap 'rm -rf "$base"' EXIT

# The base's manifests, as committed on BASE_REF (git archive: no worktree to clean up).
git -C "$repo" archive "$base_ref" -- "${prefix:-.}" | tar -x -C "$base"

fail=(--fail-on-flip)
if [[ "${ALLOW_FLIPS:-}" == 1 ]]; then
	fail=()
fi
set +e
"$tool" diff --base "$base/${prefix:-.}" --head "$dir" --recursive -o markdown "${fail[@]}" >"$out"
code=$?
set -e
cat "$out"
exit "$code"
