#!/usr/bin/env bash
# ops/pg.sh — source or run me: make sure the local PostgreSQL answers, and export its settings.
#
# Looks for PostgreSQL at 127.0.0.1:5432 (pg_isready when installed, otherwise a
# connection attempt from Python). When it is down, starts the machine's cluster
# with pg_ctlcluster and waits up to 30 s. When it still cannot be reached, it
# prints why and fails: the PostgreSQL tests are never silently skipped.
#
# Exports (keeping any value already set):
#   POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_DBNAME=test POSTGRES_PASSWORD=
#   POSTGRES_USER=postgres (falls back to root when postgres cannot log in; both
#   have trust auth on the project's machines)
#   KONTRAKTLEDGER_TEST_POSTGRES=1 (the tests' switch for the PostgreSQL backend)
set -euo pipefail

export POSTGRES_HOST="${POSTGRES_HOST:-127.0.0.1}"
export POSTGRES_PORT="${POSTGRES_PORT:-5432}"
export POSTGRES_DBNAME="${POSTGRES_DBNAME:-test}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}"

# True when the server accepts connections (not yet whether our user may log in).
_kl_pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -t 2
        return
    fi
    local py=python3
    [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]] && py="$VIRTUAL_ENV/bin/python"
    "$py" - "$POSTGRES_HOST" "$POSTGRES_PORT" <<'PY' >/dev/null 2>&1
import socket, sys
try:
    import psycopg
except ImportError:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
else:
    # A refused login still proves the server is up; only connection errors count.
    try:
        psycopg.connect(host=sys.argv[1], port=sys.argv[2], dbname="postgres",
                        user="postgres", connect_timeout=2).close()
    except psycopg.OperationalError as exc:
        if "authentication" not in str(exc) and "does not exist" not in str(exc):
            raise
PY
}

# True when USER can log in to the test database and run a query.
_kl_pg_login() {
    local user="$1"
    if command -v psql >/dev/null 2>&1; then
        PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -q -w \
            -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$user" -d "$POSTGRES_DBNAME" \
            -c 'select 1' >/dev/null 2>&1
        return
    fi
    local py=python3
    [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]] && py="$VIRTUAL_ENV/bin/python"
    "$py" - "$user" <<'PY' >/dev/null 2>&1
import os, sys
import psycopg
psycopg.connect(host=os.environ["POSTGRES_HOST"], port=os.environ["POSTGRES_PORT"],
                dbname=os.environ["POSTGRES_DBNAME"], user=sys.argv[1],
                password=os.environ["POSTGRES_PASSWORD"] or None, connect_timeout=3).close()
PY
}

_kl_pg_start() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ ! -d /etc/postgresql ]]; then
        echo "ops/pg.sh: pg_ctlcluster or /etc/postgresql not found; cannot start PostgreSQL" >&2
        return 1
    fi
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    echo "ops/pg.sh: PostgreSQL is down; starting cluster $version/main" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
    local waited=0
    until _kl_pg_up; do
        if ((waited >= 30)); then
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

_kl_pg_ensure() {
    if ! _kl_pg_up; then
        if ! _kl_pg_start; then
            echo "ops/pg.sh: ERROR: PostgreSQL at $POSTGRES_HOST:$POSTGRES_PORT cannot be reached" \
                "(tried pg_ctlcluster and waited 30 s). The PostgreSQL tests need it; start it with:" \
                "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
            return 1
        fi
    fi
    if [[ -n "${POSTGRES_USER:-}" ]]; then
        if ! _kl_pg_login "$POSTGRES_USER"; then
            echo "ops/pg.sh: ERROR: user '$POSTGRES_USER' cannot log in to database" \
                "'$POSTGRES_DBNAME' at $POSTGRES_HOST:$POSTGRES_PORT" >&2
            return 1
        fi
    else
        local user
        for user in postgres root; do
            if _kl_pg_login "$user"; then
                export POSTGRES_USER="$user"
                break
            fi
        done
        if [[ -z "${POSTGRES_USER:-}" ]]; then
            echo "ops/pg.sh: ERROR: neither 'postgres' nor 'root' can log in to database" \
                "'$POSTGRES_DBNAME' at $POSTGRES_HOST:$POSTGRES_PORT (set POSTGRES_USER and" \
                "POSTGRES_PASSWORD, or create the database: createdb -h $POSTGRES_HOST $POSTGRES_DBNAME)" >&2
            return 1
        fi
    fi
    echo "ops/pg.sh: PostgreSQL ready at $POSTGRES_HOST:$POSTGRES_PORT," \
        "database $POSTGRES_DBNAME, user $POSTGRES_USER" >&2
}

# `return` works when sourced; when run as a script it fails and `exit` is used instead.
if ! _kl_pg_ensure; then
    return 1 2>/dev/null || exit 1
fi
export POSTGRES_USER
export KONTRAKTLEDGER_TEST_POSTGRES=1
