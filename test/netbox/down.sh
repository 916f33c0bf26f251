#!/usr/bin/env bash
# Stop what up.sh started (by pid file; PostgreSQL with pg_ctl). Leaves the cache alone.
# usage: down.sh [--purge]   (--purge: also delete the state dir $HNP_NETBOX_STATE)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PURGE=0
case "${1:-}" in
    --purge) PURGE=1 ;;
    "") ;;
    *) die "usage: down.sh [--purge]" ;;
esac

# signal SIG NAME: send SIG to the process in $RUN/NAME.pid and to its process group (up.sh gave it its own).
signal() {
    local pid
    pid_alive "$RUN/$2.pid" || return 0
    pid=$(<"$RUN/$2.pid")
    if [[ $(ps -o pgid= -p "$pid" | tr -d ' ') == "$pid" ]]; then
        kill "-$1" -- "-$pid" 2>/dev/null || true
    else
        kill "-$1" "$pid" 2>/dev/null || true
    fi
}

# stop NAME...: TERM them all, wait up to 10 s, then KILL what is left.
stop() {
    local name alive
    for name in "$@"; do
        pid_alive "$RUN/$name.pid" && log "stopping $name (pid $(<"$RUN/$name.pid"))"
        signal TERM "$name"
    done
    for _ in $(seq 100); do
        alive=0
        for name in "$@"; do pid_alive "$RUN/$name.pid" && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for name in "$@"; do
        pid_alive "$RUN/$name.pid" && log "$name did not stop, killing"
        signal KILL "$name"
        rm -f "$RUN/$name.pid"
    done
}

if [[ -d $STATE ]]; then
    stop netbox rqworker
    stop redis # after the worker, which talks to Redis while it shuts down
    if pg_running; then
        log "stopping PostgreSQL"
        as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m fast -w stop >/dev/null
    fi
fi
if ((PURGE)); then
    log "removing $STATE"
    rm -rf "$STATE"
fi
log "stopped"
