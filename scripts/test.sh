#!/usr/bin/env bash
# The whole test suite: lint, then pytest (unit, DagBag, end-to-end on SQLite and PostgreSQL).
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
# Headless Chromium and its WebDriver (Debian packages) for the reviewers' UI test, with a CJK font
# (Chinese labels render as boxes in the screenshots without one); skipped when present.
"$ROOT/scripts/apt-install.sh" --have /usr/bin/chromium --have /usr/bin/chromedriver \
  chromium chromium-driver fonts-wqy-microhei fontconfig \
  || echo "warning: Chromium not installed; the browser test will say why"
# Dovecot (Debian package) for the mail-intake tests' real IMAP server; skipped when present.
"$ROOT/scripts/apt-install.sh" --have /usr/sbin/dovecot --have /usr/lib/dovecot/imap dovecot-imapd \
  || echo "warning: Dovecot not installed; the mail-intake tests will say why"
echo "==> ruff"
ruff check .
ruff format --check --quiet include dags plugins tests scripts || { echo "run: .venv/bin/ruff format"; exit 1; }
echo "==> pytest"
exec python -m pytest "$@"
