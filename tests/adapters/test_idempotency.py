"""Idempotency stores on every backend: in memory, SQLite and PostgreSQL.

Each behaviour test runs against all three stores through the parametrised
``store`` fixture, built by :func:`adapters.idempotency.build_idempotency_store`
from settings, as the API builds it. The SQL stores get their table from the
real migrations; on PostgreSQL each test has a fresh schema, dropped
afterwards. When PostgreSQL cannot be reached these tests fail: they are never
skipped.
"""

from __future__ import annotations

import base64
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import psycopg
import pytest

from adapters.bootstrap import migrate
from adapters.idempotency import (
    IdempotencyStore,
    InMemoryIdempotencyStore,
    PostgresIdempotencyStore,
    SQLiteIdempotencyStore,
    StoredResponse,
    build_idempotency_store,
)
from adapters.settings import Settings, Storage
from tests.adapters.conftest import migrate_tables

SCOPE = "29189846:Ab3dE6gH9jK2"  # organisation and API key id
OTHER_SCOPE = "12345678:Zy8xW7vU6tS5"
KEY = "6f1c1a52-0c1e-4d6e-9a55-3f0a3f3c2b11"
FIRST = StoredResponse(
    request_hash="a" * 64,
    status=201,
    headers={"content-type": "application/json", "location": "/contracts/1", "etag": '"7"'},
    body='{"id": "1", "tilbud": "Bosted Lærkereden"}'.encode(),
)
SECOND = StoredResponse(
    request_hash="b" * 64,
    status=409,
    headers={"content-type": "application/problem+json"},
    body=b'{"title": "conflict"}',
)


# --- fixtures ---------------------------------------------------------------


def migrated_store(settings: Settings) -> IdempotencyStore:
    """An empty store for ``settings``, its table made by the SQL migrations."""
    return build_idempotency_store(migrate_tables(settings))


@pytest.fixture
def store(settings) -> IdempotencyStore:
    """An empty store on each backend in turn."""
    return migrated_store(settings)


@pytest.fixture
def sql_store(sql_settings) -> IdempotencyStore:
    """An empty store on each SQL backend in turn."""
    return migrated_store(sql_settings)


def _raw_rows(settings: Settings) -> list[tuple[object, ...]]:
    """``(scope, key, status, headers, body)`` of every row, read straight from the table."""
    query = "SELECT scope, key, status, headers, body FROM idempotency"
    if settings.storage is Storage.SQLITE:
        with closing(sqlite3.connect(settings.sqlite_path)) as connection:
            return connection.execute(query).fetchall()
    with psycopg.connect(settings.postgres_conninfo) as connection:
        return connection.execute(query).fetchall()


# --- the protocol -----------------------------------------------------------


def test_every_backend_satisfies_the_store_protocol(store):
    """The annotation makes mypy check it; the calls exercise it once."""
    as_protocol: IdempotencyStore = store
    assert FIRST == as_protocol.put(SCOPE, KEY, FIRST)
    assert FIRST == as_protocol.get(SCOPE, KEY)


def test_build_idempotency_store_picks_the_backend_of_the_settings(settings):
    """Memory, SQLite file or PostgreSQL, following ``settings.storage``."""
    expected = {
        Storage.MEMORY: InMemoryIdempotencyStore,
        Storage.SQLITE: SQLiteIdempotencyStore,
        Storage.POSTGRES: PostgresIdempotencyStore,
    }[settings.storage]
    assert isinstance(build_idempotency_store(settings), expected)


# --- behaviour, on every backend --------------------------------------------


def test_a_stored_response_reads_back_as_stored(store):
    """Hash, status, headers and body round-trip exactly."""
    assert FIRST == store.put(SCOPE, KEY, FIRST)
    assert FIRST == store.get(SCOPE, KEY)


def test_an_unknown_key_has_no_response(store):
    """Nothing stored yet: None."""
    assert None is store.get(SCOPE, KEY)


