#!/usr/bin/env bash
# Smoke test of a NetBox started by up.sh: auth forms, the plugin's CRUD + pagination, and real webhooks.
# usage: smoke.sh [--save DIR]   (--save: copy the captured webhook bodies to DIR/{created,updated,deleted}.json)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -s $STATE/env ]] || die "no $STATE/env: run up.sh first"
# shellcheck source=/dev/null
source "$STATE/env"
SAVE=${2:-}
[[ ${1:-} != --save || -n $SAVE ]] || die "usage: smoke.sh [--save DIR]"
PY="$NETBOX_VENV/bin/python"
API="$NETBOX_URL/api"
HOOKS="$STATE/captured"
SECRET=smoke-secret-$RANDOM
fails=0

ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }
# api METHOD PATH [JSON]: prints the body, sets $code. Auth: $AUTH (default Bearer v2).
api() {
    local out
    out=$(curl -sS -w '\n%{http_code}' -X "$1" -H "Authorization: ${AUTH:-Bearer $NETBOX_TOKEN}" \
        -H 'Content-Type: application/json' -H 'Accept: application/json' ${3:+--data "$3"} "$API/$2")
    code=${out##*$'\n'}
    body=${out%$'\n'*}
}
# jget EXPR: evaluate a Python expression on the last body (as `d`)
jget() { "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); print($1)" "$body"; }
expect() { if [[ $code == "$1" ]]; then ok "$2 -> $code"; else bad "$2 -> $code (want $1): $body"; fi; }

# --- auth ----------------------------------------------------------------------------------------
AUTH="Bearer $NETBOX_TOKEN" api GET status/ && expect 200 "status, Bearer v2"
echo "     NetBox $(jget "d['netbox-version']"), plugins $(jget "d['plugins']")"
AUTH="Token $NETBOX_TOKEN" api GET status/ && expect 200 "status, Token v2"
AUTH="Token $NETBOX_TOKEN_V1" api GET status/ && expect 200 "status, Token v1"
AUTH="Token 0000000000000000000000000000000000000000" api GET plugins/hedgehog/vpcs/ && expect 403 "bad token"

# --- webhook receiver, webhook, event rule -----------------------------------------------------
mkdir -p "$HOOKS"
rm -f "$HOOKS/all.jsonl" "$HOOKS/port"
python3 "$HERE/webhook_receiver.py" "$HOOKS/all.jsonl" "$HOOKS/port" &
RECEIVER=$!
cleanup() {
    kill "$RECEIVER" 2>/dev/null || true
    [[ -z ${RULE:-} ]] || api DELETE "extras/event-rules/$RULE/"
    [[ -z ${HOOK:-} ]] || api DELETE "extras/webhooks/$HOOK/"
    [[ -z ${FABRIC:-} ]] || api DELETE "plugins/hedgehog/fabrics/$FABRIC/"
}
trap cleanup EXIT
for _ in $(seq 50); do [[ -s $HOOKS/port ]] && break; sleep 0.1; done
api POST extras/webhooks/ "{\"name\":\"smoke-$RANDOM\",\"payload_url\":\"http://127.0.0.1:$(<"$HOOKS/port")/hook\",
    \"http_method\":\"POST\",\"http_content_type\":\"application/json\",\"secret\":\"$SECRET\",\"ssl_verification\":false}"
expect 201 "create webhook"
HOOK=$(jget "d['id']")
api POST extras/event-rules/ "{\"name\":\"smoke-$RANDOM\",\"object_types\":[\"netbox_hedgehog.vpc\"],
    \"event_types\":[\"object_created\",\"object_updated\",\"object_deleted\"],\"enabled\":true,
    \"action_type\":\"webhook\",\"action_object_type\":\"extras.webhook\",\"action_object_id\":$HOOK}"
expect 201 "create event rule"
RULE=$(jget "d['id']")

# --- plugin CRUD -----------------------------------------------------------------------------------
api POST plugins/hedgehog/fabrics/ "{\"name\":\"smoke-fabric-$RANDOM\",\"git_repository_url\":\"https://example.invalid/r.git\"}"
expect 201 "create fabric"
FABRIC=$(jget "d['id']")
check() { if [[ $(jget "$1") == True ]]; then ok "$2"; else bad "$2: $body"; fi; }
check "d['sync_status'] == 'never_synced' and d['gitops_directory'] == '/' and d['git_repository'] is None" "fabric defaults"
SPEC='{"subnets":{"default":{"subnet":"10.0.2.0/24","gateway":"10.0.2.1","vlan":1002}}}'
api POST plugins/hedgehog/vpcs/ "{\"fabric\":$FABRIC,\"name\":\"vpc-1\",\"spec\":$SPEC}"
expect 201 "create VPC"
VPC=$(jget "d['id']")
check "d['fabric'] == $FABRIC and d['url'] == $VPC and d['namespace'] == 'default' and d['kubernetes_status'] == 'unknown'" \
    "VPC: fabric is an id, url is the pk, defaults"
api POST plugins/hedgehog/vpcs/ "{\"fabric\":$FABRIC,\"name\":\"vpc-1\"}"
expect 400 "duplicate (fabric, namespace, name)"
api PATCH "plugins/hedgehog/vpcs/$VPC/" '{"spec":{"subnets":{"default":{"subnet":"10.0.3.0/24","vlan":1003}}}}'
expect 200 "update VPC"
api POST plugins/hedgehog/vpcs/ "{\"fabric\":$FABRIC,\"name\":\"vpc-2\"}"
expect 201 "create second VPC"
VPC2=$(jget "d['id']")
api GET "plugins/hedgehog/vpcs/?limit=1"
check "d['count'] >= 2 and len(d['results']) == 1 and 'offset=1' in d['next']" "pagination (count, next)"
api DELETE "plugins/hedgehog/vpcs/$VPC/"
expect 204 "delete VPC"
AUTH="Token $NETBOX_TOKEN" api DELETE "plugins/hedgehog/vpcs/$VPC2/"
expect 204 "delete second VPC (Token v2)"
for p in git-repositories gitops-resources externals external-attachments external-peerings ipv4-namespaces \
    vpc-attachments vpc-peerings connections servers switches switch-groups vlan-namespaces; do
    api GET "plugins/hedgehog/$p/"
    [[ $code == 200 ]] || bad "list $p -> $code"
done
ok "all list endpoints answer"

# --- webhooks: created, updated, deleted x2 ------------------------------------------------------
for _ in $(seq 60); do
    [[ -f $HOOKS/all.jsonl && $(wc -l <"$HOOKS/all.jsonl") -ge 5 ]] && break
    sleep 0.5
done
"$PY" - "$HOOKS" "$SECRET" <<'EOF' || fails=$((fails + 1))
import hashlib, hmac, json, sys
hooks, secret = sys.argv[1], sys.argv[2]
seen = {}
for line in open(f'{hooks}/all.jsonl'):
    rec = json.loads(line)
    body = rec['body'].encode()
    sig = {k.lower(): v for k, v in rec['headers'].items()}.get('x-hook-signature')
    good = hmac.compare_digest(sig or '', hmac.new(secret.encode(), body, hashlib.sha512).hexdigest())
    d = json.loads(body)
    print(f"     webhook {d['event']:8} {d.get('object_type')} id={d['data']['id']} signature={'ok' if good else 'BAD'}"
          f" keys={sorted(d)} request={sorted(d.get('request') or {})}")
    assert good, 'bad X-Hook-Signature'
    seen.setdefault(d['event'], rec)
for event in ('created', 'updated', 'deleted'):
    assert event in seen, f'no {event} webhook'
    with open(f'{hooks}/{event}.json', 'w') as f:
        json.dump({'headers': seen[event]['headers'], 'body': json.loads(seen[event]['body'])}, f, indent=2)
        f.write('\n')
print('ok   webhooks received and signed')
EOF
if [[ -n $SAVE ]]; then
    mkdir -p "$SAVE"
    for e in created updated deleted; do
        "$PY" -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["body"], open(sys.argv[2], "w"), indent=2)' \
            "$HOOKS/$e.json" "$SAVE/$e.json"
    done
    cp "$HOOKS/all.jsonl" "$SAVE/raw-with-headers.jsonl" # raw bodies: X-Hook-Signature checks against these
    echo "$SECRET" >"$SAVE/webhook-secret.txt"
    echo "saved webhook bodies to $SAVE"
fi

if ((fails)); then echo "smoke: $fails failed"; exit 1; fi
echo "smoke: all passed"
