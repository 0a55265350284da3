#!/usr/bin/env bash
# The generated-client test: generates a Python client from the committed api/openapi.json with
# openapi-python-client (pinned, installed from PyPI into .data/client-venv) into a scratch directory
# (never committed) and runs the day-one flow (scripts/client_flow.py) through it against a running
# API and worker. scripts/contract.sh calls it against the binaries it starts.
#   scripts/client.sh BASE_URL
# The API must allow the probe's loopback target: OUTBOUND_ALLOWED_CIDRS containing 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

GENERATOR_VERSION=0.29.1
venv=.data/client-venv
base=${1:?usage: scripts/client.sh BASE_URL}

scripts/pyvenv.sh "$venv" openapi-python-client "$GENERATOR_VERSION" openapi-python-client

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Operations the generator cannot express are skipped with a warning; list them, and fail on errors.
if ! "$venv/bin/openapi-python-client" generate --path api/openapi.json --meta none \
    --output-path "$scratch/repopal_client" >"$scratch/generate.log" 2>&1; then
    cat "$scratch/generate.log" >&2
    echo "client: openapi-python-client could not generate a client from api/openapi.json" >&2
    exit 1
fi
skipped=$(grep -c "Endpoint will not be generated" "$scratch/generate.log" || true)
echo "client: generated repopal_client with openapi-python-client $GENERATOR_VERSION ($skipped operations skipped by the generator)"
grep "Endpoint will not be generated" "$scratch/generate.log" | sed 's/^WARNING parsing /client:   skipped /; s/ within .*//' || true
"$venv/bin/python" scripts/client_flow.py "$base" "$scratch"