def test_a_second_put_with_the_same_key_keeps_the_first_response(store):
    """The retry gets the first response back, and the first stays stored."""
    store.put(SCOPE, KEY, FIRST)
    assert FIRST == store.put(SCOPE, KEY, SECOND)
    assert FIRST == store.get(SCOPE, KEY)


def test_one_key_in_two_scopes_holds_two_responses(store):
    """Callers' keys never meet: the scope is part of the key."""
    store.put(SCOPE, KEY, FIRST)
    assert SECOND == store.put(OTHER_SCOPE, KEY, SECOND)
    assert FIRST == store.get(SCOPE, KEY)
    assert SECOND == store.get(OTHER_SCOPE, KEY)
    assert None is store.get(OTHER_SCOPE, "another key")


def test_any_body_bytes_and_header_text_round_trip(store):
    """Binary bodies (NUL, invalid UTF-8), an empty body and non-ASCII headers."""
    binary = StoredResponse("c" * 64, 200, {"x-navn": "Søren Ærø"}, bytes(range(256)))
    empty = StoredResponse("d" * 64, 204, {}, b"")
    assert binary == store.put(SCOPE, "binary", binary)
    assert empty == store.put(SCOPE, "empty", empty)
    assert binary == store.get(SCOPE, "binary")
    assert empty == store.get(SCOPE, "empty")


def test_changing_the_callers_headers_afterwards_changes_nothing_stored(store):
    """The store keeps its own copy."""
    headers = {"content-type": "application/json"}
    store.put(SCOPE, KEY, StoredResponse("e" * 64, 200, headers, b"{}"))
    headers["content-type"] = "text/plain"
    assert {"content-type": "application/json"} == store.get(SCOPE, KEY).headers


def test_racing_puts_of_one_key_all_get_the_same_response(store):
    """Whichever request writes first, every request gets that response back."""
    responses = [StoredResponse(f"{n:064x}", 200 + n, {"n": str(n)}, b"%d" % n) for n in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        returned = list(pool.map(lambda r: store.put(SCOPE, KEY, r), responses))
    stored = store.get(SCOPE, KEY)
    assert stored in responses
    assert [stored] * len(responses) == returned


# --- the SQL backends -------------------------------------------------------


def test_a_second_handle_reads_what_the_first_stored(sql_settings, sql_store):
    """The response is in the database, not in the object."""
    sql_store.put(SCOPE, KEY, FIRST)
    reopened = build_idempotency_store(sql_settings)
    assert FIRST == reopened.get(SCOPE, KEY)
    assert FIRST == reopened.put(SCOPE, KEY, SECOND)


def test_the_row_holds_json_headers_and_a_base64_body(sql_settings, sql_store):
    """Readable with plain SQL: one row per scope and key."""
    sql_store.put(SCOPE, KEY, FIRST)
    sql_store.put(SCOPE, KEY, SECOND)
    rows = _raw_rows(sql_settings)
    assert 1 == len(rows)
    scope, key, status, headers, body = rows[0]
    assert (SCOPE, KEY, 201) == (scope, key, status)
    assert '"location": "/contracts/1"' in str(headers)
    assert FIRST.body == base64.b64decode(str(body))


def test_the_sqlite_store_refuses_an_in_memory_database():
    """Each operation opens its own connection, so ':memory:' would lose every row."""
    with pytest.raises(ValueError, match="database file"):
        SQLiteIdempotencyStore(":memory:")


def test_the_postgres_stores_repr_hides_the_connection_string():
    """The conninfo may carry a password, so it stays out of logs."""
    conninfo = "host=db user=ledger password=hunter2"
    assert "hunter2" not in repr(PostgresIdempotencyStore(conninfo))


# --- migration --------------------------------------------------------------


def test_ledger_migrate_makes_the_table_and_may_run_twice(sql_settings):
    """The first run applies 0003; the second applies nothing and keeps the rows."""
    assert "0003_api" in migrate(sql_settings)
    build_idempotency_store(sql_settings).put(SCOPE, KEY, FIRST)
    assert [] == migrate(sql_settings)
    assert FIRST == build_idempotency_store(sql_settings).get(SCOPE, KEY)
