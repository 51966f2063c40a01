"""SQL storage for the citizen register (SQLite and PostgreSQL).

Both registers store :class:`~ledger.citizens.EncryptedCitizenRow` values in
the ``citizen_register`` table and inherit all behaviour (validation,
encryption, lookup by keyed hash) from
:class:`~ledger.citizens.EncryptedCitizenRegister`, so they behave exactly like
the in-memory register. The table holds ciphertext and hashes only; erasure
is a hard ``DELETE``.

The DDL lives in ``migrations/0001_citizen_register.{postgres,sqlite}.sql``;
``create_table()`` runs that file and is idempotent.

Each operation opens its own short connection and transaction: simple,
safe across threads, and cheap enough for a register touched once per
placement.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import psycopg

from ledger.citizens import (
    CitizenCipher,
    CitizenId,
    EncryptedCitizenRegister,
    EncryptedCitizenRow,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
POSTGRES_DDL = MIGRATIONS_DIR / "0001_citizen_register.postgres.sql"
SQLITE_DDL = MIGRATIONS_DIR / "0001_citizen_register.sqlite.sql"


class SQLiteCitizenRegister(EncryptedCitizenRegister):
    """The citizen register in a SQLite database file."""

    def __init__(self, path: str, cipher: CitizenCipher) -> None:
        """Use the database file at ``path``; call :meth:`create_table` once.

        ``":memory:"`` is refused: every operation opens its own connection,
        and each would see a different, empty in-memory database.
        """
        if path in ("", ":memory:"):
            msg = "SQLiteCitizenRegister needs a database file, not an in-memory db"
            raise ValueError(msg)
        super().__init__(cipher)
        self._path = path

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection whose work commits on success, rolls back on error."""
        with closing(sqlite3.connect(self._path)) as connection, connection:
            yield connection

    def create_table(self) -> None:
        """Create the ``citizen_register`` table if it does not exist."""
        ddl = SQLITE_DDL.read_text(encoding="utf-8")
        with closing(sqlite3.connect(self._path)) as connection:
            connection.executescript(ddl)

    def _insert_if_absent(self, row: EncryptedCitizenRow) -> CitizenId:
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO citizen_register"
                " (citizen_id, cpr_hash, cpr_encrypted, name_encrypted)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (cpr_hash) DO NOTHING",
                (
                    str(row.citizen_id),
                    row.cpr_hash,
                    row.cpr_encrypted,
                    row.name_encrypted,
                ),
            )
            if cursor.rowcount == 1:
                return row.citizen_id
            found = connection.execute(
                "SELECT citizen_id FROM citizen_register WHERE cpr_hash = ?",
                (row.cpr_hash,),
            ).fetchone()
        if found is None:  # pragma: no cover - the conflicting row was just seen
            msg = "Citizen register conflict on a row that then vanished"
            raise RuntimeError(msg)
        return UUID(found[0])

    def _select_by_id(self, citizen_id: CitizenId) -> EncryptedCitizenRow | None:
        with self._transaction() as connection:
            found = connection.execute(
                "SELECT citizen_id, cpr_hash, cpr_encrypted, name_encrypted"
                " FROM citizen_register WHERE citizen_id = ?",
                (str(citizen_id),),
            ).fetchone()
        if found is None:
            return None
        return EncryptedCitizenRow(
            citizen_id=UUID(found[0]),
            cpr_hash=found[1],
            cpr_encrypted=bytes(found[2]),
            name_encrypted=bytes(found[3]),
        )

    def _select_id_by_hash(self, cpr_hash: str) -> CitizenId | None:
        with self._transaction() as connection:
            found = connection.execute(
                "SELECT citizen_id FROM citizen_register WHERE cpr_hash = ?",
                (cpr_hash,),
            ).fetchone()
        return None if found is None else UUID(found[0])

    def _delete(self, citizen_id: CitizenId) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "DELETE FROM citizen_register WHERE citizen_id = ?",
                (str(citizen_id),),
            )
            return cursor.rowcount > 0

    def __repr__(self) -> str:
        """Name the database file."""
        return f"SQLiteCitizenRegister(path={self._path!r})"


class PostgresCitizenRegister(EncryptedCitizenRegister):
    """The citizen register in a PostgreSQL database (psycopg 3)."""

    def __init__(self, conninfo: str, cipher: CitizenCipher) -> None:
        """Connect with ``conninfo`` for each operation; call :meth:`create_table` once."""
        super().__init__(cipher)
        self._conninfo = conninfo

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """Open a connection; used as a context manager it commits or rolls back."""
        return psycopg.connect(self._conninfo)

    def create_table(self) -> None:
        """Create the ``citizen_register`` table if it does not exist."""
        ddl = POSTGRES_DDL.read_text(encoding="utf-8")
        with self._connect() as connection:
            # The file is trusted DDL shipped with the code, not user input.
            connection.execute(ddl.encode("utf-8"))

    def _insert_if_absent(self, row: EncryptedCitizenRow) -> CitizenId:
        with self._connect() as connection:
            inserted = connection.execute(
                "INSERT INTO citizen_register"
                " (citizen_id, cpr_hash, cpr_encrypted, name_encrypted)"
                " VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (cpr_hash) DO NOTHING"
                " RETURNING citizen_id",
                (row.citizen_id, row.cpr_hash, row.cpr_encrypted, row.name_encrypted),
            ).fetchone()
            if inserted is not None:
                return row.citizen_id
            # Read committed: this statement sees the row that won the race.
            found = connection.execute(
                "SELECT citizen_id FROM citizen_register WHERE cpr_hash = %s",
                (row.cpr_hash,),
            ).fetchone()
        if found is None:  # pragma: no cover - the conflicting row was just seen
            msg = "Citizen register conflict on a row that then vanished"
            raise RuntimeError(msg)
        return _as_uuid(found[0])

    def _select_by_id(self, citizen_id: CitizenId) -> EncryptedCitizenRow | None:
        with self._connect() as connection:
            found = connection.execute(
                "SELECT citizen_id, cpr_hash, cpr_encrypted, name_encrypted"
                " FROM citizen_register WHERE citizen_id = %s",
                (citizen_id,),
            ).fetchone()
        if found is None:
            return None
        return EncryptedCitizenRow(
            citizen_id=_as_uuid(found[0]),
            cpr_hash=str(found[1]),
            cpr_encrypted=_as_bytes(found[2]),
            name_encrypted=_as_bytes(found[3]),
        )

    def _select_id_by_hash(self, cpr_hash: str) -> CitizenId | None:
        with self._connect() as connection:
            found = connection.execute(
                "SELECT citizen_id FROM citizen_register WHERE cpr_hash = %s",
                (cpr_hash,),
            ).fetchone()
        return None if found is None else _as_uuid(found[0])

    def _delete(self, citizen_id: CitizenId) -> bool:
        with self._connect() as connection:
            cursor = connection.execute(
                "DELETE FROM citizen_register WHERE citizen_id = %s",
                (citizen_id,),
            )
            return cursor.rowcount > 0

    def __repr__(self) -> str:
        """Say what it is without the connection string (it may hold a password)."""
        return "PostgresCitizenRegister(conninfo=<redacted>)"


def _as_uuid(value: object) -> UUID:
    """Return a ``uuid`` column value as a UUID (psycopg already gives one)."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _as_bytes(value: object) -> bytes:
    """Return a ``bytea`` column value as bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    msg = f"Expected bytea, got {type(value).__name__}"
    raise TypeError(msg)


__all__ = ["PostgresCitizenRegister", "SQLiteCitizenRegister"]
