"""Idempotency keys: the first response to a request, replayed when it is retried.

A client that sends ``Idempotency-Key`` with a write may retry it safely: the
API stores the first response under ``(scope, key)`` and answers a retry with
that stored response instead of acting twice. The scope is the caller's
organisation and API key id, so two callers' keys never meet. The API layer
hashes the request (method, path, body) into ``request_hash`` and refuses a
retry whose hash differs; this module only stores and returns.

:meth:`IdempotencyStore.put` is insert-if-absent: when two requests with one
key race, both get back the same stored response, the one written first
(``INSERT ... ON CONFLICT DO NOTHING``, then ``SELECT``, in one transaction).

Headers are stored as a JSON object and the body as base64 text, so any bytes
round-trip exactly. The SQL tables come from
``migrations/0003_api.{sqlite,postgres}.sql``, applied by ``ledger migrate``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from adapters.settings import Settings, Storage

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class StoredResponse:
    """A response as first sent, with the hash of the request that produced it."""

    request_hash: str
    status: int
    headers: dict[str, str]
    body: bytes


class IdempotencyStore(Protocol):
    """The first response per ``(scope, key)``."""

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The stored response for ``key`` in ``scope``, or None."""
        ...

    def put(self, scope: str, key: str, response: StoredResponse) -> StoredResponse:
        """Store ``response`` unless one is there already; returns what is stored."""
        ...


class InMemoryIdempotencyStore:
    """Responses in a dictionary: tests and throwaway demos."""

    def __init__(self) -> None:
        """Start empty."""
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._lock = threading.Lock()

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The stored response for ``key`` in ``scope``, or None."""
        with self._lock:
            return self._responses.get((scope, key))

    def put(self, scope: str, key: str, response: StoredResponse) -> StoredResponse:
        """Store ``response`` unless one is there already; returns what is stored."""
        # A copy, so a caller mutating its headers dict cannot change what is stored.
        stored = _decode(*_encode(response))
        with self._lock:
            return self._responses.setdefault((scope, key), stored)

    def __repr__(self) -> str:
        """Say what it is, not what it holds."""
        return "InMemoryIdempotencyStore()"


class SQLiteIdempotencyStore:
    """Responses in the ``idempotency`` table of a SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        """Use the database file at ``path``, migrated by ``ledger migrate``.

        ``":memory:"`` is refused: every operation opens its own connection,
        and each would see a different, empty in-memory database.
        """
        if str(path) in ("", ":memory:"):
            msg = "SQLiteIdempotencyStore needs a database file, not an in-memory db"
            raise ValueError(msg)
        self._path = str(path)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection whose work commits on success, rolls back on error."""
        with closing(sqlite3.connect(self._path)) as connection, connection:
            yield connection

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The stored response for ``key`` in ``scope``, or None."""
        with self._transaction() as connection:
            found = connection.execute(_SELECT_SQLITE, (scope, key)).fetchone()
        return None if found is None else _decode(*found)

    def put(self, scope: str, key: str, response: StoredResponse) -> StoredResponse:
        """Store ``response`` unless one is there already; returns what is stored."""
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO idempotency (scope, key, request_hash, status, headers, body)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (scope, key) DO NOTHING",
                (scope, key, *_encode(response)),
            )
            found = connection.execute(_SELECT_SQLITE, (scope, key)).fetchone()
        if found is None:  # pragma: no cover - the row was just written or seen
            msg = "idempotency row vanished between insert and select"
            raise RuntimeError(msg)
        return _decode(*found)

    def __repr__(self) -> str:
        """Name the database file."""
        return f"SQLiteIdempotencyStore(path={self._path!r})"


