#!/usr/bin/env bash
# Contract fuzzing: starts the real API and a worker on a scratch database, seeds an organisation with
# an admin, then runs schemathesis (pinned, installed from PyPI into .data/contract-venv) against
# /openapi.json twice at the same time: as the org admin, and without credentials. Settings, and the
# reason for each relaxed check, are in scripts/contract.toml. Fails on any failure of either run or
# any ERROR the API logged; prints operations, cases and duration.
#   scripts/contract.sh [extra schemathesis options]
# Environment: CONTRACT_EXAMPLES (default 50 per operation), CONTRACT_PORT (default 18089),
# CONTRACT_WORKERS (schemathesis workers per run, default 1: with threads, hypothesis' lambda
# descriptions hit CPython 3.11's "AST constructor recursion depth mismatch"; the two runs already
# keep both cores busy).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
examples=${CONTRACT_EXAMPLES:-50}
port=${CONTRACT_PORT:-18089}
workers=${CONTRACT_WORKERS:-1}
started=$(date +%s)
venv=.data/contract-venv

scripts/pyvenv.sh "$venv" schemathesis "$SCHEMATHESIS_VERSION" st

eval "$(scripts/db.sh env)"
psql_bin=${REPOPAL_PG_BIN:+$REPOPAL_PG_BIN/}psql
server_url=$DATABASE_URL
scratch=repopal_contract_$$
export DATABASE_URL="${server_url%/*}/$scratch"
"$psql_bin" -qX -v ON_ERROR_STOP=1 "$server_url" -c "CREATE DATABASE $scratch" >/dev/null

eval "$(scripts/dev-env.sh)"
export PORT=$port PUBLIC_URL=http://127.0.0.1:$port LOG_FORMAT=json RUST_LOG=warn
# Registration and login are rate limited per address; the fuzzer is one address.
# The client test's HTTP probe targets a page it serves on 127.0.0.1.
export OUTBOUND_ALLOWED_CIDRS=127.0.0.1/32
export AUTH_RATE_LIMIT_PER_MINUTE=${AUTH_RATE_LIMIT_PER_MINUTE:-100000}
# So is the failed-login lockout per account; the fuzzer fails logins by the thousand.
export LOGIN_LOCKOUT_THRESHOLD=${LOGIN_LOCKOUT_THRESHOLD:-1000000}
# A configured (but unreachable) GitHub OAuth App, so the authorize routes answer their redirect
# instead of 400 `oauth_not_configured`; no request leaves this machine.
export GITHUB_OAUTH_CLIENT_ID=contract-fuzz GITHUB_OAUTH_CLIENT_SECRET=contract-fuzz-not-a-real-secret
export GITHUB_API_URL=http://127.0.0.1:9 GITHUB_WEB_URL=http://127.0.0.1:9
# Likewise the GitHub App's install link and Slack's "Add to Slack".
export GITHUB_APP_SLUG=contract-fuzz SLACK_CLIENT_ID=contract-fuzz SLACK_CLIENT_SECRET=contract-fuzz-not-a-real-secret
export SLACK_API_URL=http://127.0.0.1:9 SLACK_AUTHORIZE_URL=http://127.0.0.1:9/oauth/v2/authorize
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

read -r token org_id logout_token revoke_token < <("$venv/bin/python" scripts/contract_seed.py "$base")
# Organisation-scoped operations are fuzzed inside the seeded organisation, not only against random ids.
{
    cat scripts/contract.toml
    printf '\n[parameters]\n"path.org_id" = "%s"\n' "$org_id"
} >"$logs/schemathesis.toml"

# The generated client's day-one flow, on the fresh database.
client_status=0
scripts/client.sh "$base" || client_status=1

st=("$venv/bin/st" --config-file "$logs/schemathesis.toml" run "$base/openapi.json" --url "$base"
    --max-examples "$examples" --workers "$workers" --suppress-health-check all --request-timeout 20 --no-color)
# Signing out, or revoking a session whose id the fuzzer read from `GET /auth/sessions`, ends the
# admin's session, and deleting the seeded organisation leaves nothing to fuzz inside it: the main
# admin run leaves those three out, and each runs afterwards (signing out and revoking with a session
# of their own).
session_enders=(--exclude-operation-id auth_logout --exclude-operation-id sessions_delete --exclude-operation-id orgs_delete)
# Both main runs at once (the server has cores to spare while schemathesis generates).
"${st[@]}" -H "Authorization: Bearer $token" "${session_enders[@]}" "$@" >"$logs/admin.txt" 2>&1 &
admin=$!
"${st[@]}" "$@" >"$logs/anonymous.txt" 2>&1 &
anonymous=$!
status=0
wait $admin || status=1
wait $anonymous || status=1
"${st[@]}" -H "Authorization: Bearer $logout_token" --include-operation-id auth_logout "$@" >"$logs/admin-logout.txt" 2>&1 || status=1
"${st[@]}" -H "Authorization: Bearer $revoke_token" --include-operation-id sessions_delete "$@" >"$logs/admin-sessions-delete.txt" 2>&1 || status=1
"${st[@]}" -H "Authorization: Bearer $token" --include-operation-id orgs_delete "$@" >"$logs/admin-orgs-delete.txt" 2>&1 || status=1
for run in admin anonymous admin-logout admin-sessions-delete admin-orgs-delete; do
    echo "contract: ---- $run ----"
    if [ $status -ne 0 ]; then cat "$logs/$run.txt"; else sed -n '/SUMMARY/,$p' "$logs/$run.txt"; fi
done
if grep -q '"level":"ERROR"' "$logs/api.log"; then
    echo "contract: the API logged errors:" >&2
    grep '"level":"ERROR"' "$logs/api.log" | head -20 >&2
    status=1
fi
runs=("$logs/admin.txt" "$logs/admin-logout.txt" "$logs/admin-sessions-delete.txt" "$logs/admin-orgs-delete.txt" "$logs/anonymous.txt")
admin_ops=$(grep -ho 'Operations: *[0-9]* selected' "${runs[@]:0:4}" | awk '{n += $2} END {print n + 0}')
anonymous_ops=$(grep -ho 'Operations: *[0-9]* selected' "${runs[4]}" | awk '{n += $2} END {print n + 0}')
cases=$(grep -ho '[0-9]* generated' "${runs[@]}" | awk '{n += $1} END {print n + 0}')
[ $client_status -eq 0 ] || status=1
elapsed=$(($(date +%s) - started))
verdict=passed
[ $status -eq 0 ] || verdict=FAILED
echo "contract: $admin_ops operations as the org admin, $anonymous_ops without credentials; $cases cases in $elapsed s ($examples examples per operation); generated client: $([ $client_status -eq 0 ] && echo passed || echo FAILED); $verdict"
exit $status
