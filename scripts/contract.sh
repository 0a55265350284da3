#!/usr/bin/env bash
# Contract fuzzing: starts the real API and a worker on a scratch database, seeds an organisation with
# an admin, then runs schemathesis (pinned, installed from PyPI into .data/contract-venv) against
# /openapi.json twice: as the org admin, and without credentials.
#   scripts/contract.sh [extra schemathesis options]
# Environment: CONTRACT_EXAMPLES (default 50 per operation), CONTRACT_PORT (default 18089).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples=${CONTRACT_EXAMPLES:-50}
port=${CONTRACT_PORT:-18089}
venv=.data/contract-venv

if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv" 2>/dev/null || {
        apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    }
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

eval "$(scripts/db.sh env)"
psql_bin=${REPOPAL_PG_BIN:+$REPOPAL_PG_BIN/}psql
server_url=$DATABASE_URL
scratch=repopal_contract_$$
export DATABASE_URL="${server_url%/*}/$scratch"
"$psql_bin" -qX -v ON_ERROR_STOP=1 "$server_url" -c "CREATE DATABASE $scratch" >/dev/null

eval "$(scripts/dev-env.sh)"
export PORT=$port PUBLIC_URL=http://127.0.0.1:$port LOG_FORMAT=json RUST_LOG=warn
# Registration and login are rate limited per address; the fuzzer is one address.
export AUTH_RATE_LIMIT_PER_MINUTE=${AUTH_RATE_LIMIT_PER_MINUTE:-100000}
unset METRICS_ADDR
export METRICS_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d "\n")

cargo build --quiet --bins
logs=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$psql_bin" -qX "$server_url" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
target/debug/repopal-api migrate >"$logs/migrate.log" 2>&1
target/debug/repopal-api serve >"$logs/api.log" 2>&1 &
pids+=($!)
target/debug/repopal-worker >"$logs/worker.log" 2>&1 &
pids+=($!)

base=http://127.0.0.1:$port
ready=false
for _ in $(seq 1 150); do
    if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=true; break; fi
    sleep 0.2
done
if [ "$ready" != true ]; then
    echo "contract: the API did not become ready:" >&2
    tail -n 20 "$logs/migrate.log" "$logs/api.log" >&2
    exit 1
fi

read -r token org_id < <("$venv/bin/python" scripts/contract_seed.py "$base")
# Organisation-scoped operations are fuzzed inside the seeded organisation, not only against random ids.
cat >"$logs/schemathesis.toml" <<TOML
[parameters]
"path.org_id" = "$org_id"
TOML

st=("$venv/bin/st" --config-file "$logs/schemathesis.toml" run "$base/openapi.json" --url "$base" --checks all --max-examples "$examples"
    --workers 2 --suppress-health-check all --request-timeout 20)
status=0
echo "contract: as the organisation's admin"
# Signing out would end the session the rest of the run uses.
"${st[@]}" -H "Authorization: Bearer $token" --exclude-path /api/v1/auth/logout "$@" || status=1
echo "contract: without credentials"
"${st[@]}" "$@" || status=1
if grep -q '"level":"ERROR"' "$logs/api.log"; then
    echo "contract: the API logged errors:" >&2
    grep '"level":"ERROR"' "$logs/api.log" | head -20 >&2
fi
exit $status
