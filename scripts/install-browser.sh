#!/usr/bin/env bash
# Install headless Chromium, its WebDriver and a CJK font (Debian packages) for the UI browser test.
# Idempotent: does nothing when /usr/bin/chromium, /usr/bin/chromedriver and a CJK font are present.
# Needs root (CI and sessions run as root) and the Debian package mirror; no browser download.
set -euo pipefail

have_font() { command -v fc-list >/dev/null && fc-list :lang=zh-cn family | grep -q .; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && have_font; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser.sh: needs root to apt-get install chromium chromium-driver" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "==> apt-get install chromium chromium-driver fonts-wqy-microhei"
apt-get update -qq
# The CJK font makes the screenshots readable (Chinese labels render as boxes without one).
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-wqy-microhei fontconfig >/dev/null
/usr/bin/chromium --version
