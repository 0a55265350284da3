#!/usr/bin/env bash
# `make bench`: release build, local PostgreSQL, then the queue benchmark (prints its figures).
set -euo pipefail
cd "$(dirname "$0")/.."
db_env=$(scripts/db.sh env)
eval "$db_env"
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-$DATABASE_URL}
unset DATABASE_URL
cargo build --release --bins
exec target/release/repopal-bench
