"""Views as SQL tables beside a tracking table, on PostgreSQL or SQLite.

A view is one of the event library's tracking recorders: :meth:`SqlView.writing`
opens one transaction in which the projection writes its rows and the view
records the position of the last event those rows include, so an event is
applied exactly once even when the process dies mid-batch (architecture
section 5).

The view code is written once. Statements use psycopg's ``%(name)s``
placeholders; on SQLite they are rewritten to ``:name`` and values are
adapted to text. Read values go through :func:`as_date`, :func:`as_decimal`
and :func:`as_uuid`, which accept either dialect's representation.

Each view's tracking table is ``<view>_tracking`` on both databases (the
library names it so on PostgreSQL; on SQLite this module does), so several
views can share one database file.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg import sql as pgsql

APPLICATION_NAME = "Ledger"  # the application the views follow (pinned name)
_NAMED = re.compile(r"%\((\w+)\)s")

Params = Mapping[str, Any]
Row = dict[str, Any]


@dataclass
class Writes:
    """One batch's changes to a view, worked out before its transaction opens.

    A projection computes its rows first and hands them over as one
    ``Writes``; :meth:`Sql.write` then applies them set-wise inside the
    transaction that also records the position. Computing first keeps the
    transaction short (the event library closes connections left idle in a
    transaction), and set-wise statements keep a batch of thousands of
    contracts to a few round trips.
    """

    # Tables whose rows of the given contracts are deleted first (by contract_id).
    deletes: list[tuple[str, list[uuid.UUID]]] = field(default_factory=list)
    # Rows added afterwards: (table, columns, row tuples).
    inserts: list[tuple[str, tuple[str, ...], list[tuple[object, ...]]]] = field(
        default_factory=list
    )
    # Anything else (upserts of rare rows), run last: (statement, parameter mappings).
    statements: list[tuple[str, list[Params]]] = field(default_factory=list)

    def replace(
        self,
        table: str,
        contract_ids: Sequence[uuid.UUID],
        columns: tuple[str, ...],
        rows: Sequence[tuple[object, ...]],
    ) -> None:
        """Replace every row of ``contract_ids`` in ``table`` by ``rows``."""
        if contract_ids:
            self.deletes.append((table, list(contract_ids)))
        if rows:
            self.inserts.append((table, columns, list(rows)))

    def run(self, statement: str, rows: Sequence[Params]) -> None:
        """Run ``statement`` once for each mapping, after the replacements."""
        if rows:
            self.statements.append((statement, list(rows)))

    @property
    def row_count(self) -> int:
        """How many rows the batch inserts or upserts."""
        return sum(len(r) for _, _, r in self.inserts) + sum(len(r) for _, r in self.statements)


class Sql:
    """A cursor that speaks one placeholder style on both databases."""

    def __init__(self, cursor: Any, dialect: str) -> None:  # noqa: ANN401 - either library cursor
        """Wrap a library cursor of ``dialect`` ("postgres" or "sqlite")."""
        self._cursor = cursor
        self.dialect = dialect

    def execute(self, statement: str, params: Params | None = None) -> None:
        """Run one statement with named parameters."""
        self._cursor.execute(self._statement(statement), self._params(params or {}))

    def executemany(self, statement: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter mapping."""
        if rows:
            self._cursor.executemany(self._statement(statement), [self._params(r) for r in rows])

    def write(self, writes: Writes) -> None:
        """Apply a batch: deletes, then inserts, then the other statements.

        PostgreSQL deletes each table's contracts in one statement
        (``= ANY``) and inserts with ``COPY``; SQLite, in process and without
        round trips, runs the same work as prepared statements.
        """
        for table, ids in writes.deletes:
            if self.dialect == "postgres":
                self._cursor.execute(
                    f"DELETE FROM {table} WHERE contract_id = ANY(%s)",  # noqa: S608 - constant
                    (ids,),
                )
            else:
                self._cursor.executemany(
                    f"DELETE FROM {table} WHERE contract_id = ?",  # noqa: S608 - constant
                    [(str(i),) for i in ids],
                )
        for table, columns, rows in writes.inserts:
            names = ", ".join(columns)
            if self.dialect == "postgres":
                with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                self._cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - constant
                    [tuple(_to_sqlite(v) for v in row) for row in rows],
                )
        for statement, params in writes.statements:
            self.executemany(statement, params)

    def all(self) -> list[Row]:
        """Every row of the last query, as dicts."""
        return [dict(row) for row in self._cursor.fetchall()]

    def one(self) -> Row | None:
        """The first row of the last query, or None."""
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    def _statement(self, statement: str) -> str:
        if self.dialect == "sqlite":
            return _NAMED.sub(r":\1", statement)
        return statement

    def _params(self, params: Params) -> Params:
        if self.dialect == "sqlite":
            return {key: _to_sqlite(value) for key, value in params.items()}
        return params


def _to_sqlite(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date | Decimal | uuid.UUID):
        return str(value)
    return value


def as_date(value: object) -> dt.date:
    """A date read from either database."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def as_optional_date(value: object) -> dt.date | None:
    """A nullable date read from either database."""
    return None if value is None else as_date(value)


def as_decimal(value: object) -> Decimal:
    """A decimal read from either database (SQLite stores it as exact text)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def as_uuid(value: object) -> uuid.UUID:
    """A UUID read from either database."""
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


