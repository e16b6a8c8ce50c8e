# pg_lib.bash - a real PostgreSQL for one test program (Debian's postgresql):
# initdb into a temporary folder, listening only on a Unix socket in that
# folder (listen_addresses=''), started with pg_ctl, stopped and removed at
# the end. No TCP port, so that tests running at once never meet.
#
#   source tests/pg_lib.bash; pg_start      sets PGHOST (the socket folder),
#                                           PGUSER, PGDATABASE=postgres
#   pg_stop                                 stops it and removes the folder
#   pg_newdb NAME                           creates a database, prints its DSN
#
# initdb refuses to run as root: as root, the server runs as the postgres
# user (the folder is then postgres's, mode 0700) and clients connect over
# the socket with trust authentication, which only this folder's owner and
# root can reach.
pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || { echo "pg_lib: no PostgreSQL under /usr/lib/postgresql (scripts/deps.sh)" >&2; return 1; }
  echo "$d"
}
pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_start() {
  local bin
  bin=$(pg_bin) || return 1
  PG_DIR=$(mktemp -d /tmp/lk-pg-XXXXXX)
  chmod 0700 "$PG_DIR"
  [ "$(id -u)" != 0 ] || chown postgres: "$PG_DIR"
  if ! pg_as timeout 60 "$bin/initdb" -D "$PG_DIR/data" -U lk -A trust -E UTF8 --locale=C \
      --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    echo "pg_lib: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1
  fi
  # fsync off: a test server's data need not outlive a power loss
  PG_OPTS="-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB"
  if ! pg_as timeout 60 "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
      -o "$PG_OPTS" start >/dev/null; then
    echo "pg_lib: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1
  fi
  export PGHOST=$PG_DIR PGUSER=lk PGDATABASE=postgres
}
pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local bin
  bin=$(pg_bin) || return 0
  pg_as timeout 30 "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
# pg_newdb NAME: a fresh database; prints the libpq DSN that reaches it
pg_newdb() {
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$1\"" >/dev/null || return 1
  echo "host=$PGHOST user=$PGUSER dbname=$1"
}
# pg_down / pg_up: stops the server keeping its data, and starts it again
# (a database that goes away and comes back)
pg_down() {
  local bin; bin=$(pg_bin) || return 1
  pg_as timeout 30 "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 20 stop >/dev/null
}
pg_up() {
  local bin; bin=$(pg_bin) || return 1
  pg_as timeout 60 "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "$PG_OPTS" start >/dev/null
}
