#!/usr/bin/env bash
# Install Debian's Dovecot IMAP server for the mail-intake tests (tests/imap_server.py starts it).
# Idempotent: does nothing when /usr/sbin/dovecot and the imap service are present.
# Needs root (CI and sessions run as root) and the Debian package mirror.
set -euo pipefail

if [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-dovecot.sh: needs root to apt-get install dovecot-imapd" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "==> apt-get install dovecot-imapd"
apt-get update -qq
# The package's own service stays off (no init system here); the tests start their own server.
apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
/usr/sbin/dovecot --version
