#!/usr/bin/env bash
# Installs what hack/kube-local/up.sh runs: etcd (Debian package), kube-apiserver,
# kube-controller-manager and kube-scheduler (built from k8s.io/kubernetes through the
# tools module beside this script), kwok, its stage definitions, and helm.
#
# Idempotent: whatever is already in the bin dir at the right version is kept.
#
#   KUBE_LOCAL_BIN   where binaries go (default: <repo>/.cache/kube-local/bin)
#   KWOK_VERSION     default v0.8.0
#   HELM_VERSION     default v3.22.0; if the module proxy refuses it, the newest v3
#                    release it serves is used instead
#
# Cold, this is several minutes of compiling on two cores (see README.md).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${KUBE_LOCAL_BIN:-$root/.cache/kube-local/bin}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
tools="$here/tools"

# The Kubernetes version is the one the tools module requires.
K8S_VERSION=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$tools/go.mod")
if [[ ! $K8S_VERSION =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
	echo "install.sh: cannot read the k8s.io/kubernetes version from $tools/go.mod" >&2
	exit 1
fi
K8S_MINOR=${BASH_REMATCH[1]}

export GOWORK=off
mkdir -p "$BIN"

log() { printf '[kube-local install] %s\n' "$*" >&2; }

# step NAME CMD...: runs CMD and prints how long it took.
step() {
	local name=$1 start ms
	shift
	start=$(date +%s%N)
	"$@"
	ms=$((($(date +%s%N) - start) / 1000000))
	log "$(printf '%-28s %4d.%d s' "$name" $((ms / 1000)) $((ms % 1000 / 100)))"
}

# built BINARY STRING...: true when BINARY exists and `go version -m` of it shows
# every STRING (module versions, link flags).
built() {
	local bin=$1 info s
	shift
	[[ -x $bin ]] || return 1
	info=$(go version -m "$bin" 2>/dev/null) || return 1
	for s in "$@"; do
		grep -qF -- "$s" <<<"$info" || return 1
	done
}

install_etcd() {
	if command -v etcd >/dev/null 2>&1; then
		log "etcd: $(command -v etcd) ($(etcd --version 2>/dev/null | head -1))"
		return
	fi
	if [[ $(id -u) != 0 ]]; then
		log "etcd is missing and this is not root: install the Debian package etcd-server"
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends etcd-server; then
		apt-get update
		apt-get install -y --no-install-recommends etcd-server
	fi
	# The package may start a system etcd of its own (on 2379/2380): up.sh does
	# not use it and picks free ports, so it is left as the package set it.
	log "etcd: $(command -v etcd) ($(etcd --version 2>/dev/null | head -1))"
}

install_kube() {
	local ldflags pkg s tmp
	ldflags=""
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$K8S_MINOR"
		ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	ldflags="-s -w$ldflags"
	local all=yes
	for s in kube-apiserver kube-controller-manager kube-scheduler; do
		built "$BIN/$s" "k8s.io/kubernetes	$K8S_VERSION" "gitVersion=$K8S_VERSION " || all=no
	done
	if [[ $all == yes ]]; then
		log "kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION: already built"
		return
	fi
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	(
		cd "$tools"
		go build -mod=readonly -buildvcs=false -ldflags "$ldflags" -o "$tmp/" \
			k8s.io/kubernetes/cmd/kube-apiserver \
			k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler
	)
	mv -f "$tmp"/* "$BIN/"
	rmdir "$tmp"
	"$BIN/kube-apiserver" --version >&2
}

install_kwok() {
	local dir stages="$BIN/kwok-stages-$KWOK_VERSION" tmp
	if built "$BIN/kwok" "sigs.k8s.io/kwok	$KWOK_VERSION"; then
		log "kwok $KWOK_VERSION: already built"
	else
		tmp=$(mktemp -d "$BIN/.build.XXXXXX")
		GOBIN=$tmp go install -buildvcs=false -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
		mv -f "$tmp/kwok" "$BIN/kwok"
		rmdir "$tmp"
	fi
	# The stage definitions up.sh passes to kwok, as kwok's module ships them.
	if [[ ! -f $stages/.complete ]]; then
		dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[[ -n $dir && -d $dir/kustomize/stage ]] || {
			log "kwok module has no kustomize/stage (dir: '$dir')"
			return 1
		}
		rm -rf "$stages"
		mkdir -p "$stages"
		cp "$dir"/kustomize/stage/node/fast/node-initialize.yaml \
			"$dir"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
			"$dir"/kustomize/stage/pod/general/pod-*.yaml "$stages/"
		chmod u+w "$stages"/*.yaml
		touch "$stages/.complete"
	fi
}

install_helm() {
	local v=$HELM_VERSION tmp
	if built "$BIN/helm" "helm.sh/helm/v3	$v"; then
		log "helm $v: already built"
		return
	fi
	if ! go mod download "helm.sh/helm/v3@$v" 2>/dev/null; then
		v=$(go list -m -f '{{.Version}}' "helm.sh/helm/v3@latest")
		log "helm $HELM_VERSION is not served by the module proxy; using $v"
		if built "$BIN/helm" "helm.sh/helm/v3	$v"; then
			log "helm $v: already built"
			return
		fi
	fi
	tmp=$(mktemp -d "$BIN/.build.XXXXXX")
	# Without -X, helm reports only "v3.NN".
	GOBIN=$tmp go install -buildvcs=false \
		-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
		"helm.sh/helm/v3/cmd/helm@$v"
	mv -f "$tmp/helm" "$BIN/helm"
	rmdir "$tmp"
	"$BIN/helm" version --short >&2
}

total_start=$(date +%s)
step etcd install_etcd
step "kube $K8S_VERSION" install_kube
step "kwok $KWOK_VERSION" install_kwok
step helm install_helm
log "done in $(($(date +%s) - total_start)) s; binaries in $BIN"
