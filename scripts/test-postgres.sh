#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster (Debian's postgresql-15):
#   scripts/test-postgres.sh COMMAND...
# The cluster listens on a unix socket in a temporary directory only (no TCP), runs
# without fsync unless PG_FSYNC=on (it is thrown away), and is stopped and removed when COMMAND ends.
# COMMAND sees YIZHAN_TEST_POSTGRES_URL, a postgres:// URL for the superuser.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-54329}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "test-postgres: $PGBIN/initdb not found (make deps installs postgresql-15)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/yizhan-pg.XXXXXX)
chmod 755 "$dir"
# initdb refuses to run as root: run the cluster as the postgres user then.
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
stop() {
  "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_owner[@]}" "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-k $dir -p $PGPORT -c listen_addresses='' -c fsync=${PG_FSYNC:-off} -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
echo "test-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on $dir/.s.PGSQL.$PGPORT"
export YIZHAN_TEST_POSTGRES_URL="postgres://postgres@/postgres?host=$dir&port=$PGPORT"
"$@"
