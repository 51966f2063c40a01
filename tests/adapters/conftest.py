"""Settings of each backend for the API's own stores (keys, idempotency).

Each test gets, on PostgreSQL, a schema of its own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.bootstrap import ensure_postgres_database
from adapters.migrate import migrate_postgres, migrate_sqlite
from adapters.settings import Settings, Storage
from tests.conftest import own_schema_settings

ALL_BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ALL_BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Settings of each backend in turn."""
    with own_schema_settings(str(request.param), tmp_path) as backend:
        yield backend


@pytest.fixture(params=SQL_BACKENDS)
def sql_settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Settings of each SQL backend in turn, nothing migrated yet."""
    with own_schema_settings(str(request.param), tmp_path) as backend:
        yield backend


def migrate_tables(settings: Settings) -> Settings:
    """Make the API's tables with the SQL migrations (nothing to make in memory)."""
    if settings.storage is Storage.SQLITE:
        migrate_sqlite(settings.sqlite_path)
    elif settings.storage is Storage.POSTGRES:
        ensure_postgres_database(settings)
        migrate_postgres(settings.postgres_conninfo)
    return settings
