#!/usr/bin/env bash
# `make run`: database, secrets, build, migrate, then the API and two workers until Ctrl-C/SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/db.sh env)"
eval "$(scripts/dev-env.sh)"
export PORT=${PORT:-8080}
WORKERS=${WORKERS:-2}

cargo build --bins
BIN=target/debug
"$BIN/repopal-api" migrate

pids=()
stop() {
    trap - INT TERM
    echo "run: stopping (draining workers)..." >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    echo "run: stopped" >&2
    exit 0
}
trap stop INT TERM

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
    Metrics   http://localhost:$PORT/metrics
    Health    http://localhost:$PORT/healthz   http://localhost:$PORT/readyz

MSG
# If any process exits on its own, stop the rest.
wait -n "${pids[@]}" || true
stop
