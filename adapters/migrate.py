"""Apply the numbered SQL files in ``migrations/``, once each, and record them.

Files are named ``NNNN_slug.<dialect>.sql`` (dialect ``sqlite`` or
``postgres``); a file without a dialect applies to both. Applied versions are
recorded in ``schema_migrations``, so running ``ledger migrate`` twice is safe.
Tables the event library owns are created by the library itself (see
:mod:`adapters.bootstrap`), not here.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_NAME = re.compile(
    r"^(?P<version>\d{4})_(?P<slug>[a-z0-9_]+)(\.(?P<dialect>sqlite|postgres))?\.sql$"
)
_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: str
    name: str
    path: Path


def pending(dialect: str, applied: set[str], directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations for ``dialect`` not yet in ``applied``, in version order."""
    found: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            msg = f"migration file {path.name} is not named NNNN_slug[.dialect].sql"
            raise ValueError(msg)
        if match["dialect"] not in (None, dialect):
            continue
        version = match["version"]
        if version in found:
            msg = f"two {dialect} migrations have version {version}"
            raise ValueError(msg)
        found[version] = Migration(version, match["slug"], path)
    return [m for v, m in sorted(found.items()) if v not in applied]


def migrate_sqlite(path: Path, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending SQLite migrations to the database file; returns what was applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute(_LEDGER)
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        todo = pending("sqlite", applied, directory)
        for migration in todo:
            conn.executescript(migration.path.read_text(encoding="utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
    return todo


def migrate_postgres(conninfo: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply pending PostgreSQL migrations, each in its own transaction."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(_LEDGER)
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        todo = pending("postgres", applied, directory)
        for migration in todo:
            with conn.transaction():
                conn.execute(migration.path.read_text(encoding="utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, now()::text)",
                    (migration.version, migration.name),
                )
    return todo
