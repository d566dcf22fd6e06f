#!/usr/bin/env bash
# The scale benchmark (docs/benchmarks.md): prints the machine and a Markdown table.
# Usage: scripts/bench.sh [--quick] [other options of scripts/bench.py, see --help]
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec python scripts/bench.py "$@"
