#!/usr/bin/env bash
# `make run`: database, secrets, build, migrate, then the API and two workers until Ctrl-C/SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
db_env=$(scripts/db.sh env)
eval "$db_env"
dev_env=$(scripts/dev-env.sh)
eval "$dev_env"
export PORT=${PORT:-8080}
# /metrics is not public: locally it gets its own loopback listener unless you chose otherwise.
if [ -z "${METRICS_TOKEN:-}" ]; then export METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:9100}; fi
if [ -n "${METRICS_ADDR:-}" ]; then
    metrics_url="http://${METRICS_ADDR}/metrics"
else
    metrics_url="http://localhost:$PORT/metrics (Authorization: Bearer \$METRICS_TOKEN)"
fi
WORKERS=${WORKERS:-2}

cargo build --bins
BIN=target/debug
"$BIN/repopal-api" migrate

pids=()
stop() {
    local code=${1:-0}
    trap - INT TERM
    echo "run: stopping (draining workers)..." >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    echo "run: stopped" >&2
    exit "$code"
}
trap 'stop 0' INT TERM

"$BIN/repopal-api" serve &
pids+=($!)
for _ in $(seq 1 "$WORKERS"); do
    "$BIN/repopal-worker" &
    pids+=($!)
done

cat >&2 <<MSG

  RepoPal is running (API + $WORKERS workers). Ctrl-C stops everything.
    API       http://localhost:$PORT
    Docs      http://localhost:$PORT/docs
    OpenAPI   http://localhost:$PORT/openapi.json
    Metrics   $metrics_url
    Health    http://localhost:$PORT/healthz   http://localhost:$PORT/readyz

MSG
# If any process exits on its own (e.g. the port is taken), stop the rest and report failure.
code=0
wait -n "${pids[@]}" || code=$?
echo "run: a process exited on its own (status $code)" >&2
stop 1
