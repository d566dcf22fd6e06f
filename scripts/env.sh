# Environment of the review calendar on this machine; sourced by the other scripts.
# Everything lives inside the checkout: .venv, .airflow (Airflow's home), var/ (review data).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$ROOT/.venv/bin:$PATH"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai
export AIRFLOW__CORE__PARALLELISM=4
# Users, roles and passwords: FAB's tables in the metadata database, provisioned by
# `python -m review_calendar_airflow.access provision` (scripts/airflow-ui.sh runs it).
export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}"
export PYTHONPATH="$ROOT/include:$ROOT/plugins${PYTHONPATH:+:$PYTHONPATH}"
export REVIEW_CALENDAR_HOME="${REVIEW_CALENDAR_HOME:-$ROOT/var}"
export TZ=Asia/Shanghai
# Airflow's own deprecation chatter would drown the demo's output.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
