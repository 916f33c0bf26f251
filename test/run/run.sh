#!/usr/bin/env bash
# Brings up the local stack on 127.0.0.1 for a first look: a private NetBox
# 4.7 with the netbox_hedgehog test plugin (test/netbox/up.sh), a private
# Redis (append-only, fsync always), a Git remote over smart HTTP, the
# sidecar, `hnp-sidecar bootstrap` (NetBox's webhook and event rule) and a
# sample fabric whose files the sidecar commits to that remote. With
# HNP_RUN_CLUSTER=1 also the cluster side (test/cluster/stack): a
# kube-apiserver with the Hedgehog CRDs and Argo CD in a private network
# namespace, forwarded to 127.0.0.1, with the sample fabric's Application, so
# an edit in NetBox goes on to `synced` (needs root and `make cluster`, which
# `make run` does: ~15 minutes the first time). Ctrl-C stops everything it
# started. State (secrets, databases, logs) lives in $HNP_RUN_DIR and is
# kept, so the next start takes seconds; the cluster starts empty each time
# and the sidecar's reconcile at start fills it.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUN_DIR=${HNP_RUN_DIR:-/tmp/hnp-run}
REDIS_PORT=${HNP_RUN_REDIS_PORT:-6390}
SIDECAR_ADDR=${HNP_RUN_ADDR:-127.0.0.1:8090}
GIT_ADDR=${HNP_RUN_GIT_ADDR:-127.0.0.1:8091}
BIN=${HNP_BIN:-bin/hnp-sidecar}
LOADER=${HNP_LOADER:-bin/load-fabric}
GITSERVER=${HNP_GITSERVER:-bin/gitserver}
CLUSTER=${HNP_RUN_CLUSTER:-0}
KUBE_ADDR=${HNP_RUN_KUBE_ADDR:-127.0.0.1:6443}
ARGOCD_ADDR=${HNP_RUN_ARGOCD_ADDR:-127.0.0.1:8092}
STACK=${HNP_CLUSTER_STACK:-bin/cluster-stack}
CLUSTER_DIR=$RUN_DIR/cluster
NETBOX_STATE=$RUN_DIR/netbox
mkdir -p "$RUN_DIR/redis"
pids=()
netbox_started=

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  [[ -z $netbox_started ]] || HNP_NETBOX_STATE=$NETBOX_STATE test/netbox/down.sh >/dev/null 2>&1 || true
  echo "stopped."
}
trap stop INT TERM EXIT

secret() { # secret FILE: make a random secret kept across runs
  [[ -s $1 ]] || (umask 077 && openssl rand -hex 24 >"$1")
}

if ! command -v redis-server >/dev/null; then
  echo "installing redis-server (Debian package)..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } ||
    { echo "could not install redis-server; install it and run again" >&2; exit 1; }
fi
bins=("$BIN" "$LOADER" "$GITSERVER")
[[ $CLUSTER != 1 ]] || bins+=("$STACK")
for b in "${bins[@]}"; do
  [[ -x $b ]] || { echo "$b is missing: run 'make run', which builds it" >&2; exit 1; }
done

if [[ $CLUSTER == 1 ]]; then
  # Starts while NetBox does; the Git remote it forwards inside comes later.
  echo "starting the cluster side: kube-apiserver and Argo CD in a private network namespace (~15 s)..."
  "$STACK" -dir "$CLUSTER_DIR" -kube-addr "$KUBE_ADDR" -argocd-addr "$ARGOCD_ADDR" -expose "$GIT_ADDR" \
    >"$RUN_DIR/cluster-stack.log" 2>&1 &
  pids+=($!)
  stack_pid=$!
fi

echo "starting NetBox (the first start installs it and migrates its database: ~6 minutes; later starts: seconds)..."
netbox_started=1
HNP_NETBOX_STATE=$NETBOX_STATE test/netbox/up.sh >"$RUN_DIR/netbox-up.log" 2>&1 ||
  { tail -20 "$RUN_DIR/netbox-up.log" >&2; exit 1; }
# shellcheck source=/dev/null
source "$NETBOX_STATE/env"

for addr in "127.0.0.1:$REDIS_PORT" "$SIDECAR_ADDR" "$GIT_ADDR"; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
    echo "$addr is already in use (is an earlier 'make run' still up?); stop it or set HNP_RUN_REDIS_PORT / HNP_RUN_ADDR" >&2
    exit 1
  fi
done

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN_DIR/redis" --save "" \
  --appendonly yes --appendfsync always --daemonize no --logfile "$RUN_DIR/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "redis did not start; see $RUN_DIR/redis.log" >&2; exit 1; }

secret "$RUN_DIR/webhook-secret"
secret "$RUN_DIR/api-token"
secret "$RUN_DIR/git-password"

"$GITSERVER" -root "$RUN_DIR/git-remote" -addr "$GIT_ADDR" -user hnp -password-file "$RUN_DIR/git-password" \
  -repo fabric-1 >>"$RUN_DIR/gitserver.log" 2>&1 &
pids+=($!)
GIT_URL="http://$GIT_ADDR/fabric-1.git"

