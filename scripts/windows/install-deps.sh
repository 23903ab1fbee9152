#!/usr/bin/env bash
# Installs the Debian 12 packages the Windows cross-build and its Wine test run need, and the
# deb-src entry that scripts/windows/build-deps.sh uses for `apt-get source`. Idempotent: does
# nothing (no network) when everything is already there.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

PACKAGES=(
  cmake ninja-build ccache pkg-config file xz-utils gcc make
  # posix thread model: std::thread/std::mutex work (the win32 flavour lacks them in GCC 12)
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools
  wine wine64
  # apt-get source / dpkg-source -x, SQLite amalgamation (tclsh), RE2 table generators
  dpkg-dev tcl unicode-data perl python3 python3-six
  # Boost headers for the Windows build are taken from here (see build-deps.sh)
  libboost1.74-dev
  # the MSI: wixl builds it, msiinfo/msibuild check and fix it up (scripts/windows/msi.sh)
  wixl msitools
)

# Source packages come from the same archive as the binary ones; the entry lives in its own file
# so that the machine's own sources files stay untouched.
SRC_LIST=/etc/apt/sources.list.d/tier0watch-deb-src.sources
need_update=0
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null &&
  ! grep -qs '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; then
  $SUDO tee "$SRC_LIST" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi
# An entry present but never fetched (fresh machine, or lists cleaned) also needs an update.
if ! compgen -G '/var/lib/apt/lists/*_source_Sources*' >/dev/null; then
  need_update=1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ "$need_update" -eq 1 ]; then
  $SUDO apt-get update
fi
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
