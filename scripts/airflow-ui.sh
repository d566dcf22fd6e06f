#!/usr/bin/env bash
# Start Airflow locally (standalone: scheduler, dag-processor, api-server, triggerer; SQLite)
# for reviewers, with the users admin (admin), operator (op) and reviewer (viewer).
# Stop with Ctrl-C: the whole process group is stopped.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
pwfile="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
echo "==> Airflow on http://localhost:$AIRFLOW__API__PORT  (log-ins: $pwfile once started)"
# standalone leaves its children running on SIGTERM: run it in its own session and stop the group.
setsid airflow standalone &
pid=$!
trap 'kill -- -$pid 2>/dev/null || true' EXIT INT TERM
wait $pid
