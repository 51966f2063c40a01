"""Settings of each backend for the API's own stores (keys, idempotency).

Each test gets, on PostgreSQL, a schema of its own, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.settings import Settings
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
