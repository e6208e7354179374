#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for PushRelay on this machine and prints the DATABASE_URL to use.
#
#   deploy/local-postgres.sh [directory] [port]     default: /tmp/pushrelay-postgres 55432
#   deploy/local-postgres.sh stop [directory]
#
# `pushrelay serve` does the same by itself when DATABASE_URL is unset (under .pushrelay/); this script is
# for running several `serve` processes against one database, or pointing psql or pgbench at it.
# PostgreSQL refuses to run as root: when run as root, the cluster belongs to the `postgres` user.
set -euo pipefail

bindir=$( (pg_config --bindir 2>/dev/null) || ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "PostgreSQL server binaries not found: apt-get install postgresql (or set PATH to include its bin directory)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = "stop" ]; then
    dir=${2:-/tmp/pushrelay-postgres}
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop
    exit 0
fi

dir=${1:-/tmp/pushrelay-postgres}
port=${2:-55432}
mkdir -p "$dir"
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"

if [ ! -f "$dir/data/PG_VERSION" ]; then
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" > "$dir/password"
    chmod 600 "$dir/password"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/password"
    as_owner "$bindir/initdb" -D "$dir/data" -U pushrelay --pwfile="$dir/password" -A scram-sha-256 -E UTF8 >/dev/null
fi
if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
fi
password=$(cat "$dir/password")
PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$port" -U pushrelay -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'pushrelay'" | grep -q 1 ||
    PGPASSWORD=$password "$bindir/createdb" -h 127.0.0.1 -p "$port" -U pushrelay pushrelay
echo "DATABASE_URL=postgres://pushrelay:$password@127.0.0.1:$port/pushrelay"
