#!/usr/bin/env bash
# One command starts a whole city on one machine for a trial (docs/deploy.md):
#
#   GCC_DATABASE_URL=postgresql+psycopg://gcc@127.0.0.1/gcc GCC_SECRET_KEY=... deploy/city.sh [--seed]
#
# It migrates the database (and with --seed generates the city's demo data), then starts the
# capture shards (one per video.capture_urls entry) and the production server (gunicorn,
# server.workers processes; every worker runs the outbox relay and the scheduler, one acts by
# its lease). Ctrl-C or SIGTERM stops them all, gracefully. nginx in front: deploy/nginx.conf.
# Environment: GCC_CONFIG (default deploy/city.toml), GCC_WORKERS (default: server.workers),
# PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${GCC_CONFIG:-deploy/city.toml}
PY=${PYTHON:-.venv/bin/python}
: "${GCC_DATABASE_URL:?set GCC_DATABASE_URL=postgresql+psycopg://USER@HOST/DB (several processes need PostgreSQL)}"
: "${GCC_SECRET_KEY:?set GCC_SECRET_KEY (the session signing key, e.g. python -c \"import secrets; print(secrets.token_urlsafe(48))\")}"
if [ -z "${GCC_CAPTURE_SECRET:-}" ]; then  # shared by the web processes and the capture shards
  GCC_CAPTURE_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')
  export GCC_CAPTURE_SECRET
fi

"$PY" run.py --config "$CONFIG" check-config
"$PY" run.py --config "$CONFIG" db upgrade
if [ "${1:-}" = "--seed" ]; then
  "$PY" run.py --config "$CONFIG" seed --scale city
fi
SHARDS=$("$PY" -c "from dashboard.config import load_config; print(len(load_config('$CONFIG').video.shard_urls()))")

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT

for ((i = 0; i < SHARDS; i++)); do
  "$PY" run.py --config "$CONFIG" capture --shard "$i/$SHARDS" &
  pids+=($!)
done
serve=(run.py --config "$CONFIG" serve)
if [ -n "${GCC_WORKERS:-}" ]; then serve+=(--workers "$GCC_WORKERS"); fi
"$PY" "${serve[@]}" &
pids+=($!)
echo "city: ${SHARDS} capture shard(s) and the web server started (pids ${pids[*]}); Ctrl-C stops them"
# The first process to end ends the trial (a real deployment restarts it: deploy/systemd).
wait -n "${pids[@]}" || true
echo "city: a process ended; stopping the others" >&2
