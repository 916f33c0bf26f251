#!/usr/bin/env bash
# Bring up a private NetBox (from PyPI) with the netbox_hedgehog test plugin, on 127.0.0.1 only.
# State (databases, logs, tokens): $HNP_NETBOX_STATE (default /tmp/hnp-netbox).
# Cache (venv, migrated-schema dumps): $HNP_CACHE_DIR (default ~/.cache/hnp-sidecar).
# Idempotent: run it again to restart whatever is not running. Stop with down.sh. See README.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START=$SECONDS

# --- Debian packages -------------------------------------------------------------------------
need=()
[[ -x $PGBIN/initdb ]] || need+=(postgresql-15)
command -v redis-server >/dev/null || need+=(redis-server)
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
command -v gcc >/dev/null || need+=(gcc)
if ((${#need[@]})); then
    [[ $EUID -eq 0 ]] || die "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})"
    log "installing Debian packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${need[@]}" >/tmp/hnp-netbox-apt.log 2>&1; then
        apt-get update -q >>/tmp/hnp-netbox-apt.log 2>&1 || true
        apt-get install -y -q "${need[@]}" >>/tmp/hnp-netbox-apt.log 2>&1 ||
            die "apt-get install ${need[*]} failed; see /tmp/hnp-netbox-apt.log"
    fi
fi

# --- Python >= 3.12 and the NetBox venv ------------------------------------------------------
find_python() {
    local v p root="${PYENV_ROOT:-$HOME/.pyenv}"
    for v in 3.13 3.12; do
        p=$(find "$root/versions" -maxdepth 1 -name "$v.*" 2>/dev/null | sort -V | tail -n1)
        if [[ -n $p && -x $p/bin/python3 ]]; then echo "$p/bin/python3"; return; fi
    done
    for v in python3.13 python3.12; do
        if command -v "$v" >/dev/null; then command -v "$v"; return; fi
    done
    return 1
}
PY=$(find_python) || die "need Python 3.12 or 3.13 (pyenv versions 3.13.x/3.12.x, or python3.13/python3.12 on PATH)"
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

venv_dir() { echo "$CACHE/venv-netbox-$1-py$PYVER"; }
venv_ok() { [[ -f $1/.complete && $("$1/bin/netbox" version 2>/dev/null) == "$2" ]]; }
make_venv() { # make_venv VERSION: fresh venv with netbox==VERSION (+ setuptools for the editable plugin)
    local dir
    dir=$(venv_dir "$1")
    rm -rf "$dir"
    "$PY" -m venv "$dir"
    log "installing netbox==$1 into $dir (Python $PYVER)"
    if ! "$dir/bin/pip" install -q --disable-pip-version-check "netbox==$1" setuptools >"$dir.pip.log" 2>&1; then
        rm -rf "$dir"
        return 1
    fi
    touch "$dir/.complete"
}

mkdir -p "$CACHE"
# Several test processes may start NetBoxes at once on a cold cache: one at a time installs the venv
# and migrates (the others then reuse both). Everything started while holding it closes fd 9.
exec 9>"$CACHE/.lock"
flock 9
VENV=$(venv_dir "$NETBOX_VERSION")
if ! venv_ok "$VENV" "$NETBOX_VERSION"; then
    if ! make_venv "$NETBOX_VERSION"; then
        log "netbox==$NETBOX_VERSION failed to install (see $VENV.pip.log); looking for the nearest 4.7.x"
        nearest=$("$PY" -m pip index versions netbox 2>/dev/null | sed -n 's/^Available versions: //p' |
            tr ',' '\n' | tr -d ' ' | grep -E '^4\.7\.[0-9]+$' | grep -vxF "$NETBOX_VERSION" | sort -V | tail -n1) || true
        [[ -n $nearest ]] || die "no NetBox 4.7.x installable from PyPI"
        make_venv "$nearest" || die "netbox==$nearest failed to install too; see $(venv_dir "$nearest").pip.log"
        log "USING netbox==$nearest INSTEAD OF $NETBOX_VERSION"
        NETBOX_VERSION=$nearest
        VENV=$(venv_dir "$NETBOX_VERSION")
    fi
fi

# The plugin is an editable install: source edits are live; reinstall when its path or pyproject changes.
plugin_mark="$HERE/plugin $(sha256sum "$HERE/plugin/pyproject.toml" | cut -c1-16)"
if [[ $(cat "$VENV/.hedgehog-plugin" 2>/dev/null) != "$plugin_mark" ]]; then
    log "installing the netbox_hedgehog plugin (editable) from $HERE/plugin"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$HERE/plugin" \
        >"$VENV.plugin-pip.log" 2>&1 || die "plugin install failed; see $VENV.plugin-pip.log"
    echo "$plugin_mark" >"$VENV/.hedgehog-plugin"
fi

# --- State dir, secrets, ports ---------------------------------------------------------------
mkdir -p "$STATE/conf" "$RUN" "$LOG"
chmod 755 "$STATE"
gen() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))'; }
[[ -s $STATE/secrets.env ]] || printf 'SECRET_KEY=%s\nPEPPER=%s\nPG_PASSWORD=%s\n' "$(gen)" "$(gen)" "$(gen)" >"$STATE/secrets.env"
[[ -s $STATE/admin-password ]] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))' >"$STATE/admin-password"
chmod 600 "$STATE/secrets.env" "$STATE/admin-password"
# shellcheck source=/dev/null
source "$STATE/secrets.env"