class SqlView(TrackingRecorder):
    """What every view offers, whichever database holds it."""

    view_name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]  # the view's own tables, emptied by a rebuild
    # The table holding each contract's (contract_id, version, offer), for views
    # priced from tariff sheets; None for views that do not depend on sheets.
    versions_table: ClassVar[str | None] = None

    datastore: Any

    def writing(self, tracking: Tracking | None) -> AbstractContextManager[Sql]:
        """One transaction: rows written inside it and ``tracking`` commit together."""
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[Sql]:
        """Where reads run; writes belong in :meth:`writing`."""
        raise NotImplementedError

    def contract_versions(self, offer: str) -> list[tuple[uuid.UUID, int]]:
        """The contracts of ``offer`` in the view, with the version the view holds."""
        if self.versions_table is None:
            return []
        with self.reading() as cursor:
            cursor.execute(
                f"SELECT contract_id, version FROM {self.versions_table} "  # noqa: S608 - constant
                "WHERE offer = %(offer)s",
                {"offer": offer},
            )
            return [(as_uuid(r["contract_id"]), int(r["version"])) for r in cursor.all()]

    def position(self) -> int:
        """The notification id of the last event the view includes (0: none)."""
        return self.max_tracking_id(APPLICATION_NAME) or 0

    def reset(self) -> None:
        """Empty the view and forget its position, so that it can be rebuilt.

        PostgreSQL truncates the tables: a rebuild then starts from empty
        files, without the dead rows a ``DELETE`` would leave behind.
        """
        with self.writing(None) as cursor:
            empty = "TRUNCATE {}" if cursor.dialect == "postgres" else "DELETE FROM {}"
            for table in self.tables:
                cursor.execute(empty.format(table))
            cursor.execute(
                f"DELETE FROM {self.view_name}_tracking WHERE application_name = %(app)s",  # noqa: S608
                {"app": APPLICATION_NAME},
            )

    def analyze(self) -> None:
        """Refresh the planner's statistics of the view's tables.

        Called after a batch that rewrote many contracts (a rebuild, a
        catch-up): without fresh statistics PostgreSQL keeps plans made for
        empty tables, and an invoice run slows down by half (docs/performance.md).
        """
        with self.writing(None) as cursor:
            for table in self.tables:
                cursor.execute(f"ANALYZE {table}")


class PostgresView(PostgresTrackingRecorder, SqlView):
    """A view in PostgreSQL: tables in the datastore's schema."""

    datastore: PostgresDatastore

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:  # noqa: ANN401 - passed on
        """Remember which pooled connections have the schema as their search_path."""
        super().__init__(datastore, **kwargs)
        self._configured: weakref.WeakSet[Any] = weakref.WeakSet()

    @contextmanager
    def writing(self, tracking: Tracking | None) -> Iterator[Sql]:
        """One transaction for rows and position."""
        with self._connection() as connection, connection.transaction():
            cursor = connection.cursor()
            yield Sql(cursor, "postgres")
            if tracking is not None:
                self._insert_tracking(cursor, tracking)

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        """Statements without a transaction block: each is one round trip.

        The pool's connections are in autocommit mode. Under READ COMMITTED,
        PostgreSQL's default, each statement takes its own snapshot inside a
        transaction too, so a ``BEGIN`` and a ``ROLLBACK`` around reads would
        cost two round trips and change nothing they see.
        """
        with self._connection() as connection:
            yield Sql(connection.cursor(), "postgres")

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection whose search_path is the view's schema.

        The search_path is set once per connection, for the session, rather
        than with ``SET LOCAL`` in every transaction: one round trip less for
        every read of a list and every batch a worker writes. The view's
        pool serves only the view, whose tables are all in that schema.
        """
        with self.datastore.get_connection() as connection:
            if connection not in self._configured:
                self._search_path(connection.cursor())
                self._configured.add(connection)
            yield connection

    def _search_path(self, cursor: Any) -> None:  # noqa: ANN401 - a psycopg cursor
        cursor.execute(
            pgsql.SQL("SET search_path TO {}").format(
                pgsql.Identifier(self.datastore.schema or "public")
            )
        )


class SQLiteView(SQLiteTrackingRecorder, SqlView):
    """A view in SQLite, with its own tracking table ``<view>_tracking``."""

    datastore: SQLiteDatastore

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:  # noqa: ANN401 - passed on
        """Point the library's tracking statements at this view's table."""
        super().__init__(datastore, **kwargs)
        table = f"{self.view_name}_tracking"
        self.insert_tracking_statement = (
            f"INSERT INTO {table} "  # noqa: S608 - the table name is a class constant
            "VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = :notification_id "
            f"WHERE {table}.notification_id < :notification_id "
            "RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {table} WHERE application_name=?"  # noqa: S608
        )

    def construct_create_table_statements(self) -> list[str]:
        """Create this view's tracking table (the view tables come from migrations)."""
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self.view_name}_tracking ("
                "application_name TEXT, notification_id INTEGER, "
                "PRIMARY KEY (application_name)) WITHOUT ROWID"
            )
        ]

    @contextmanager
    def writing(self, tracking: Tracking | None) -> Iterator[Sql]:
        """One transaction for rows and position."""
        with self.datastore.transaction(commit=True) as cursor:
            yield Sql(cursor, "sqlite")
            if tracking is not None:
                self._insert_tracking(cursor, tracking)

    @contextmanager
    def reading(self) -> Iterator[Sql]:
        """A transaction that is rolled back."""
        with self.datastore.transaction(commit=False) as cursor:
            yield Sql(cursor, "sqlite")
