#!/usr/bin/env bash
# Airflow on this machine as an operator runs it: scheduler, dag-processor, triggerer and
# api-server (LocalExecutor) on the project's DAGs and the review data under var/ (the main
# job's). Users (FAB auth manager): admin (Admin), operator (Op), reviewer and each programme's
# reviewers (Reviewer), provisioned before the start; passwords in $AIRFLOW_HOME/passwords.json.
#
#   scripts/airflow-ui.sh                            # http://localhost:8080
#   AIRFLOW__API__PORT=8095 scripts/airflow-ui.sh    # another port
#   AIRFLOW__API__HOST=127.0.0.1 scripts/airflow-ui.sh
#
# Tasks talk to the api-server's execution API, on the same host and port: the URL
# (AIRFLOW__CORE__EXECUTION_API_SERVER_URL) is derived from them unless set. Each component
# logs to $AIRFLOW_HOME/logs/<component>.log. Stop with Ctrl-C or SIGTERM: every component
# and its task processes stop (they run in one process group, whose id is written to
# $AIRFLOW_HOME/airflow-ui.pgid). --no-bootstrap skips the virtualenv check.
set -euo pipefail
# Task logs in the UI at INFO (env.sh keeps the main job's own output at WARNING).
log_level="${AIRFLOW__LOGGING__LOGGING_LEVEL:-INFO}"
source "$(dirname "$0")/env.sh"
export AIRFLOW__LOGGING__LOGGING_LEVEL="$log_level"
[[ "${1:-}" == "--no-bootstrap" ]] || "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-0.0.0.0}"
case "$AIRFLOW__API__HOST" in
  "" | 0.0.0.0) reach=127.0.0.1 ;;
  ::) reach="[::1]" ;;
  *:*) reach="[$AIRFLOW__API__HOST]" ;;
  *) reach="$AIRFLOW__API__HOST" ;;
esac
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://$reach:$AIRFLOW__API__PORT/execution/}"
# Everything shares this machine's cores: give a busy api-server 30 s (not 5) to answer a task.
export AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT="${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:-30}"
url="http://$reach:$AIRFLOW__API__PORT"
logs="$AIRFLOW_HOME/logs"
mkdir -p "$logs"

echo "==> airflow db migrate ($AIRFLOW_HOME)"
airflow db migrate >"$logs/db-migrate.log" 2>&1 || { tail -n 40 "$logs/db-migrate.log" >&2; exit 1; }
echo "==> users and roles (review_calendar_airflow.access provision)"
# REVIEW_CALENDAR_EXTRA_DECISION_DAGS: programme ids without a file whose decisions__<id> DAG the
# generic reviewer answers (test DAG folders).
extra=()
for id in ${REVIEW_CALENDAR_EXTRA_DECISION_DAGS:-}; do extra+=(--extra-programme "$id"); done
python -m review_calendar_airflow.access provision "${extra[@]}" >"$logs/provision.log" 2>&1 \
  || { tail -n 40 "$logs/provision.log" >&2; exit 1; }

# One new session and process group for all four: the LocalExecutor's workers and the task
# processes are forked inside it, so stopping the group stops everything.
setsid bash -c '
  airflow scheduler >"$1/scheduler.log" 2>&1 &
  airflow dag-processor >"$1/dag-processor.log" 2>&1 &
  airflow triggerer >"$1/triggerer.log" 2>&1 &
  airflow api-server >"$1/api-server.log" 2>&1 &
  wait -n
  echo "an Airflow component stopped; see $1/*.log" >&2
  kill -TERM 0' _ "$logs" &
group=$!
echo "$group" >"$AIRFLOW_HOME/airflow-ui.pgid"
stop() {
  trap - EXIT INT TERM
  kill -TERM -- "-$group" 2>/dev/null || return 0
  for _ in $(seq 40); do
    kill -0 -- "-$group" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL -- "-$group" 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

echo "==> Airflow on $url  (execution API $AIRFLOW__CORE__EXECUTION_API_SERVER_URL)"
echo "    logs: $logs/{scheduler,dag-processor,triggerer,api-server}.log"
for _ in $(seq 240); do
  if python - "$url/api/v2/monitor/health" <<'PY' 2>/dev/null; then
import json, sys, urllib.request
health = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))
parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
sys.exit(0 if all(health[p]["status"] == "healthy" for p in parts) else 1)
PY
    echo "==> ready: $url  log in as admin, operator or reviewer; passwords in"
    echo "    $AIRFLOW_HOME/passwords.json  (Ctrl-C stops Airflow)"
    break
  fi
  kill -0 "$group" 2>/dev/null || { echo "Airflow did not start; see $logs" >&2; exit 1; }
  sleep 1
done
wait "$group"
