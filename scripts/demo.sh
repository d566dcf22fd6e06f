#!/usr/bin/env bash
# The main job: set everything up from nothing and run a demonstration year.
# Usage: scripts/demo.sh [--year 2025]
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
if [ ! -f "$AIRFLOW_HOME/.migrated" ] || [ "$AIRFLOW_HOME/.migrated" -ot requirements.lock ]; then
  echo "==> airflow db migrate ($AIRFLOW_HOME)"
  airflow db migrate >/dev/null
  touch "$AIRFLOW_HOME/.migrated"
fi
# Dovecot (Debian package): the submissions mailbox some counties answer to; skipped when present.
"$ROOT/scripts/apt-install.sh" --have /usr/sbin/dovecot --have /usr/lib/dovecot/imap dovecot-imapd \
  || echo "warning: Dovecot not installed; the demo runs without e-mailed submissions"
exec python scripts/demo.py "$@"
