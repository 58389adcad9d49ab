#!/usr/bin/env bash
# Create the virtualenv and install esign with its development tools. Idempotent.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "esign needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  # Debian and Ubuntu ship venv separately.
  as_root apt-get install -y -q python3-venv || { as_root apt-get update -q && as_root apt-get install -y -q python3-venv; }
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e '.[dev]'
