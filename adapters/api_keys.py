"""API keys: the bearer tokens of the HTTP API, kept as hashes beside the event store.

A token reads ``kl_<key_id>_<secret>``. The key id is 12 random letters and
digits (public: it names the key in lists, logs and audit trails); the secret
is ``secrets.token_urlsafe(32)``, 256 random bits. Only ``sha256(secret)`` is
stored, as lowercase hex, and the token itself is returned once, by
:meth:`ApiKeyStore.create`.

A single fast SHA-256 is enough here. Slow password hashes (bcrypt, scrypt,
Argon2) exist to make guessing low-entropy human passwords expensive; a
256-bit random secret cannot be guessed however fast the hash, so a stolen
table gives nothing away. Hashes are compared with :func:`hmac.compare_digest`.

Each key acts for one organisation in one :class:`~ledger.values.Role`; the API
calls :attr:`Role.OPERATOR <ledger.values.Role.OPERATOR>` "system
administrator". A revoked key keeps its row but no longer authenticates.

:meth:`ApiKeyStore.records` lists every key, revoked ones included, with when
it was made and revoked, for ``ledger keys list``; like every other answer of
a store it never holds a secret or a hash.

Three stores behave alike: :class:`InMemoryApiKeyStore`,
:class:`SQLiteApiKeyStore` and :class:`PostgresApiKeyStore`;
:func:`build_key_store` picks one from the settings. The SQL tables come from
``migrations/0003_api.{sqlite,postgres}.sql``, applied by ``ledger migrate``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import string
import threading
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from adapters.settings import Settings, Storage
from ledger.values import Role

if TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN_PREFIX = "kl_"  # noqa: S105 - a public prefix, not a secret
KEY_ID_LENGTH = 12
SECRET_BYTES = 32
_KEY_ID_ALPHABET = string.ascii_letters + string.digits
# token_urlsafe(32) is unpadded base64url of 32 bytes: always 43 characters.
_SECRET_LENGTH = 43
_TOKEN = re.compile(
    rf"{TOKEN_PREFIX}(?P<key_id>[A-Za-z0-9]{{{KEY_ID_LENGTH}}})"
    rf"_(?P<secret>[A-Za-z0-9_-]{{{_SECRET_LENGTH}}})"
)
# Compared against when the key id is unknown, so a miss costs what a hit costs.
_NO_HASH = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A key's public facts: who it acts for and in which role. Never the secret."""

    key_id: str
    organisation: str
    role: Role
    label: str = ""
    written_through: int = field(default=0, compare=False)
    """The log position of the last event written with this key, when it was read
    (0: none): a read from a view waits for it (read-your-writes, ADR 0015)."""


@dataclass(frozen=True)
class KeyRecord:
    """A key with its history: when it was made and, if it was, revoked."""

    key: ApiKey
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        """Whether the key still authenticates."""
        return self.revoked_at is None


class ApiKeyStore(Protocol):
    """Makes, checks, revokes and lists API keys."""

    def create(self, organisation: str, role: Role, label: str = "") -> tuple[ApiKey, str]:
        """Make a key; returns it and its bearer token, which is not kept and shown once."""
        ...

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key the token belongs to, or None (never raises on a bad token)."""
        ...

    def revoke(self, key_id: str) -> bool:
        """Revoke the key; True if it was active, False if unknown or already revoked."""
        ...

    def note_written(self, key_id: str, position: int) -> None:
        """Remember that the key wrote events up to ``position`` (never moves back)."""
        ...

    def list(self) -> builtins.list[ApiKey]:
        """The active keys, oldest first."""
        ...

    def records(self) -> builtins.list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""
        ...


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256, lowercase hex (see the module docstring)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_token(token: object) -> tuple[str, str] | None:
    """Split ``kl_<key_id>_<secret>`` into key id and secret; None when malformed."""
    if not isinstance(token, str):
        return None
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    return match["key_id"], match["secret"]


def _new_key_id() -> str:
    """Twelve random letters and digits (no ``_`` or ``-``, so tokens split cleanly)."""
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))


@dataclass(frozen=True)
class _KeyRow:
    """What a store holds for one key."""

    key: ApiKey
    secret_hash: str
    revoked: bool


class _HashedKeyStore(ABC):
    """Token making and checking, shared by the backends; they store rows only."""

    def create(self, organisation: str, role: Role, label: str = "") -> tuple[ApiKey, str]:
        """Make a key; returns it and its bearer token, which is not kept and shown once."""
        organisation = organisation.strip()
        if not organisation:
            msg = "an API key needs the organisation it acts for"
            raise ValueError(msg)
        key = ApiKey(_new_key_id(), organisation, Role(role), label.strip())
        secret = secrets.token_urlsafe(SECRET_BYTES)
        self._insert(_KeyRow(key, hash_secret(secret), revoked=False))
        return key, f"{TOKEN_PREFIX}{key.key_id}_{secret}"

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key the token belongs to, or None (never raises on a bad token)."""
        parsed = parse_token(token)
        if parsed is None:
            return None
        key_id, secret = parsed
        presented = hash_secret(secret)
        row = self._select(key_id)
        if row is None:
            hmac.compare_digest(presented, _NO_HASH)
            return None
        if not hmac.compare_digest(presented, row.secret_hash) or row.revoked:
            return None
        return row.key

    def revoke(self, key_id: str) -> bool:
        """Revoke the key; True if it was active, False if unknown or already revoked."""
        return self._mark_revoked(key_id)

    def note_written(self, key_id: str, position: int) -> None:
        """Remember that the key wrote events up to ``position`` (never moves back)."""
        if position > 0:
            self._raise_written(key_id, position)

    def list(self) -> builtins.list[ApiKey]:
        """The active keys, oldest first."""
        return self._select_active()

    def records(self) -> builtins.list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""
        return self._select_records()

    @abstractmethod
    def _insert(self, row: _KeyRow) -> None: ...

    @abstractmethod
    def _select(self, key_id: str) -> _KeyRow | None: ...

    @abstractmethod
    def _mark_revoked(self, key_id: str) -> bool: ...

    @abstractmethod
    def _raise_written(self, key_id: str, position: int) -> None: ...

    @abstractmethod
    def _select_active(self) -> builtins.list[ApiKey]: ...

    @abstractmethod
    def _select_records(self) -> builtins.list[KeyRecord]: ...


