#!/usr/bin/env bash
# Start PostgreSQL and Redis when they are not running (the commands this machine kind uses),
# then fail loudly if either is still unreachable: the integration tests need both, never skip.
set -euo pipefail
PG_HOST=127.0.0.1; PG_PORT=5432; REDIS_PORT=6379

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

wait_for() {  # name, check-function
  for _ in $(seq 1 50); do "$2" && return 0; sleep 0.2; done
  echo "error: $1 did not come up" >&2; return 1
}

if ! pg_up; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for PostgreSQL pg_up
fi
if ! redis_up; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_for Redis redis_up
fi
echo "PostgreSQL and Redis are up"
