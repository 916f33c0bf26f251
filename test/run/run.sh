#!/usr/bin/env bash
# Brings up the local stack on 127.0.0.1 for a first look: a private Redis
# (append-only, fsync always) and the sidecar. Ctrl-C stops everything it
# started. State (secrets, Redis data, logs) lives in $HNP_RUN_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUN_DIR=${HNP_RUN_DIR:-/tmp/hnp-run}
REDIS_PORT=${HNP_RUN_REDIS_PORT:-6390}
SIDECAR_ADDR=${HNP_RUN_ADDR:-127.0.0.1:8090}
BIN=${HNP_BIN:-bin/hnp-sidecar}
mkdir -p "$RUN_DIR/redis"
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
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
[[ -x $BIN ]] || { echo "$BIN is missing: run 'make run', which builds it" >&2; exit 1; }

redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$RUN_DIR/redis" --save "" \
  --appendonly yes --appendfsync always --daemonize no --logfile "$RUN_DIR/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "redis did not start; see $RUN_DIR/redis.log" >&2; exit 1; }

secret "$RUN_DIR/webhook-secret"
secret "$RUN_DIR/api-token"
HNP_LISTEN_ADDR=$SIDECAR_ADDR HNP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  HNP_WEBHOOK_SECRET_FILE="$RUN_DIR/webhook-secret" HNP_API_TOKEN_FILE="$RUN_DIR/api-token" \
  "$BIN" serve > >(tee -a "$RUN_DIR/sidecar.log") 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://$SIDECAR_ADDR/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "http://$SIDECAR_ADDR/readyz" >/dev/null || { echo "sidecar not ready; see $RUN_DIR/sidecar.log" >&2; exit 1; }

sample=webhooks/samples/netbox-4.7/updated.json
cat <<MSG

hnp-sidecar is up.
  sidecar      http://$SIDECAR_ADDR   (health: /api/v1/health, metrics: /metrics)
  redis        redis://127.0.0.1:$REDIS_PORT/0
  secrets      webhook secret in $RUN_DIR/webhook-secret, API token in $RUN_DIR/api-token
  log          $RUN_DIR/sidecar.log

Send a signed sample webhook:
  sig=\$(openssl dgst -sha512 -hmac "\$(cat $RUN_DIR/webhook-secret)" -hex < $sample | awk '{print \$NF}')
  curl -i -H 'Content-Type: application/json' -H "X-Hook-Signature: \$sig" --data-binary @$sample http://$SIDECAR_ADDR/webhooks/netbox
Dead letters:
  curl -H "Authorization: Bearer \$(cat $RUN_DIR/api-token)" http://$SIDECAR_ADDR/api/v1/deadletters

Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
echo "a process exited; see $RUN_DIR/*.log" >&2
