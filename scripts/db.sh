#!/usr/bin/env bash
# Provides a PostgreSQL server for development and tests and prints `export` lines for it.
#
# With DATABASE_URL set, prints nothing new: that server is used as it is.
# Otherwise starts (and on first use creates) a project-local cluster from the OS binaries in
# .data/pg on 127.0.0.1:${REPOPAL_PG_PORT:-55432}, installing the `postgresql` package when
# `initdb` is missing, and prints DATABASE_URL for its `repopal` database.
#   scripts/db.sh env     print export lines (default)
#   scripts/db.sh bin     make sure the PostgreSQL binaries are installed; print REPOPAL_PG_BIN
#   scripts/db.sh stop    stop the project-local cluster
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${REPOPAL_PG_PORT:-55432}
DATA=${REPOPAL_PG_DATA:-$ROOT/.data/pg}
log() { echo "db: $*" >&2; }

find_pg_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_pg() {
    log "initdb not found; installing the postgresql package"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a PostgreSQL binary as an unprivileged user: `postgres` when we are root (initdb and
# postgres refuse to run as root), otherwise the current user.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_bin() {
    PG_BIN=$(find_pg_bin || true)
    if [ -z "${PG_BIN:-}" ]; then
        install_pg
        PG_BIN=$(find_pg_bin)
    fi
}

# The data directory actually in use (see the fallback below), remembered for `stop`.
data_dir_file() { echo "$ROOT/.data/pg-dir"; }

ensure_cluster() {
    ensure_bin
    if [ "$(id -u)" -eq 0 ]; then
        mkdir -p "$DATA"
        chown postgres: "$DATA"
        # The postgres user must reach the data directory; fall back to /var/tmp when the
        # checkout sits under a private home directory.
        if ! runuser -u postgres -- test -w "$DATA"; then
            DATA=/var/tmp/repopal-$(echo "$ROOT" | md5sum | cut -c1-8)/pg
            mkdir -p "$DATA" && chown postgres: "$DATA" "$(dirname "$DATA")"
            log "project directory not reachable by user postgres; using $DATA"
        fi
    else
        mkdir -p "$DATA"
    fi
    chmod 700 "$DATA"
    mkdir -p "$ROOT/.data" && echo "$DATA" >"$(data_dir_file)"
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "creating cluster in $DATA"
        as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
            || as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
        cat >>"$DATA/postgresql.conf" <<CONF
# RepoPal development cluster
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 300
shared_buffers = 256MB
CONF
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "starting PostgreSQL on 127.0.0.1:$PORT"
        as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null
    fi
    if ! as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'repopal'" | grep -q 1; then
        as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE repopal" >/dev/null
    fi
}

case "${1:-env}" in
    env)
        if [ -n "${DATABASE_URL:-}" ]; then
            log "using DATABASE_URL from the environment"
            PG_BIN=$(find_pg_bin || true)
        else
            ensure_cluster
            echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/repopal"
        fi
        if [ -n "${PG_BIN:-}" ]; then echo "export REPOPAL_PG_BIN=$PG_BIN"; fi
        ;;
    bin)
        ensure_bin
        echo "export REPOPAL_PG_BIN=$PG_BIN"
        ;;
    stop)
        PG_BIN=$(find_pg_bin || true)
        [ -f "$(data_dir_file)" ] && DATA=$(cat "$(data_dir_file)")
        if [ -n "${PG_BIN:-}" ] && [ -f "$DATA/PG_VERSION" ]; then
            as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast stop || true
        fi
        ;;
    *)
        echo "usage: $0 [env|stop]" >&2
        exit 2
        ;;
esac
