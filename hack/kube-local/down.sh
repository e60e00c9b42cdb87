#!/usr/bin/env bash
# Stops the processes hack/kube-local/up.sh started (by the pids it recorded) and
# removes its state dir. Safe to run when nothing is running.
#
#   KUBE_LOCAL_DIR  state dir (default: <repo>/.cache/kube-local/run)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
DIR=${KUBE_LOCAL_DIR:-$root/.cache/kube-local/run}

log() { printf '[kube-local down] %s\n' "$*" >&2; }

if [[ ! -d $DIR ]]; then
	log "nothing to do: no $DIR"
	exit 0
fi

# ours NAME PID: PID still runs the component NAME (not a reused pid)
ours() { kill -0 "$2" 2>/dev/null && grep -qF -- "$1" "/proc/$2/cmdline" 2>/dev/null; }

# Stop in reverse order of start, so that the clients go before the API server
# and the API server before etcd.
pids=()
names=()
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
	f=$DIR/pids/$name.pid
	[[ -s $f ]] || continue
	pid=$(<"$f")
	if [[ $pid =~ ^[0-9]+$ ]] && ours "$name" "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
		names+=("$name")
	fi
done

# Wait up to 10 s for them to exit, then kill what is left.
for ((i = 0; i < 100; i++)); do
	left=0
	for j in "${!pids[@]}"; do
		ours "${names[$j]}" "${pids[$j]}" && left=1
	done
	((left)) || break
	sleep 0.1
done
for j in "${!pids[@]}"; do
	if ours "${names[$j]}" "${pids[$j]}"; then
		log "killing ${names[$j]} (pid ${pids[$j]})"
		kill -KILL "${pids[$j]}" 2>/dev/null || true
	fi
done
((${#names[@]})) && log "stopped: ${names[*]}"

# Only a dir up.sh made (it leaves a marker) is removed, whatever KUBE_LOCAL_DIR says.
if [[ -e $DIR/.kube-local ]] || [[ -z $(ls -A "$DIR") ]]; then
	rm -rf -- "$DIR"
	log "removed $DIR"
else
	log "$DIR was not made by up.sh (no .kube-local marker): left in place"
	exit 1
fi
