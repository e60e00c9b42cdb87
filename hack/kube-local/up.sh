#!/usr/bin/env bash
# Starts a local Kubernetes control plane on loopback for tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok with one fake node. Nothing runs in
# containers and no kubelet runs; kwok plays the node and its pods.
#
# Needs the binaries hack/kube-local/install.sh builds. Re-running it while the
# control plane answers does nothing. Stop it with hack/kube-local/down.sh.
#
#   KUBE_LOCAL_BIN      binaries (default: <repo>/.cache/kube-local/bin)
#   KUBE_LOCAL_DIR      state: certs, etcd data, logs, pids (default: <repo>/.cache/kube-local/run)
#   KUBE_LOCAL_TIMEOUT  seconds each component may take to come up (default 90)
#
# Writes $KUBE_LOCAL_DIR/kubeconfig (cluster admin) and $KUBE_LOCAL_DIR/env, a file to
# source: it exports KUBECONFIG, BOOTSTRAP_TEST_KUBECONFIG, BOOTSTRAP_TEST_HELM and PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BIN=${KUBE_LOCAL_BIN:-$root/.cache/kube-local/bin}
DIR=${KUBE_LOCAL_DIR:-$root/.cache/kube-local/run}
TIMEOUT=${KUBE_LOCAL_TIMEOUT:-90}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
NODE=kwok-node-0
# Services get addresses in the loopback range: the API server really dials a Service
# of a webhook or an APIService, and that must never leave this machine.
SERVICE_CIDR=127.100.0.0/16
SERVICE_IP=127.100.0.1
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[kube-local up] %s\n' "$*" >&2; }
start_ns=$(date +%s%N)
elapsed() { local ms=$((($(date +%s%N) - start_ns) / 1000000)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# --- already running? ----------------------------------------------------------------

pid_alive() { # pid_alive NAME: the process recorded for NAME runs and is ours
	local f="$DIR/pids/$1.pid" pid
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -qF -- "$1" "/proc/$pid/cmdline" 2>/dev/null
}

api() { # api PATH [curl args...]: a request to the API server as cluster admin
	local path=$1
	shift
	# (The API server pretty-prints JSON for a curl user agent; this one gets it compact.)
	curl -sS --max-time 5 -A kube-local-up --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key" \
		"https://127.0.0.1:$(<"$DIR/ports/apiserver")$path" "$@"
}

if [[ -f $DIR/env ]]; then
	all=yes
	for c in "${COMPONENTS[@]}"; do pid_alive "$c" || all=no; done
	if [[ $all == yes ]] && [[ $(api /readyz 2>/dev/null) == ok ]]; then
		log "already running: source $DIR/env"
		exit 0
	fi
fi
if [[ -d $DIR ]]; then
	log "removing a stale state dir $DIR"
	KUBE_LOCAL_DIR=$DIR "$here/down.sh" >&2
fi

# --- binaries --------------------------------------------------------------------------

etcd_bin=$BIN/etcd
[[ -x $etcd_bin ]] || etcd_bin=$(command -v etcd || true)
stages=$BIN/kwok-stages-$KWOK_VERSION
missing=()
[[ -n $etcd_bin ]] || missing+=(etcd)
for b in kube-apiserver kube-controller-manager kube-scheduler kwok; do
	[[ -x $BIN/$b ]] || missing+=("$BIN/$b")
done
[[ -f $stages/.complete ]] || missing+=("$stages")
if ((${#missing[@]})); then
	log "missing: ${missing[*]}; run hack/kube-local/install.sh first"
	exit 1
fi

mkdir -p "$DIR"/{pki,logs,pids,ports,kwok}
touch "$DIR/.kube-local" # down.sh removes only a dir with this marker
DIR=$(cd "$DIR" && pwd)

# --- ports -----------------------------------------------------------------------------

# free_port: a loopback TCP port nothing listens on, below the ephemeral range so that
# no outgoing connection holds it, and not one handed out earlier in this run.
taken=" "
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ $taken == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			taken+="$p "
			echo "$p"
			return
		fi
	done
	log "no free loopback port found"
	return 1
}
for name in etcd etcd-peer apiserver controller-manager scheduler; do
	free_port >"$DIR/ports/$name"
done
ETCD_PORT=$(<"$DIR/ports/etcd")
ETCD_PEER_PORT=$(<"$DIR/ports/etcd-peer")
API_PORT=$(<"$DIR/ports/apiserver")
KCM_PORT=$(<"$DIR/ports/controller-manager")
SCHED_PORT=$(<"$DIR/ports/scheduler")

# --- certificates ----------------------------------------------------------------------

pki=$DIR/pki
ossl() { openssl "$@" 2>>"$DIR/logs/openssl.log"; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
# sign NAME SUBJECT EXTENSIONS [CA]: key NAME.key and certificate NAME.crt signed by CA
sign() {
	local name=$1 subj=$2 ext=$3 ca=${4:-ca}
	newkey "$pki/$name.key"
	ossl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr"
	printf '%s\n' "$ext" >"$pki/$name.ext"
	ossl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
		-days 3650 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt"
}
for ca in ca front-proxy-ca; do
	newkey "$pki/$ca.key"
	ossl req -x509 -new -key "$pki/$ca.key" -subj "/CN=kube-local-$ca" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$pki/$ca.crt"
done
sign apiserver /CN=kube-apiserver "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
client_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
sign admin "/O=system:masters/CN=kube-local-admin" "$client_ext"
sign front-proxy-client /CN=front-proxy-client "$client_ext" front-proxy-ca
newkey "$pki/sa.key"
ossl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
rm -f "$pki"/*.csr "$pki"/*.ext "$pki"/*.srl

b64() { base64 -w0 <"$1"; }
cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kube-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: kube-local-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: kube-local
  context:
    cluster: kube-local
    user: kube-local-admin
    namespace: default
current-context: kube-local
EOF
chmod 600 "$DIR/kubeconfig" "$pki"/*.key
kc=$DIR/kubeconfig

# --- kwok stages: kwok's own, without their random jitter --------------------------------

# Drops jitterDurationMilliseconds and jitterDurationFrom (with its nested lines), so
# that pods become ready after the stages' fixed 1 s delay and deleted pods go away
# after 1 s instead of at the end of their grace period.
for f in "$stages"/*.yaml; do
	echo "---"
	awk '
		skip && match($0, /^ */) && RLENGTH > skip_indent { next }
		{ skip = 0 }
		/^ *jitterDurationMilliseconds:/ { next }
		/^ *jitterDurationFrom:/ { match($0, /^ */); skip = 1; skip_indent = RLENGTH; next }
		{ print }
	' "$f"
done >"$DIR/kwok/stages.yaml"
if grep -q jitter "$DIR/kwok/stages.yaml"; then
	log "could not remove the jitter from kwok's stages ($DIR/kwok/stages.yaml)"
	exit 1
fi

# --- processes -------------------------------------------------------------------------

started=()
start() { # start NAME BINARY ARGS...: runs detached, output to logs/NAME.log
	local name=$1
	shift
	# The process writes its own pid, then becomes the component: setsid detaches it
	# from the caller's session, so it outlives the shell that ran up.sh.
	# shellcheck disable=SC2016 # $$, $0 and $@ are the inner bash's, expanded there
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$DIR/pids/$name.pid" "$@" </dev/null >"$DIR/logs/$name.log" 2>&1 &
	started+=("$name")
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $DIR/pids/$name.pid ]] && return
		sleep 0.1
	done
	fail "$name" "$name did not start"
}

fail() { # fail NAME MESSAGE: shows the end of NAME's log, stops everything, exits 1
	local name=$1
	shift
	log "FAILED after $(elapsed): $*"
	if [[ -f $DIR/logs/$name.log ]]; then
		log "last lines of $DIR/logs/$name.log:"
		tail -n 40 "$DIR/logs/$name.log" >&2
	fi
	local c pid
	for c in "${started[@]}"; do
		pid=$(<"$DIR/pids/$c.pid")
		kill "$pid" 2>/dev/null || true
	done
	local i
	for ((i = 0; i < 50; i++)); do
		any=0
		for c in "${started[@]}"; do pid_alive "$c" && any=1; done
		((any)) || break
		sleep 0.1
	done
	for c in "${started[@]}"; do
		pid_alive "$c" && { kill -9 "$(<"$DIR/pids/$c.pid")" 2>/dev/null || true; }
		rm -f "$DIR/pids/$c.pid"
	done
	wait 2>/dev/null || true
	rm -f "$DIR/env"
	log "logs kept in $DIR/logs; hack/kube-local/down.sh removes them"
	exit 1
}

# wait_for NAME WHAT CMD...: polls CMD until it succeeds, while NAME's process lives,
# for at most TIMEOUT seconds.
wait_for() {
	local name=$1 what=$2 deadline=$(($(date +%s) + TIMEOUT))
	shift 2
	until "$@" >/dev/null 2>&1; do
		pid_alive "$name" || fail "$name" "$name exited while waiting for $what"
		(($(date +%s) < deadline)) || fail "$name" "$what: not within ${TIMEOUT}s"
		sleep 0.2
	done
	log "$what ($(elapsed))"
}

healthz() { curl -fsS --max-time 2 -k "https://127.0.0.1:$1/healthz" | grep -qx ok; }

start etcd "$etcd_bin" --name kube-local --data-dir "$DIR/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster "kube-local=http://127.0.0.1:$ETCD_PEER_PORT" \
	--unsafe-no-fsync --quota-backend-bytes 4294967296 --logger zap --log-level warn
etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_for etcd "etcd up on 127.0.0.1:$ETCD_PORT" etcd_healthy

start kube-apiserver "$BIN/kube-apiserver" \
	--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
	--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
	--endpoint-reconciler-type none \
	--cert-dir "$DIR/apiserver" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
	--client-ca-file "$pki/ca.crt" \
	--authorization-mode Node,RBAC \
	--service-cluster-ip-range "$SERVICE_CIDR" \
	--service-account-issuer https://kubernetes.default.svc.cluster.local \
	--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
	--requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
	--requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
	--requestheader-extra-headers-prefix X-Remote-Extra- \
	--proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
	--allow-privileged=true --profiling=false
api_ready() { [[ $(api /readyz) == ok ]]; }
wait_for kube-apiserver "kube-apiserver ready on https://127.0.0.1:$API_PORT" api_ready

start kube-controller-manager "$BIN/kube-controller-manager" \
	--kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
	--bind-address 127.0.0.1 --secure-port "$KCM_PORT" --cert-dir "$DIR/controller-manager" \
	--leader-elect=false \
	--service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
	--cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
	--service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
start kube-scheduler "$BIN/kube-scheduler" \
	--kubeconfig "$kc" --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
	--bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --cert-dir "$DIR/scheduler" \
	--leader-elect=false --profiling=false
start kwok "$BIN/kwok" --kubeconfig "$kc" --config "$DIR/kwok/stages.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
	--node-ip 127.0.0.1 --node-lease-duration-seconds 40

# One fake node, annotated for kwok, without taints.
node_json='{"apiVersion":"v1","kind":"Node","metadata":{"name":"'$NODE'",
 "annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},
 "labels":{"kubernetes.io/hostname":"'$NODE'","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64",
  "beta.kubernetes.io/os":"linux","beta.kubernetes.io/arch":"amd64","type":"kwok"}},
 "spec":{},
 "status":{"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},"capacity":{"cpu":"32","memory":"256Gi","pods":"110"}}}'
out=$(api /api/v1/nodes -X POST -H 'Content-Type: application/json' -d "$node_json" -w '\n%{http_code}') ||
	fail kube-apiserver "creating node $NODE: $out"
[[ ${out##*$'\n'} == 201 ]] || fail kube-apiserver "creating node $NODE: $out"

node_ready() { api "/api/v1/nodes/$NODE" | grep -q '"type":"Ready","status":"True"'; }
sa_exists() { api /api/v1/namespaces/default/serviceaccounts/default -f -o /dev/null; }
wait_for kube-controller-manager "kube-controller-manager healthy" healthz "$KCM_PORT"
wait_for kube-scheduler "kube-scheduler healthy" healthz "$SCHED_PORT"
wait_for kwok "node $NODE Ready" node_ready
wait_for kube-controller-manager "service account default/default" sa_exists

cat >"$DIR/env.tmp" <<EOF
# Written by hack/kube-local/up.sh; source it to use the local control plane.
export KUBE_LOCAL_DIR='$DIR'
export KUBECONFIG='$kc'
export BOOTSTRAP_TEST_KUBECONFIG='$kc'
$([[ -x $BIN/helm ]] && echo "export BOOTSTRAP_TEST_HELM='$BIN/helm'")
export PATH='$BIN':"\$PATH"
EOF
mv "$DIR/env.tmp" "$DIR/env"
log "up in $(elapsed): source $DIR/env (API server https://127.0.0.1:$API_PORT)"
