#!/usr/bin/env bash
# Re-resolve pyproject.toml into requirements.lock (exact pins). Commit both files together.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
.venv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header --quiet -o requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages"
