#!/usr/bin/env bash
# Generates development secrets once into .data/dev.env (KEY=value lines, ignored by git) and
# prints `export` lines for every variable the caller's environment does not already set.
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=.data/dev.env
mkdir -p .data
touch "$FILE"
chmod 600 "$FILE"
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ensure() { # NAME VALUE: append NAME=VALUE unless the file already has NAME
    grep -q "^$1=" "$FILE" || echo "$1=$2" >>"$FILE"
}
ensure GITHUB_WEBHOOK_SECRET "$(secret)"
ensure JWT_SIGNING_KEY "$(secret)"
ensure ENCRYPTION_KEYS "k1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
ensure LOG_FORMAT pretty
while IFS= read -r line; do
    case "$line" in '' | \#*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    if [ -z "${!key:-}" ]; then
        printf 'export %s=%q\n' "$key" "$value"
    fi
done <"$FILE"
