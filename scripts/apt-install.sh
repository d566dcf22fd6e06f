#!/usr/bin/env bash
# Install Debian packages with apt-get, once: the tools the tests and the demo use that are no Python
# packages (headless Chromium for the UI browser test, Dovecot for the mail-intake tests and the demo).
# Usage: scripts/apt-install.sh [--have PATH]... PACKAGE...
# Idempotent: does nothing when every --have PATH is an executable and every PACKAGE is installed
# (dpkg; without dpkg, the executables alone). Needs root (CI and sessions run as root) and the Debian
# package mirror; after installing, prints the first --have's version.
set -euo pipefail

have=()
while [ $# -gt 0 ]; do
  case "$1" in
    --have) have+=("$2"); shift 2 ;;
    --have=*) have+=("${1#--have=}"); shift ;;
    --) shift; break ;;
    -*) echo "apt-install.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: scripts/apt-install.sh [--have PATH]... PACKAGE..." >&2
  exit 2
fi

present() {
  local path
  for path in "${have[@]}"; do [ -x "$path" ] || return 1; done
}
installed() {
  local package
  command -v dpkg-query >/dev/null || return 0
  for package in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || return 1
  done
}

if present && installed "$@"; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "apt-install.sh: needs root to apt-get install $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "==> apt-get install $*"
apt-get update -qq
# A package's own service stays off (no init system here); the tests start their own servers.
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
if [ ${#have[@]} -gt 0 ]; then
  "${have[0]}" --version
fi