class InMemoryApiKeyStore(_HashedKeyStore):
    """Keys in a dictionary: tests and throwaway demos; nothing survives the process."""

    def __init__(self) -> None:
        """Start with no keys."""
        self._rows: dict[str, _KeyRow] = {}
        self._created: dict[str, dt.datetime] = {}
        self._revoked: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def _insert(self, row: _KeyRow) -> None:
        with self._lock:
            if row.key.key_id in self._rows:  # pragma: no cover - 62**12 ids
                msg = f"API key id {row.key.key_id} is taken"
                raise ValueError(msg)
            self._rows[row.key.key_id] = row
            self._created[row.key.key_id] = dt.datetime.now(dt.UTC)

    def _select(self, key_id: str) -> _KeyRow | None:
        with self._lock:
            return self._rows.get(key_id)

    def _mark_revoked(self, key_id: str) -> bool:
        with self._lock:
            row = self._rows.get(key_id)
            if row is None or row.revoked:
                return False
            self._rows[key_id] = replace(row, revoked=True)
            self._revoked[key_id] = dt.datetime.now(dt.UTC)
            return True

    def _raise_written(self, key_id: str, position: int) -> None:
        with self._lock:
            row = self._rows.get(key_id)
            if row is not None and row.key.written_through < position:
                key = replace(row.key, written_through=position)
                self._rows[key_id] = replace(row, key=key)

    def _select_active(self) -> builtins.list[ApiKey]:
        with self._lock:
            return [row.key for row in self._rows.values() if not row.revoked]

    def _select_records(self) -> builtins.list[KeyRecord]:
        with self._lock:  # dictionaries keep insertion order: oldest first
            return [
                KeyRecord(row.key, self._created[key_id], self._revoked.get(key_id))
                for key_id, row in self._rows.items()
            ]

    def __repr__(self) -> str:
        """Say what it is, not what it holds."""
        return "InMemoryApiKeyStore()"


class SQLiteApiKeyStore(_HashedKeyStore):
    """Keys in the ``api_key`` table of a SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        """Use the database file at ``path``, migrated by ``ledger migrate``.

        ``":memory:"`` is refused: every operation opens its own connection,
        and each would see a different, empty in-memory database.
        """
        if str(path) in ("", ":memory:"):
            msg = "SQLiteApiKeyStore needs a database file, not an in-memory db"
            raise ValueError(msg)
        self._path = str(path)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection whose work commits on success, rolls back on error."""
        with closing(sqlite3.connect(self._path)) as connection, connection:
            yield connection

    def _insert(self, row: _KeyRow) -> None:
        with self._transaction() as connection:
            connection.execute(
                "INSERT INTO api_key (key_id, secret_hash, organisation, role, label)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    row.key.key_id,
                    row.secret_hash,
                    row.key.organisation,
                    row.key.role.value,
                    row.key.label,
                ),
            )

    def _select(self, key_id: str) -> _KeyRow | None:
        with self._transaction() as connection:
            found = connection.execute(
                "SELECT key_id, organisation, role, label, secret_hash, revoked_at,"
                " written_through FROM api_key WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if found is None:
            return None
        key = replace(_key(found), written_through=int(found[6]))
        return _KeyRow(key, str(found[4]), revoked=found[5] is not None)

    def _mark_revoked(self, key_id: str) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE api_key SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
                " WHERE key_id = ? AND revoked_at IS NULL",
                (key_id,),
            )
            return cursor.rowcount > 0

    def _raise_written(self, key_id: str, position: int) -> None:
        with self._transaction() as connection:
            connection.execute(
                "UPDATE api_key SET written_through = ? WHERE key_id = ? AND written_through < ?",
                (position, key_id, position),
            )

    def _select_active(self) -> builtins.list[ApiKey]:
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT key_id, organisation, role, label FROM api_key"
                " WHERE revoked_at IS NULL ORDER BY created_at, key_id"
            ).fetchall()
        return [_key(row) for row in rows]

    def _select_records(self) -> builtins.list[KeyRecord]:
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT key_id, organisation, role, label, created_at, revoked_at FROM api_key"
                " ORDER BY created_at, key_id"
            ).fetchall()
        return [
            KeyRecord(
                _key(row), _sqlite_instant(row[4]), _sqlite_instant(row[5]) if row[5] else None
            )
            for row in rows
        ]

    def __repr__(self) -> str:
        """Name the database file."""
        return f"SQLiteApiKeyStore(path={self._path!r})"


