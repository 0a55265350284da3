#!/usr/bin/env bash
# `make test`: the same database provisioning as `make run`, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Landed migrations are immutable: fail before building if one changed (see README, Layout).
scripts/migrations.sh check
db_env=$(scripts/db.sh env)
eval "$db_env"
# SQL is checked at build time against common/.sqlx; fail when that data no longer matches the migrations.
scripts/sqlx.sh check
# The outage tests start private clusters from the PostgreSQL binaries, even with DATABASE_URL set.
pg_bin=$(scripts/db.sh bin)
eval "$pg_bin"
# The console's browser test drives Debian's headless Chromium through chromedriver.
scripts/browser.sh
# Tests create (and drop) their own databases on this server; point them at its admin database.
export TEST_DATABASE_URL=${TEST_DATABASE_URL:-$DATABASE_URL}
unset DATABASE_URL
# The crash and outage tests start the real binaries.
cargo build --bins
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
# The generated-client test and contract fuzzing against the real binaries (README, "Contract fuzzing
# and the generated client"); CONTRACT_SKIP=1 leaves them out of a quick local run.
if [ "${CONTRACT_SKIP:-0}" != 1 ]; then
    DATABASE_URL=$TEST_DATABASE_URL scripts/contract.sh
fi
