#!/usr/bin/env bash
# ferry's own throwaway database servers for tests, the demo and benchmarks.
#
#   npm run services -- up [pg|mysql|clickhouse ...]    start (idempotent: a healthy running service is kept)
#   npm run services -- down                 stop every service by PID and remove the temp dir
#   npm run services -- status               one line per service; exit 1 when any is down
#   npm run services -- env                  print the URLs as shell exports
#
# Every server runs in a temp dir, listens on 127.0.0.1 only, on its own port, and never touches the
# machine's own services (5432/3306) or /etc, /var/lib. Settings are the ones CDC needs:
# PostgreSQL wal_level=logical; MariaDB log_bin, binlog_format=ROW, binlog_row_image=FULL,
# binlog_row_metadata=FULL, server_id=1.
# ClickHouse (a target only) is Debian's 18.16 server: HTTP for the sinker, TCP for clickhouse-client.
# Env overrides: FERRY_PG_PORT (55432) FERRY_MYSQL_PORT (53306) FERRY_CH_HTTP_PORT (58123) FERRY_CH_TCP_PORT (59000)
# FERRY_SERVICES_DIR (${TMPDIR:-/tmp}/ferry-services-<uid>)
set -uo pipefail

PG_PORT=${FERRY_PG_PORT:-55432}
MY_PORT=${FERRY_MYSQL_PORT:-53306}
CH_HTTP_PORT=${FERRY_CH_HTTP_PORT:-58123}
CH_TCP_PORT=${FERRY_CH_TCP_PORT:-59000}
DIR=${FERRY_SERVICES_DIR:-${TMPDIR:-/tmp}/ferry-services-$(id -u)}
ALL_SERVICES=(pg mysql clickhouse)

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

# Installs the Debian packages a service needs when its binary is missing; as non-root, fails with one line.
ensure_packages() {
  local missing=()
  for svc in "$@"; do
    case $svc in
      pg) [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql postgresql-contrib)
          [ -n "$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null)" ] || missing+=("postgresql-$(basename "$(dirname "$(pg_bin)")" 2>/dev/null || echo 15)-postgis-3") ;;
      mysql) command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server mariadb-client) ;;
      clickhouse) [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null || missing+=(clickhouse-server clickhouse-client) ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then die "missing Debian packages: ${missing[*]} (run as root: apt-get install -y ${missing[*]})"; fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local made_policy=0   # keep postinst scripts from starting the distro's own services
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  { apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/ferry-apt.log 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/ferry-apt.log 2>&1; }; } ||
    { [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; die "apt-get install ${missing[*]} failed (see /tmp/ferry-apt.log)"; }
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for <label> <seconds> <cmd...>
  local label=$1 t=$2; shift 2; local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && { log "$label not ready after ${t}s"; return 1; }
    sleep 0.1
  done
}
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

pg_ok() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
mysql_ok() { mariadb-admin --protocol=TCP -h127.0.0.1 -P"$MY_PORT" -uroot ping; }
# ClickHouse answers "Ok." on /ping; bash's /dev/tcp keeps curl optional.
clickhouse_ok() {
  local r
  r=$( (exec 3<>"/dev/tcp/127.0.0.1/$CH_HTTP_PORT" && printf 'GET /ping HTTP/1.0\r\n\r\n' >&3 && timeout 2 cat <&3) 2>/dev/null)
  [[ $r == *Ok.* ]]
}

up_pg() {
  local d=$DIR/pg
  if alive "$d/pid" && pg_ok; then log "pg already up on $PG_PORT"; return 0; fi
  tcp_open "$PG_PORT" && die "port $PG_PORT is taken by another process (set FERRY_PG_PORT)"
  rm -rf "$d"; mkdir -p "$d"; chmod 755 "$DIR" "$d"
  local AS=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$d"; AS=(runuser -u postgres --); fi  # initdb refuses root
  "${AS[@]}" "$(pg_bin)/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 ||
    { cat "$d/initdb.log" >&2; die "initdb failed"; }
  cat >>"$d/data/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
max_wal_size = 2GB
CONF
  "${AS[@]}" "$(pg_bin)/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 start >/dev/null ||
    { tail -20 "$d/server.log" >&2; die "postgres did not start"; }
  head -1 "$d/data/postmaster.pid" >"$d/pid"
  wait_for pg 30 pg_ok || die "postgres not ready"
  log "pg up on 127.0.0.1:$PG_PORT (wal_level=logical)"
}