class PostgresApiKeyStore(_HashedKeyStore):
    """Keys in the ``api_key`` table of a PostgreSQL database (psycopg 3)."""

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

    def _insert(self, row: _KeyRow) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO api_key (key_id, secret_hash, organisation, role, label)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    row.key.key_id,
                    row.secret_hash,
                    row.key.organisation,
                    row.key.role.value,
                    row.key.label,
                ),
            )

    def _select(self, key_id: str) -> _KeyRow | None:
        with self._connect() as connection:
            found = connection.execute(
                "SELECT key_id, organisation, role, label, secret_hash, revoked_at,"
                " written_through FROM api_key WHERE key_id = %s",
                (key_id,),
            ).fetchone()
        if found is None:
            return None
        key = replace(_key(found), written_through=int(str(found[6])))
        return _KeyRow(key, str(found[4]), revoked=found[5] is not None)

    def _mark_revoked(self, key_id: str) -> bool:
        with self._connect() as connection:
            cursor = connection.execute(
                "UPDATE api_key SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
                (key_id,),
            )
            return cursor.rowcount > 0

    def _raise_written(self, key_id: str, position: int) -> None:
        with self._connect() as connection, connection.pipeline():
            # Committed without waiting for the disk: other sessions see it at
            # once, which is all the caller's next read needs. A crash may lose
            # it, and then a read merely does not wait; the event itself was
            # committed durably by the ledger. Saves an fsync per command.
            # One pipeline, so the four statements are one round trip.
            connection.execute("BEGIN")
            connection.execute("SET LOCAL synchronous_commit = off")
            connection.execute(
                "UPDATE api_key SET written_through = %s"
                " WHERE key_id = %s AND written_through < %s",
                (position, key_id, position),
            )
            connection.execute("COMMIT")

    def _select_active(self) -> builtins.list[ApiKey]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key_id, organisation, role, label FROM api_key"
                " WHERE revoked_at IS NULL ORDER BY created_at, key_id"
            ).fetchall()
        return [_key(row) for row in rows]

    def _select_records(self) -> builtins.list[KeyRecord]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT key_id, organisation, role, label, created_at, revoked_at FROM api_key"
                " ORDER BY created_at, key_id"
            ).fetchall()
        records = []
        for row in rows:
            created, revoked = row[4], row[5]
            assert isinstance(created, dt.datetime)  # noqa: S101 - a timestamptz column
            assert revoked is None or isinstance(revoked, dt.datetime)  # noqa: S101
            records.append(KeyRecord(_key(row), created, revoked))
        return records

    def __repr__(self) -> str:
        """Say what it is without the connection string (it may hold a password)."""
        return "PostgresApiKeyStore(conninfo=<redacted>)"


def _key(row: tuple[object, ...]) -> ApiKey:
    """An :class:`ApiKey` from ``(key_id, organisation, role, label, ...)``."""
    key_id, organisation, role, label = row[:4]
    return ApiKey(str(key_id), str(organisation), Role(role), "" if label is None else str(label))


def _sqlite_instant(value: object) -> dt.datetime:
    """A UTC instant from the ``YYYY-MM-DDTHH:MM:SS.fffZ`` text the SQLite table keeps."""
    return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


def build_key_store(settings: Settings, pool: ConnectionPool | None = None) -> ApiKeyStore:
    """The key store for ``settings.storage``, in the same database as the events.

    On PostgreSQL, ``pool`` (the API's connection pool) saves a connection per request.
    """
    if settings.storage is Storage.MEMORY:
        return InMemoryApiKeyStore()
    if settings.storage is Storage.SQLITE:
        return SQLiteApiKeyStore(settings.sqlite_path)
    return PostgresApiKeyStore(settings.postgres_conninfo, pool)


__all__ = [
    "ApiKey",
    "ApiKeyStore",
    "InMemoryApiKeyStore",
    "KeyRecord",
    "PostgresApiKeyStore",
    "SQLiteApiKeyStore",
    "build_key_store",
    "hash_secret",
    "parse_token",
]
