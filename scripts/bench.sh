#!/usr/bin/env bash
# `make bench`: release build, local PostgreSQL, graphile-worker 0.17 from the npm registry (for the
# side-by-side queue figures; node and npm come from Debian when missing), then every scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
db_env=$(scripts/db.sh env)
eval "$db_env"
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-$DATABASE_URL}
unset DATABASE_URL
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "bench: installing node and npm from Debian" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f bench/graphile/node_modules/graphile-worker/package.json ]; then
    echo "bench: installing graphile-worker into bench/graphile/node_modules" >&2
    (cd bench/graphile && npm ci --no-audit --no-fund --loglevel=error)
fi
cargo build --release --bins
exec target/release/repopal-bench
