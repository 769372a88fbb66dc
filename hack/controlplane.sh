#!/usr/bin/env bash
# Builds the local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager and,
# on request, kubectl) from source fetched through the Go module proxy, into a versioned cache
# outside the repository, and prints that directory (use it as KUBEBUILDER_ASSETS).
#
# Why from source: this project's machines may not download prebuilt binaries; the Go module proxy
# is the only source there is. k8s.io/kubernetes is not meant to be used as a module (its go.mod
# requires its staging repos at v0.0.0 and replaces them with local paths), so we build it through a
# throwaway wrapper module that pins every staging module to the matching published v0.X.Y.
#
# Usage: hack/controlplane.sh            # builds what is missing, prints the directory
#        COMPONENTS="kubectl" hack/controlplane.sh   # add more binaries to the same directory
# Variables: KUBE_VERSION (default v1.37.1), ETCD_VERSION (default: what that Kubernetes requires),
#            MICROSEG_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/microseg), COMPONENTS.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.1}
COMPONENTS=${COMPONENTS:-"etcd kube-apiserver kube-controller-manager"}
CACHE_ROOT=${MICROSEG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/microseg}

log() { echo "controlplane: $*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null || die "go is not on PATH"
export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0

kube_mod_file() {
  local f
  f=$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -n "$f" ] && [ -f "$f" ] || die "cannot fetch k8s.io/kubernetes@${KUBE_VERSION} from the module proxy ($(go env GOPROXY))"
  echo "$f"
}

KUBE_GOMOD=$(kube_mod_file)
if [ -z "${ETCD_VERSION:-}" ]; then
  ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$KUBE_GOMOD")
  [ -n "$ETCD_VERSION" ] || die "k8s.io/kubernetes@${KUBE_VERSION} does not name an etcd server version; set ETCD_VERSION"
fi
# The staging modules are published as v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
GO_VERSION=$(go env GOVERSION)
OUT="${CACHE_ROOT}/controlplane/k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_${GO_VERSION}_$(go env GOOS)-$(go env GOARCH)"
mkdir -p "$OUT"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The build date is the module's publication time, so repeated builds produce the same binary.
build_date=$(go mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" | sed -n 's/.*"Time": "\(.*\)".*/\1/p')
kube_ldflags() {
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local flags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${KUBE_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
  done
  echo "$flags"
}

kube_wrapper() {
  local dir="$work/kubernetes"
  [ -f "$dir/go.mod" ] && { echo "$dir"; return; }
  mkdir -p "$dir"
  {
    echo "module microseg.local/controlplane-wrapper"
    echo
    echo "go $(awk '$1=="go"{print $2; exit}' "$KUBE_GOMOD")"
    echo
    echo "require k8s.io/kubernetes ${KUBE_VERSION}"
    echo
    # Every staging module k8s.io/kubernetes requires at v0.0.0 is pinned to its published twin.
    awk '$2=="v0.0.0" && $1 ~ /^k8s.io\// {print $1}' "$KUBE_GOMOD" | sort -u |
      while read -r m; do echo "replace $m => $m ${STAGING_VERSION}"; done
  } >"$dir/go.mod"
  echo "$dir"
}

etcd_wrapper() {
  local dir="$work/etcd"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module microseg.local/etcd-wrapper

go 1.24

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
MOD
  cat >"$dir/main.go" <<'SRC'
// Command etcd is etcd's own main, built from go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
SRC
  echo "$dir"
}

build() {
  local name=$1 dir pkg flags
  case "$name" in
    etcd) dir=$(etcd_wrapper); pkg=.; flags="-s -w" ;;
    kube-apiserver | kube-controller-manager | kubectl)
      dir=$(kube_wrapper); pkg="k8s.io/kubernetes/cmd/${name}"; flags=$(kube_ldflags) ;;
    *) die "unknown component '$name' (known: etcd kube-apiserver kube-controller-manager kubectl)" ;;
  esac
  log "building ${name} (k8s ${KUBE_VERSION}, etcd ${ETCD_VERSION}) into ${OUT}; the first build takes several minutes"
  (cd "$dir" && go build -trimpath -ldflags "$flags" -o "$OUT/.${name}.tmp" "$pkg") ||
    die "building ${name} failed; see the go output above"
  mv "$OUT/.${name}.tmp" "$OUT/${name}"
}

for c in $COMPONENTS; do
  [ -x "$OUT/$c" ] || build "$c"
done
echo "$OUT"
