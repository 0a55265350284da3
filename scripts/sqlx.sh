#!/usr/bin/env bash
# RepoPal's SQL is checked at build time: `sqlx::query!`-family macros in common/src/repo/ are compiled
# against the offline data in common/.sqlx/ (SQLX_OFFLINE=true in .cargo/config.toml), so a query that
# no longer matches that data fails `cargo build`. This script keeps the data true to the migrations:
#   scripts/sqlx.sh prepare   rewrites common/.sqlx/ from a fresh database holding every migration
#   scripts/sqlx.sh check     fails, naming the queries, when common/.sqlx/ differs from what prepare
#                             would write (a migration changed a column's type or nullability, a query
#                             was added without its data, or data is left for a query that is gone)
# Both compile repopal-common once with the macros online against a scratch database on the server of
# `scripts/db.sh env` (DATABASE_URL when set), which they drop afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=${1:-}
case "$cmd" in
    prepare | check) ;;
    *)
        echo "usage: scripts/sqlx.sh prepare|check" >&2
        exit 2
        ;;
esac

eval "$(scripts/db.sh env)"
psql_bin=${REPOPAL_PG_BIN:+$REPOPAL_PG_BIN/}psql
server_url=$DATABASE_URL
scratch=repopal_sqlx_$$
scratch_url="${server_url%/*}/$scratch"
out=$(mktemp -d)
cleanup() {
    "$psql_bin" -qX "$server_url" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$out"
}
trap cleanup EXIT

"$psql_bin" -qX -v ON_ERROR_STOP=1 "$server_url" -c "CREATE DATABASE $scratch" >/dev/null

# The queue library's schema first (as common::db::migrate applies it), then RepoPal's migrations.
apalis_version=$(awk '/^name = "apalis-postgres"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
cargo fetch --locked --quiet
apalis_dir=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/apalis-postgres-"$apalis_version" | head -n1)
{
    echo "CREATE SCHEMA IF NOT EXISTS apalis;"
    for f in "$apalis_dir"/migrations/*.sql migrations/*.sql; do
        echo "\\i $f"
    done
} | PGOPTIONS="-c client_min_messages=warning" "$psql_bin" -qX -v ON_ERROR_STOP=1 "$scratch_url" >/dev/null

# The macros re-run only when the crate recompiles; its fingerprint ignores DATABASE_URL.
touch common/src/lib.rs
SQLX_OFFLINE=false DATABASE_URL=$scratch_url SQLX_OFFLINE_DIR=$out \
    cargo build --quiet -p repopal-common
touch common/src/lib.rs
# On a fresh target/ the queue library compiles in that same build with the macros online and writes its
# own query data into $out too; it is not RepoPal's (apalis-postgres ships it in its .sqlx/).
for f in "$apalis_dir"/.sqlx/query-*.json; do
    rm -f "$out/${f##*/}"
done

if [ "$cmd" = prepare ]; then
    rm -rf common/.sqlx
    mkdir -p common/.sqlx
    cp "$out"/query-*.json common/.sqlx/ 2>/dev/null || true
    echo "sqlx: $(ls common/.sqlx | wc -l) queries in common/.sqlx"
    exit 0
fi

if ! diff -r -q common/.sqlx "$out" >/dev/null 2>&1; then
    echo "sqlx: common/.sqlx is stale; run scripts/sqlx.sh prepare and commit the result:" >&2
    diff -r -q common/.sqlx "$out" | sed "s#$out#(fresh)#" >&2 || true
    exit 1
fi
echo "sqlx: common/.sqlx matches the migrations ($(ls "$out" | wc -l) queries)"
