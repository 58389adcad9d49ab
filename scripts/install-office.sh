#!/usr/bin/env bash
# Install what esign's document converter needs (src/esign/pdf/convert.py): LibreOffice headless
# for Word/RTF/ODT/text (writer) and Excel (calc), python3-uno so Debian's /usr/bin/python3 can
# drive a warm soffice, and the metric-compatible fonts (Calibri, Cambria, Arial, Times
# substitutes) without which LibreOffice lays Word files out differently and anchor tags move.
# Idempotent: a fast no-op (one dpkg-query) when everything is already installed.
set -euo pipefail

PACKAGES=(
  libreoffice-writer-nogui
  libreoffice-calc-nogui
  python3-uno
  fonts-crosextra-carlito
  fonts-crosextra-caladea
  fonts-liberation2
)

missing() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || echo "$p"
  done
}

ready() {
  [[ -z "$(missing)" ]] && command -v soffice >/dev/null 2>&1 \
    && /usr/bin/python3 -c 'import uno' >/dev/null 2>&1
}

if [[ -z "$(missing)" ]]; then
  echo "install-office: already installed ($(command -v soffice || echo 'soffice not on PATH'))"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-office: need root or sudo" >&2; exit 1; }
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends keeps out the GUI, Java and the help packs (≈265 MB instead of ≈1 GB).
apt_install() {
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
}

# Try without refreshing the index first (fast when the lists are current); refresh only when a
# package is unknown or the install fails.
if ! apt_install; then
  echo "install-office: install failed, running apt-get update and retrying" >&2
  "${SUDO[@]}" apt-get update -q
  apt_install
fi

if ! ready; then
  echo "install-office: packages installed but soffice or python3-uno is not usable" >&2
  exit 1
fi
echo "install-office: installed ($(command -v soffice))"
