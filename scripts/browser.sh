#!/usr/bin/env bash
# Makes sure Debian's `chromium` and `chromium-driver` are installed for the console's browser
# test (as scripts/db.sh installs PostgreSQL); nothing is downloaded by a test tool.
set -euo pipefail
log() { echo "browser: $*" >&2; }
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
log "chromium or chromedriver not found; installing the chromium and chromium-driver packages"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-dejavu-core >&2
