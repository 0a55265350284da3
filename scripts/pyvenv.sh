#!/usr/bin/env bash
# Makes (once) a Python virtualenv holding one pinned package from PyPI; the test tools use it.
#   scripts/pyvenv.sh DIR PACKAGE VERSION COMMAND   (COMMAND --version must print VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1 package=$2 version=$3 command=$4
if "$venv/bin/$command" --version 2>/dev/null | grep -q "$version"; then
    exit 0
fi
python3 -m venv "$venv" 2>/dev/null || {
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=sudo; fi
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
}
"$venv/bin/pip" install -q "$package==$version"