class PostgresIdempotencyStore:
    """Responses in the ``idempotency`` table of a PostgreSQL database (psycopg 3)."""

    def __init__(self, conninfo: str, pool: ConnectionPool | None = None) -> None:
        """Use ``pool`` (the API's), else connect with ``conninfo`` for each operation.

        Either way the connection string's search_path picks the schema.
        """
        self._conninfo = conninfo
        self._pool = pool

    def _connect(self) -> AbstractContextManager[psycopg.Connection[tuple[object, ...]]]:
        """A connection in autocommit mode: each statement commits on its own."""
        if self._pool is not None:
            return self._pool.connection()  # the API's pool is in autocommit mode
        return psycopg.connect(self._conninfo, autocommit=True)

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The stored response for ``key`` in ``scope``, or None."""
        with self._connect() as connection:
            found = connection.execute(_SELECT_POSTGRES, (scope, key)).fetchone()
        return None if found is None else _decode(*found)

    def put(self, scope: str, key: str, response: StoredResponse) -> StoredResponse:
        """Store ``response`` unless one is there already; returns what is stored."""
        with self._connect() as connection:
            # RETURNING answers the usual case, a new key, in one round trip.
            found = connection.execute(
                _INSERT_POSTGRES, (scope, key, *_encode(response))
            ).fetchone()
            if found is None:
                # Read committed: a conflicting insert waited for the winner to
                # commit, so this statement sees the winner's row.
                found = connection.execute(_SELECT_POSTGRES, (scope, key)).fetchone()
        if found is None:  # pragma: no cover - the row was just written or seen
            msg = "idempotency row vanished between insert and select"
            raise RuntimeError(msg)
        return _decode(*found)

    def __repr__(self) -> str:
        """Say what it is without the connection string (it may hold a password)."""
        return "PostgresIdempotencyStore(conninfo=<redacted>)"


_COLUMNS = "request_hash, status, headers, body"
_SELECT_SQLITE = f"SELECT {_COLUMNS} FROM idempotency WHERE scope = ? AND key = ?"  # noqa: S608
_SELECT_POSTGRES = f"SELECT {_COLUMNS} FROM idempotency WHERE scope = %s AND key = %s"  # noqa: S608
_INSERT_POSTGRES = (
    "INSERT INTO idempotency (scope, key, request_hash, status, headers, body)"  # noqa: S608
    " VALUES (%s, %s, %s, %s, %s, %s)"
    f" ON CONFLICT (scope, key) DO NOTHING RETURNING {_COLUMNS}"
)


def _encode(response: StoredResponse) -> tuple[str, int, str, str]:
    """The column values of ``response``: hash, status, JSON headers, base64 body."""
    headers = {str(name): str(value) for name, value in response.headers.items()}
    return (
        response.request_hash,
        int(response.status),
        json.dumps(headers, ensure_ascii=False, sort_keys=True),
        base64.b64encode(response.body).decode("ascii"),
    )


def _decode(request_hash: object, status: object, headers: object, body: object) -> StoredResponse:
    """A :class:`StoredResponse` from its column values."""
    loaded = json.loads(str(headers))
    if not isinstance(loaded, dict):
        msg = "stored idempotency headers are not a JSON object"
        raise TypeError(msg)
    if not isinstance(status, int):
        msg = f"stored idempotency status is {type(status).__name__}, not int"
        raise TypeError(msg)
    return StoredResponse(
        request_hash=str(request_hash),
        status=status,
        headers={str(name): str(value) for name, value in loaded.items()},
        body=base64.b64decode(str(body), validate=True),
    )


def build_idempotency_store(
    settings: Settings, pool: ConnectionPool | None = None
) -> IdempotencyStore:
    """The idempotency store for ``settings.storage``, in the same database as the events.

    On PostgreSQL, ``pool`` (the API's connection pool) saves a connection per request.
    """
    if settings.storage is Storage.MEMORY:
        return InMemoryIdempotencyStore()
    if settings.storage is Storage.SQLITE:
        return SQLiteIdempotencyStore(settings.sqlite_path)
    return PostgresIdempotencyStore(settings.postgres_conninfo, pool)


__all__ = [
    "IdempotencyStore",
    "InMemoryIdempotencyStore",
    "PostgresIdempotencyStore",
    "SQLiteIdempotencyStore",
    "StoredResponse",
    "build_idempotency_store",
]
