#!/usr/bin/env bash
# Create .venv and install exactly requirements.lock (skipped when already in sync).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
stamp=".venv/.lock-$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing requirements.lock (first run takes a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
  VIRTUAL_ENV="$ROOT/.venv" .venv/bin/uv pip sync --quiet requirements.lock
  VIRTUAL_ENV="$ROOT/.venv" .venv/bin/uv pip install --quiet --no-deps -e .
  rm -f .venv/.lock-*
  touch "$stamp"
fi
