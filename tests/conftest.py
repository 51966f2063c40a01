"""Shared fixtures: one ledger per backend (in-memory, SQLite, PostgreSQL).

PostgreSQL tests never skip: when the server at POSTGRES_HOST:POSTGRES_PORT
cannot be reached they fail, so a green run means all three backends ran.
``ops/pg.sh`` finds or starts the local server before the suite runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from pydantic import SecretStr

from adapters.event_store import RECORDER_TOPIC
from adapters.settings import Settings, Storage
from ledger.application import Ledger
from ledger.clock import FixedClock

BACKENDS = ("memory", "sqlite", "postgres")
# One schema per pytest process: two runs at once (a developer's and a
# helper's, or CI beside a benchmark) would otherwise drop each other's tables.
TEST_SCHEMA = f"kl_test_{os.getpid()}"


def postgres_settings() -> dict[str, str]:
    """Connection settings for the local PostgreSQL test database."""
    return {
        "POSTGRES_HOST": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "POSTGRES_PORT": os.environ.get("POSTGRES_PORT", "5432"),
        "POSTGRES_USER": os.environ.get("POSTGRES_USER", "postgres"),
        "POSTGRES_PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
        "POSTGRES_DBNAME": os.environ.get("POSTGRES_DBNAME", "test"),
    }


def postgres_conninfo() -> str:
    """The psycopg connection string for the test database."""
    s = postgres_settings()
    # make_conninfo quotes values: an empty password must not swallow "dbname=...".
    return make_conninfo(
        host=s["POSTGRES_HOST"],
        port=s["POSTGRES_PORT"],
        user=s["POSTGRES_USER"],
        password=s["POSTGRES_PASSWORD"],
        dbname=s["POSTGRES_DBNAME"],
    )


def settings_for(backend: str, data_dir: Path, schema: str = TEST_SCHEMA) -> Settings:
    """Settings of ``backend``: files under ``data_dir``, PostgreSQL in ``schema``."""
    if backend != "postgres":
        return Settings(storage=Storage(backend), data_dir=data_dir)
    pg = postgres_settings()
    return Settings(
        storage=Storage.POSTGRES,
        data_dir=data_dir,
        postgres_host=pg["POSTGRES_HOST"],
        postgres_port=int(pg["POSTGRES_PORT"]),
        postgres_user=pg["POSTGRES_USER"],
        postgres_password=SecretStr(pg["POSTGRES_PASSWORD"]),
        postgres_dbname=pg["POSTGRES_DBNAME"],
        postgres_schema=schema,
        citizen_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
    )


@contextmanager
def own_schema_settings(backend: str, data_dir: Path) -> Iterator[Settings]:
    """Settings of ``backend``; on PostgreSQL a schema of its own, dropped afterwards."""
    schema = f"{TEST_SCHEMA}_{uuid.uuid4().hex[:12]}"
    try:
        yield settings_for(backend, data_dir, schema)
    finally:
        if backend == "postgres":
            with psycopg.connect(postgres_conninfo(), autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def _reset_postgres_schema() -> None:
    with psycopg.connect(postgres_conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {TEST_SCHEMA}")


def ledger_env(backend: str, tmp_path: Path) -> dict[str, str]:
    """The event-library environment for ``backend``."""
    if backend == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if backend == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "ledger.sqlite"),
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
        "POSTGRES_SCHEMA": TEST_SCHEMA,
        **postgres_settings(),
    }


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn."""
    return str(request.param)


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at noon in Copenhagen on 2 January 2025."""
    return FixedClock.at_local(dt.date(2025, 1, 2))


@pytest.fixture
def make_ledger(backend: str, tmp_path: Path, clock: FixedClock) -> Iterator[Callable[[], Ledger]]:
    """Build ledgers on the backend; all share one store within a test."""
    if backend == "postgres":
        _reset_postgres_schema()
    env = ledger_env(backend, tmp_path)
    built: list[Ledger] = []
    shared: Ledger | None = None

    def make() -> Ledger:
        nonlocal shared
        if backend == "memory":
            # The in-memory store lives in the application; share it.
            shared = shared or Ledger(env, clock=clock)
            return shared
        app = Ledger(env, clock=clock)
        built.append(app)
        return app

    yield make
    for app in built:
        app.close()
    if shared is not None:
        shared.close()


@pytest.fixture
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    """A ledger on the backend under test."""
    return make_ledger()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:  # noqa: ARG001
    """Drop this run's schema (when PostgreSQL was used at all)."""
    try:
        with psycopg.connect(postgres_conninfo(), autocommit=True, connect_timeout=2) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE")
    except psycopg.OperationalError:
        pass  # no server: nothing was made there
