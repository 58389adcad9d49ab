#!/usr/bin/env bash
# Install the Mono toolchain used by the .NET wire-compatibility test (tests/compat):
# mcs to compile the vendor-style C# client, mono to run it, and System.Web.Extensions for
# JavaScriptSerializer. Idempotent: exits at once when everything is already there.
set -euo pipefail

# mono-mcs: the compiler; mono-runtime: the `mono` command; the -cil packages bring the
# assemblies the client references (System.dll for HttpWebRequest, System.Core, and
# System.Web.Extensions for JavaScriptSerializer).
PACKAGES=(
  mono-mcs
  mono-runtime
  libmono-system4.0-cil
  libmono-system-core4.0-cil
  libmono-system-web-extensions4.0-cil
)

find_web_extensions() {
  # mcs resolves -r:System.Web.Extensions.dll from the 4.5 profile directory.
  local f
  for f in /usr/lib/mono/4.5/System.Web.Extensions.dll \
           /usr/lib/mono/4.5-api/System.Web.Extensions.dll; do
    [[ -e "$f" ]] && { echo "$f"; return 0; }
  done
  return 1
}

installed() {
  command -v mcs >/dev/null 2>&1 && command -v mono >/dev/null 2>&1 \
    && find_web_extensions >/dev/null
}

if installed; then
  echo "install-mono: already installed ($(command -v mcs), $(find_web_extensions))"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-mono: need root or sudo" >&2; exit 1; }
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

# Try without refreshing the index first (fast on a machine whose lists are current);
# refresh only when a package is unknown or the install fails.
if ! apt_install; then
  echo "install-mono: install failed, running apt-get update and retrying" >&2
  "${SUDO[@]}" apt-get update
  apt_install
fi

if ! installed; then
  echo "install-mono: mono installed but mcs/mono/System.Web.Extensions.dll not found" >&2
  exit 1
fi
echo "install-mono: installed ($(command -v mcs), $(find_web_extensions))"
