#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback:
#   scripts/with-postgres.sh cargo test --workspace --locked
# initdb's into a temporary folder, starts the server on a free port, exports
# LIFEBRIDGE_TEST_PG_URL for the station's tests (and LIFEBRIDGE_TEST_PGBIN, the server
# binaries, for tests that run servers of their own), runs the command, stops the server.
# Installs the `postgresql` package first when no server binaries are found (needs root
# or sudo). Without any way to get a server it runs the command anyway: the PostgreSQL
# tests then print a notice and skip.
set -euo pipefail

find_pgbin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

PGBIN=$(find_pgbin || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "with-postgres: installing postgresql" >&2
  if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null; then
    PGBIN=$(find_pgbin || true)
  fi
fi
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  if [ -n "${CI:-}" ]; then
    # CI must prove the PostgreSQL backend, not skip it.
    echo "with-postgres: no PostgreSQL server available in CI" >&2
    exit 1
  fi
  echo "with-postgres: no PostgreSQL server available; running without it" >&2
  exec "$@"
fi

PGPORT=${PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)}
PGROOT=$(mktemp -d /tmp/lifebridge-pg.XXXXXX)
PGDATA="$PGROOT/data"
chmod 755 "$PGROOT"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  install -d -o postgres -g postgres "$PGDATA"
else
  mkdir -p "$PGDATA"
fi

stop() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap stop EXIT

as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp -c max_connections=200" start >/dev/null

export LIFEBRIDGE_TEST_PG_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
# Tests that need servers of their own (TLS only, a primary with a standby to fail
# over: crates/station/tests/postgres_ha.rs) start them from the same binaries.
export LIFEBRIDGE_TEST_PGBIN="$PGBIN"
echo "with-postgres: PostgreSQL on 127.0.0.1:$PGPORT (LIFEBRIDGE_TEST_PG_URL set)" >&2
set +e
"$@"
status=$?
set -e
exit $status
