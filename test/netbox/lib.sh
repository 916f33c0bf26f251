# shellcheck shell=bash disable=SC2034
# Shared by up.sh and down.sh: paths and small helpers. Source it, do not run it.

NETBOX_VERSION="${HNP_NETBOX_VERSION:-4.7.3}"
STATE="$(realpath -m "${HNP_NETBOX_STATE:-/tmp/hnp-netbox}")"
CACHE="${HNP_CACHE_DIR:-$HOME/.cache/hnp-sidecar}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PGBIN=/usr/lib/postgresql/15/bin
PG="$STATE/pg"          # owned by the postgres OS user when running as root: data/, run/ (socket), postgres.log
RUN="$STATE/run"        # pid files and ports
LOG="$STATE/log"

log() { printf '[netbox %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[netbox] ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command as the postgres OS user when we are root (initdb and postgres refuse to run as root).
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# pid_alive FILE: true if FILE holds the pid of a live process (a zombie waiting to be reaped is not).
pid_alive() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid") != Z* ]]
}

pg_running() {
    [[ -f $PG/data/postmaster.pid ]] && as_pg "$PGBIN/pg_ctl" -D "$PG/data" status >/dev/null 2>&1
}
