#!/usr/bin/env bash
# A private ClickHouse server on loopback for tests and local use, from Debian's `clickhouse-server`
# package: a copy of /etc/clickhouse-server/config.xml and users.xml whose paths point at a scratch data
# folder and whose ports are changed, started daemonised, ready when `SELECT 1` answers over HTTP.
#
#   bash scripts/clickhouse.sh start [HTTP_PORT] [DIR]   # default 8123, /tmp/siperf-clickhouse-<port>
#   bash scripts/clickhouse.sh stop  [HTTP_PORT] [DIR]   # stops the server this script started there
#   bash scripts/clickhouse.sh kill  [HTTP_PORT] [DIR]   # the same with SIGKILL (a crash; tests)
#   bash scripts/clickhouse.sh status [HTTP_PORT]
#
# The native TCP port is HTTP_PORT + 877 (9000 for 8123); no HTTPS, no interserver port. `start` does
# nothing when something already answers on HTTP_PORT (it never stops or replaces a server it did not
# start). The server runs as the calling user; its pid is in DIR/clickhouse.pid.
set -euo pipefail
cmd="${1:-start}"
port="${2:-8123}"
dir="${3:-/tmp/siperf-clickhouse-${port}}"
tcp=$((port + 877))
url="http://127.0.0.1:${port}/"

answers() { [ "$(curl -s --max-time 2 "${url}?query=SELECT%201" 2>/dev/null)" = "1" ]; }

case "$cmd" in
status)
  if answers; then echo "clickhouse: answering on 127.0.0.1:${port}"; else echo "clickhouse: not answering on 127.0.0.1:${port}"; exit 1; fi
  ;;
start)
  if answers; then
    echo "clickhouse: already answering on 127.0.0.1:${port}"
    exit 0
  fi
  if ! command -v clickhouse-server >/dev/null; then
    echo "clickhouse: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2
    exit 1
  fi
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
  # Paths into the scratch folder, the ports changed, HTTPS and interserver off, loopback only.
  sed -e "s#<path>/var/lib/clickhouse/</path>#<path>${dir}/data/</path>#" \
    -e "s#<tmp_path>/var/lib/clickhouse/tmp/</tmp_path>#<tmp_path>${dir}/tmp/</tmp_path>#" \
    -e "s#<user_files_path>/var/lib/clickhouse/user_files/</user_files_path>#<user_files_path>${dir}/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>/var/lib/clickhouse/format_schemas/</format_schema_path>#<format_schema_path>${dir}/format_schemas/</format_schema_path>#" \
    -e "s#/var/log/clickhouse-server/#${dir}/log/#g" \
    -e "s#<http_port>8123</http_port>#<http_port>${port}</http_port>#" \
    -e "s#<tcp_port>9000</tcp_port>#<tcp_port>${tcp}</tcp_port>#" \
    -e "s#<https_port>8443</https_port>##" \
    -e "s#<interserver_http_port>9009</interserver_http_port>##" \
    -e "s#<listen_host>::1</listen_host>##" \
    /etc/clickhouse-server/config.xml >"$dir/config.xml"
  cp /etc/clickhouse-server/users.xml "$dir/users.xml"
  (cd "$dir" && clickhouse-server --config-file="$dir/config.xml" --pid-file="$dir/clickhouse.pid" --daemon) >/dev/null 2>&1 || true
  for _ in $(seq 1 300); do
    if answers; then
      echo "clickhouse: answering on 127.0.0.1:${port} (data in ${dir})"
      exit 0
    fi
    sleep 0.1
  done
  echo "clickhouse: did not answer on 127.0.0.1:${port} within 30 s; see ${dir}/log/" >&2
  exit 1
  ;;
stop | kill)
  if [ -f "$dir/clickhouse.pid" ]; then
    pid="$(cat "$dir/clickhouse.pid")"
    if [ "$cmd" = kill ]; then kill -9 "$pid" 2>/dev/null || true; else kill "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/clickhouse.pid"
  fi
  ;;
*)
  echo "usage: $0 start|stop|kill|status [HTTP_PORT] [DIR]" >&2
  exit 2
  ;;
esac