# free_port NAME: the port saved under NAME if it is still free, else a new free one.
port_free() { "$PY" -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() {
    local saved
    saved=$(cat "$RUN/$1.port" 2>/dev/null || true)
    if [[ -n $saved ]] && port_free "$saved"; then echo "$saved"; return; fi
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- PostgreSQL 15 (private cluster) ---------------------------------------------------------
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG/run")
if [[ ! -f $PG/data/PG_VERSION ]]; then
    log "initdb $PG/data"
    rm -rf "$PG"
    mkdir -p "$PG/data" "$PG/run"
    [[ $EUID -ne 0 ]] || chown -R postgres:postgres "$PG"
    as_pg "$PGBIN/initdb" -D "$PG/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$LOG/initdb.log" 2>&1 ||
        die "initdb failed; see $LOG/initdb.log"
fi
if pg_running; then
    PG_PORT=$(<"$RUN/pg.port")
else
    PG_PORT=$(free_port pg)
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # fsync off: a throw-away test database.
    as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/postgres.log" -w -t 60 start 9>&- \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null || die "PostgreSQL did not start; see $PG/postgres.log"
    echo "$PG_PORT" >"$RUN/pg.port"
fi
PSQL+=(-p "$PG_PORT")

# The netbox database counts only once bootstrap finished on it ($STATE/db-ready); otherwise start over.
FRESH_DB=0
if [[ ! -f $STATE/db-ready ]]; then
    FRESH_DB=1
    "${PSQL[@]}" -U postgres -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS netbox WITH (FORCE);
DROP ROLE IF EXISTS netbox;
CREATE ROLE netbox LOGIN PASSWORD '$PG_PASSWORD';
CREATE DATABASE netbox OWNER netbox;
SQL
fi

# The migrated schema (NetBox + plugin, no users) is cached, keyed by the NetBox version and the plugin sources
# that shape the database (models and migrations; editing views or serializers keeps the cache).
plugin_sums=$(cd "$HERE/plugin/netbox_hedgehog" && sha256sum models.py migrations/*.py)
KEY=$(printf '%s\n%s\n' "$NETBOX_VERSION" "$plugin_sums" | sha256sum | cut -c1-16)
DUMP="$CACHE/netbox-$NETBOX_VERSION-schema-$KEY.pgdump"
DUMP_CMD=()
if ((FRESH_DB)); then
    if [[ -s $DUMP ]]; then
        log "restoring cached schema $DUMP"
        "$PGBIN/pg_restore" -h "$PG/run" -p "$PG_PORT" -U netbox -d netbox --no-owner -j 2 "$DUMP" \
            >"$LOG/pg_restore.log" 2>&1 || die "pg_restore failed; see $LOG/pg_restore.log"
    else
        log "no cached schema for key $KEY: full migrate (takes a few minutes), then dump"
        DUMP_CMD=("$PGBIN/pg_dump" -Fc -h "$PG/run" -p "$PG_PORT" -U netbox -d netbox -f "$DUMP.tmp.$$")
    fi
fi

# --- Redis (private) -------------------------------------------------------------------------
mkdir -p "$STATE/redis"
if pid_alive "$RUN/redis.pid"; then
    REDIS_PORT=$(<"$RUN/redis.port")
else
    REDIS_PORT=$(free_port redis)
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server 9>&- --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --pidfile "$RUN/redis.pid" \
        --dir "$STATE/redis" --logfile "$LOG/redis.log" --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do
        [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && break
        sleep 0.1
    done
    [[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] || die "Redis did not start; see $LOG/redis.log"
    echo "$REDIS_PORT" >"$RUN/redis.port"
fi

# --- NetBox configuration --------------------------------------------------------------------
# The PyPI ("wheel") NetBox reads $NETBOX_ROOT/conf/configuration.py (NETBOX_ROOT defaults to /opt/netbox);
# NETBOX_CONFIGURATION=<module> would override it. Static/media/scripts also live under NETBOX_ROOT.
export NETBOX_ROOT="$STATE"
cat >"$STATE/conf/configuration.py" <<EOF
# Written by test/netbox/up.sh; rewritten on every run.
ALLOWED_HOSTS = ['*']
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'netbox', 'USER': 'netbox', 'PASSWORD': '$PG_PASSWORD',
        'HOST': '127.0.0.1', 'PORT': '$PG_PORT', 'CONN_MAX_AGE': 300,
    }
}
REDIS = {
    'tasks': {'HOST': '127.0.0.1', 'PORT': $REDIS_PORT, 'DATABASE': 0, 'SSL': False},
    'caching': {'HOST': '127.0.0.1', 'PORT': $REDIS_PORT, 'DATABASE': 1, 'SSL': False},
}
SECRET_KEY = '$SECRET_KEY'
API_TOKEN_PEPPERS = {1: '$PEPPER'}  # needed for v2 tokens (nbt_<key>.<secret>)
PLUGINS = ['netbox_hedgehog']
DEBUG = False
TIME_ZONE = 'UTC'
CENSUS_REPORTING_ENABLED = False
ISOLATED_DEPLOYMENT = True  # no outbound requests (news feed, release check)
EOF
chmod 600 "$STATE/conf/configuration.py"

# --- background processes ------------------------------------------------------------------
# start NAME CMD...: run CMD in the background in its own session; pid in $RUN/NAME.pid, log in $LOG/NAME.log
start() {
    local name=$1
    shift
    pid_alive "$RUN/$name.pid" && return 0
    log "starting $name"
    setsid "$@" >"$LOG/$name.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/$name.pid"
}
start_web() {
    if pid_alive "$RUN/netbox.pid"; then
        HTTP_PORT=$(<"$RUN/http.port")
        return
    fi
    HTTP_PORT=$(free_port http)
    echo "$HTTP_PORT" >"$RUN/http.port"
    # --insecure: runserver serves /static/ from NetBox's package data itself (no collectstatic needed).
    start netbox "$VENV/bin/netbox" runserver "127.0.0.1:$HTTP_PORT" --noreload --insecure --skip-checks
}
# On an existing database the web server's slow start-up (~6 s of imports) overlaps the no-op migrate.
[[ ! -f $STATE/db-ready ]] || start_web

# --- migrate, schema dump, users and tokens --------------------------------------------------
log "bootstrap: migrate, users, tokens"
"$VENV/bin/python" "$HERE/bootstrap.py" "$STATE" "${DUMP_CMD[@]}" >"$LOG/bootstrap.log" 2>&1 ||
    { tail -n 30 "$LOG/bootstrap.log" >&2; die "bootstrap failed; see $LOG/bootstrap.log"; }
if ((${#DUMP_CMD[@]})); then
    mv "$DUMP.tmp.$$" "$DUMP"
    log "cached schema dump: $DUMP"
fi
touch "$STATE/db-ready"
exec 9>&- # venv and schema dump are in the cache now
TOKEN=$(<"$STATE/token-v2")

start_web
start rqworker "$VENV/bin/netbox" rqworker
URL="http://127.0.0.1:$HTTP_PORT"

deadline=$((SECONDS + ${HNP_NETBOX_TIMEOUT:-120}))
until curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL/api/status/" 2>/dev/null; do
    if ((SECONDS > deadline)) || ! pid_alive "$RUN/netbox.pid"; then
        tail -n 30 "$LOG/netbox.log" >&2
        die "NetBox did not answer $URL/api/status/ (log: $LOG/netbox.log)"
    fi
    sleep 0.5
done

# `export`: after `. $STATE/env`, child processes (smoke.sh, go test) see the variables too.
cat >"$STATE/env" <<EOF
export NETBOX_URL=$URL
export NETBOX_TOKEN=$TOKEN
export NETBOX_TOKEN_V1=$(<"$STATE/token-v1")
export NETBOX_TOKEN_RESTRICTED=$(<"$STATE/token-restricted")
export NETBOX_RESTRICTED_USER=hnp-sidecar-restricted
export NETBOX_ADMIN_USER=admin
export NETBOX_ADMIN_PASSWORD=$(<"$STATE/admin-password")
export NETBOX_PG_PORT=$PG_PORT
export NETBOX_REDIS_PORT=$REDIS_PORT
export NETBOX_VENV=$VENV
export NETBOX_ROOT=$STATE
export NETBOX_VERSION=$NETBOX_VERSION
EOF
chmod 600 "$STATE/env"
log "NetBox $NETBOX_VERSION is up in $((SECONDS - START))s; source $STATE/env"
cat "$STATE/env"
