#!/usr/bin/env bash
# hack/test.sh: sets up, on a fresh machine, every real part the tests use,
# then runs them. This is `make test`, and CI's .ci/run calls it.
#
#   - Terraform >= 1.11 and the AWS provider from a filesystem mirror
#   - moto (the local AWS API emulator; Python package, server mode)
#   - helm and a local Kubernetes control plane (hack/kube-local)
#
# Extra arguments go to `go test` (default: ./...). At the end it prints the
# wall time of each package and the ten slowest tests (hack/testtimes).
#
#   BOOTSTRAP_TEST_P         packages tested at once (go test -p), default 4
#   BOOTSTRAP_TEST_PARALLEL  parallel tests per package (-parallel), default 16
#   BOOTSTRAP_TEST_JSON      a file to keep go test's -json event stream in
#
# Most of the time is waiting (the AWS provider's pollers against moto), not
# computing, so both are above the 2 cores of the build machine: each
# process test runs in a test process of its own with its own moto server
# (testenv.OwnProcess), and all of one package's start at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n== %s\n' "$*"; }
need() { command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 1; }; }

step "checking tools"
need go "install Go 1.26 or newer"
need terraform "install Terraform 1.11 or newer"
need python3 "install Python 3"
need kubectl "install kubectl (the Kubernetes project's packages, or your cloud SDK's)"
python3 -c 'import moto, flask, flask_cors' 2>/dev/null || {
  echo "moto (server mode) is missing: pip install 'moto[server]==5.2.1'" >&2; exit 1; }

# bootstrap verify's script runs against a real PostgreSQL and a real Redis
# (internal/verify): PostgreSQL's server and psql, redis-server and
# redis-cli, Debian's packages. The runbook's scripts and their tests read
# JSON with jq, also Debian's.
if ! command -v redis-server >/dev/null || ! command -v psql >/dev/null || ! command -v jq >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  step "installing PostgreSQL, Redis and jq (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  if ! "${sudo[@]}" apt-get install -y --no-install-recommends postgresql redis-server jq; then
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends postgresql redis-server jq
  fi
fi

step "finding the Terraform provider mirror"
BOOTSTRAP_TF_PROVIDER_MIRROR=$(hack/find-provider-mirror.sh)
export BOOTSTRAP_TF_PROVIDER_MIRROR
echo "$BOOTSTRAP_TF_PROVIDER_MIRROR"
# The tests write their own CLI configuration; a user's must not interfere.
unset TF_CLI_CONFIG_FILE

step "installing helm and the local Kubernetes control plane"
hack/kube-local/install.sh
step "starting the local Kubernetes control plane"
hack/kube-local/up.sh
trap 'hack/kube-local/down.sh >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
source "${KUBE_LOCAL_DIR:-$root/.cache/kube-local/run}/env"

step "go test"
if [ $# -eq 0 ]; then set -- ./...; fi
tools=$(mktemp -d)
trap 'hack/kube-local/down.sh >/dev/null 2>&1 || true; rm -rf "$tools"' EXIT
go build -o "$tools/testtimes" ./hack/testtimes
verbose=()
for a in "$@"; do [[ $a == -v || $a == -test.v ]] && verbose=(-v); done
# go test's own ok/FAIL lines pass through testtimes; with pipefail the
# script fails when go test does (and testtimes fails on any failed test).
go test -json -p "${BOOTSTRAP_TEST_P:-4}" -parallel "${BOOTSTRAP_TEST_PARALLEL:-16}" -timeout 60m "$@" |
  tee "${BOOTSTRAP_TEST_JSON:-/dev/null}" |
  "$tools/testtimes" "${verbose[@]}"