up_mysql() {
  local d=$DIR/mysql
  if alive "$d/pid" && mysql_ok; then log "mysql already up on $MY_PORT"; return 0; fi
  tcp_open "$MY_PORT" && die "port $MY_PORT is taken by another process (set FERRY_MYSQL_PORT)"
  rm -rf "$d"; mkdir -p "$d/data" "$d/tmp"
  cat >"$d/my.cnf" <<CONF
[mariadbd]
user=$(id -un)
datadir=$d/data
tmpdir=$d/tmp
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
port=$MY_PORT
bind-address=127.0.0.1
skip-name-resolve
server-id=1
log-bin=$d/data/binlog
binlog-format=ROW
binlog-row-image=FULL
binlog-row-metadata=FULL
log-error=$d/error.log
max-allowed-packet=256M
max-connections=300
innodb-buffer-pool-size=256M
innodb-log-file-size=256M
innodb-flush-log-at-trx-commit=2
sync-binlog=0
local-infile=1
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
CONF
  # --defaults-file must be the first option: it keeps /etc/mysql out of the picture.
  mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 ||
    { cat "$d/install.log" >&2; die "mariadb-install-db failed"; }
  nohup /usr/sbin/mariadbd --defaults-file="$d/my.cnf" >"$d/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  wait_for mysql 60 mariadb-admin --socket="$d/mysqld.sock" -uroot ping || { tail -20 "$d/error.log" >&2; die "mariadb did not start"; }
  # root over TCP from 127.0.0.1 (skip-name-resolve): a user for that host, empty password.
  mariadb --socket="$d/mysqld.sock" -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;" ||
    die "could not create root@127.0.0.1"
  wait_for mysql 30 mysql_ok || die "mariadb not reachable over TCP"
  log "mysql up on 127.0.0.1:$MY_PORT (MariaDB, binlog ROW/FULL/FULL)"
}

# ClickHouse from Debian (18.16): own config in the temp dir, user `default` without password from 127.0.0.1.
up_clickhouse() {
  local d=$DIR/clickhouse
  if alive "$d/pid" && clickhouse_ok; then log "clickhouse already up on $CH_HTTP_PORT"; return 0; fi
  for p in "$CH_HTTP_PORT" "$CH_TCP_PORT"; do tcp_open "$p" && die "port $p is taken by another process (set FERRY_CH_HTTP_PORT / FERRY_CH_TCP_PORT)"; done
  rm -rf "$d"; mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/log" "$d/format_schemas"
  cat >"$d/config.xml" <<CONF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/log/server.log</log><errorlog>$d/log/server.err.log</errorlog><size>50M</size><count>1</count></logger>
  <http_port>$CH_HTTP_PORT</http_port><tcp_port>$CH_TCP_PORT</tcp_port><listen_host>127.0.0.1</listen_host>
  <max_connections>256</max_connections><max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>134217728</uncompressed_cache_size><mark_cache_size>134217728</mark_cache_size>
  <path>$d/data/</path><tmp_path>$d/tmp/</tmp_path><user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>$d/users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database>
  <timezone>UTC</timezone><mlock_executable>false</mlock_executable>
</yandex>
CONF
  cat >"$d/users.xml" <<'CONF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
CONF
  local bin=/usr/sbin/clickhouse-server; [ -x "$bin" ] || bin=$(command -v clickhouse-server)
  nohup "$bin" --config-file="$d/config.xml" >"$d/stdout.log" 2>&1 &
  echo $! >"$d/pid"
  wait_for clickhouse 60 clickhouse_ok || { tail -20 "$d/log/server.err.log" "$d/stdout.log" >&2; die "clickhouse did not start"; }
  log "clickhouse up on 127.0.0.1:$CH_HTTP_PORT (HTTP), $CH_TCP_PORT (TCP)"
}

down_pg() {
  local d=$DIR/pg; [ -d "$d/data" ] || return 0
  local AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
  "${AS[@]}" "$(pg_bin)/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || { alive "$d/pid" && kill -9 "$(cat "$d/pid")"; }
  log "pg down"
}
down_mysql() {
  local d=$DIR/mysql; alive "$d/pid" || return 0
  local pid; pid=$(cat "$d/pid"); kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; log "mysql down"
}

down_clickhouse() {
  local d=$DIR/clickhouse; alive "$d/pid" || return 0
  local pid; pid=$(cat "$d/pid"); kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; log "clickhouse down"
}

print_env() {
  echo "export FERRY_TEST_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "export FERRY_TEST_MYSQL_URL=mysql://root@127.0.0.1:$MY_PORT"
  echo "export FERRY_TEST_CLICKHOUSE_URL=http://127.0.0.1:$CH_HTTP_PORT"
}

cmd=${1:-status}; shift || true
services=("$@"); [ ${#services[@]} -eq 0 ] && services=("${ALL_SERVICES[@]}")
case $cmd in
  up)
    ensure_packages "${services[@]}"
    mkdir -p "$DIR"
    for s in "${services[@]}"; do "up_$s"; done
    print_env >"$DIR/env"
    ;;
  down)
    for s in "${services[@]}"; do "down_$s"; done
    [ $# -eq 0 ] && rm -rf "$DIR"
    ;;
  status)
    rc=0
    pg_ok 2>/dev/null && echo "pg     up   127.0.0.1:$PG_PORT" || { echo "pg     down"; rc=1; }
    mysql_ok >/dev/null 2>&1 && echo "mysql  up   127.0.0.1:$MY_PORT" || { echo "mysql  down"; rc=1; }
    clickhouse_ok && echo "clickhouse up 127.0.0.1:$CH_HTTP_PORT" || { echo "clickhouse down"; rc=1; }
    exit $rc ;;
  env) print_env ;;
  *) die "usage: services up|down|status|env [pg|mysql|clickhouse ...]" ;;
esac
