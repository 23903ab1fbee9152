#!/usr/bin/env bash
# A throwaway PostgreSQL server for the collector's storage tests.
#   eval "$(scripts/postgres-test-server.sh start)"   # exports T0W_PG_URL
#   scripts/postgres-test-server.sh stop
# Installs Debian's postgresql package when missing, initialises a cluster in
# ${T0W_PG_DIR:-/tmp/t0w-pg-test} (as the `postgres` user when run as root: initdb refuses root),
# listens on a unix socket in that directory and on 127.0.0.1:${T0W_PG_PORT:-54329}.
# Everything but the `export` line goes to stderr.
set -euo pipefail
DIR="${T0W_PG_DIR:-/tmp/t0w-pg-test}"
PORT="${T0W_PG_PORT:-54329}"

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  return 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  if ! BIN="$(pg_bin)"; then
    echo "postgres-test-server: installing postgresql" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends postgresql >&2
    BIN="$(pg_bin)"
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  OWNER="$(id -un)"
  [ "$(id -u)" -eq 0 ] && OWNER=postgres
  mkdir -p "$DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$DIR/data" -U "$OWNER" --auth=trust -E UTF8 --locale=C.UTF-8 >&2
  fi
  if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    # fsync off: a test cluster holds nothing worth the I/O.
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-k $DIR -p $PORT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
      start >&2
  fi
  echo "export T0W_PG_URL='host=$DIR port=$PORT user=$OWNER dbname=postgres'"
}

stop() {
  BIN="$(pg_bin)" || exit 0
  if [ -f "$DIR/data/PG_VERSION" ]; then
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
