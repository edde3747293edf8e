#!/usr/bin/env bash
# Starts the local servers the tests use when they are not answering, with Debian's packages (installed
# with apt-get when missing; needs root): Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (with the
# HypoPG extension package and a `test` database), MariaDB on 127.0.0.1:3306 (with a `test` database) and a
# private ClickHouse on 127.0.0.1:8123 (scripts/clickhouse.sh: scratch data folder, loopback only).
# Also installs Debian's `prometheus` (not started: the /metrics test starts its own on loopback).
# Idempotent; run by `npm test` (pretest) and .ci/run.
set -euo pipefail
wait_for() { for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }

# Redis
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis-cli -h 127.0.0.1 -p 6379 ping
fi
echo "redis: $(redis-cli -h 127.0.0.1 -p 6379 ping)"

# PostgreSQL (+ HypoPG for hypothetical indexes)
if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_for pg_isready -h 127.0.0.1 -p 5432 || echo "postgresql: not answering on 127.0.0.1:5432"
  else
    echo "postgresql: not installed (apt-get install postgresql); its tests will fail"
  fi
fi
if [ -d /etc/postgresql ]; then
  PGV="$(ls /etc/postgresql | head -1)"
  if ! dpkg -s "postgresql-${PGV}-hypopg" >/dev/null 2>&1; then
    apt_install "postgresql-${PGV}-hypopg" || echo "hypopg: could not install postgresql-${PGV}-hypopg; index gains will be estimates"
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test' || true
  echo "postgresql: $(pg_isready -h 127.0.0.1 -p 5432 || true)"
fi

# MariaDB
if command -v mariadbd >/dev/null || command -v mysqld >/dev/null; then
  if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec "$(command -v mariadbd || command -v mysqld)" || true
    wait_for mysqladmin -h 127.0.0.1 -uroot ping || echo "mariadb: not answering on 127.0.0.1:3306"
  fi
  mysql -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test' || true
  echo "mariadb: $(mysqladmin -h 127.0.0.1 -uroot ping 2>&1 || true)"
fi

# ClickHouse (Debian's 18.16): a private server on 127.0.0.1:8123 with a scratch data folder
command -v clickhouse-server >/dev/null || apt_install clickhouse-server clickhouse-client \
  || echo "clickhouse: could not install clickhouse-server; the ClickHouse store tests will be skipped"
if command -v clickhouse-server >/dev/null; then
  bash "$(dirname "$0")/clickhouse.sh" start 8123 || echo "clickhouse: not answering on 127.0.0.1:8123"
fi

# Prometheus (Debian's 2.42): only installed; packages/server/test/prometheus.test.ts starts a private one
command -v prometheus >/dev/null || apt_install prometheus \
  || echo "prometheus: could not install it; the /metrics scrape test will be skipped"
echo "prometheus: $(command -v prometheus || echo 'not installed')"