argo_env=(HNP_ARGOCD_DRIVER=off)
if [[ $CLUSTER == 1 ]]; then
  for _ in $(seq 1800); do
    [[ -f $CLUSTER_DIR/ready ]] && break
    kill -0 "$stack_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -f $CLUSTER_DIR/ready ]] || { tail -30 "$RUN_DIR/cluster-stack.log" "$CLUSTER_DIR/stack.log" >&2 2>/dev/null; echo "the cluster side did not start; see $RUN_DIR/cluster-stack.log" >&2; exit 1; }
  sed 's/^/cluster: /' "$RUN_DIR/cluster-stack.log"
  # The Kubernetes driver: the sidecar writes the fabric's Application and
  # the repository Secret through the API server (DESIGN.md §8).
  # HNP_GIT_DEFAULT_URL: the sidecar's AppProject allows the local remote's host.
  argo_env=(HNP_ARGOCD_DRIVER=kubernetes HNP_KUBECONFIG="$CLUSTER_DIR/kubeconfig" HNP_GIT_DEFAULT_URL="$GIT_URL")
fi
env "${argo_env[@]}" HNP_LISTEN_ADDR=$SIDECAR_ADDR HNP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  HNP_WEBHOOK_SECRET_FILE="$RUN_DIR/webhook-secret" HNP_API_TOKEN_FILE="$RUN_DIR/api-token" \
  HNP_NETBOX_URL=$NETBOX_URL HNP_NETBOX_TOKEN=$NETBOX_TOKEN HNP_GIT_WORKDIR="$RUN_DIR/git-work" \
  HNP_GIT_USERNAME=hnp HNP_GIT_TOKEN_FILE="$RUN_DIR/git-password" \
  HNP_GIT_DEFAULT_URL="$GIT_URL" HNP_GIT_ALLOW_HTTP=true \
  "$BIN" serve >>"$RUN_DIR/sidecar.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://$SIDECAR_ADDR/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://$SIDECAR_ADDR/readyz" >/dev/null || { echo "sidecar not ready; see $RUN_DIR/sidecar.log" >&2; exit 1; }

HNP_NETBOX_URL=$NETBOX_URL HNP_NETBOX_TOKEN=$NETBOX_TOKEN HNP_SIDECAR_URL="http://$SIDECAR_ADDR" \
  HNP_WEBHOOK_SECRET_FILE="$RUN_DIR/webhook-secret" "$BIN" bootstrap | sed 's/^/bootstrap: /'
"$LOADER" -netbox-url "$NETBOX_URL" -token "$NETBOX_TOKEN" -fabric fabric-1 -git-url "$GIT_URL" | sed 's/^/sample: /'

sample=webhooks/samples/netbox-4.7/updated.json
cat <<MSG

hnp-sidecar is up.
  NetBox       $NETBOX_URL   login: $NETBOX_ADMIN_USER / $NETBOX_ADMIN_PASSWORD
               the sample fabric: $NETBOX_URL/plugins/hedgehog/vpcs/ (edit a VPC: a commit follows in about a second)
  sidecar      http://$SIDECAR_ADDR   (health: /api/v1/health, metrics: /metrics)
  git          $GIT_URL  (user hnp, password in $RUN_DIR/git-password)
               git clone "http://hnp:\$(cat $RUN_DIR/git-password)@$GIT_ADDR/fabric-1.git"   then: git pull after an edit
  redis        redis://127.0.0.1:$REDIS_PORT/0
  secrets      webhook secret in $RUN_DIR/webhook-secret, API token in $RUN_DIR/api-token
  log          $RUN_DIR/sidecar.log
MSG
if [[ $CLUSTER == 1 ]]; then
  cat <<MSG
  kubernetes   https://$KUBE_ADDR   kubeconfig: $CLUSTER_DIR/kubeconfig (admin); the sample fabric's VPCs:
               curl -s --cacert $CLUSTER_DIR/ca.crt -H "Authorization: Bearer \$(cat $CLUSTER_DIR/kube-token)" https://$KUBE_ADDR/apis/vpc.githedgehog.com/v1beta1/namespaces/default/vpcs
  argo cd      http://$ARGOCD_ADDR (REST API, no UI)  admin / \$(cat $CLUSTER_DIR/argocd-admin-password); the Application:
               curl -s -H "Authorization: Bearer \$(cat $CLUSTER_DIR/argocd-token)" "http://$ARGOCD_ADDR/api/v1/applications?selector=app.kubernetes.io/managed-by=hnp-sidecar"
  states       HNP_SIDECAR_URL=http://$SIDECAR_ADDR HNP_API_TOKEN_FILE=$RUN_DIR/api-token $BIN state list --fabric fabric-1
               (edit a VPC in NetBox: committed, pending, then synced in about three seconds)
  cluster logs $CLUSTER_DIR/{kube,argocd}/
MSG
fi
cat <<MSG

Send a signed sample webhook:
  sig=\$(openssl dgst -sha512 -hmac "\$(cat $RUN_DIR/webhook-secret)" -hex < $sample | awk '{print \$NF}')
  curl -i -H 'Content-Type: application/json' -H "X-Hook-Signature: \$sig" --data-binary @$sample http://$SIDECAR_ADDR/webhooks/netbox
Dead letters:
  curl -H "Authorization: Bearer \$(cat $RUN_DIR/api-token)" http://$SIDECAR_ADDR/api/v1/deadletters

Ctrl-C stops everything. The sidecar's log follows:
MSG
tail -n0 -F "$RUN_DIR/sidecar.log" &
pids+=($!)
wait -n "${pids[@]}"
echo "a process exited; see $RUN_DIR/*.log" >&2
