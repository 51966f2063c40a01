"""A ledger with its read models on each backend, built the way the CLI builds them."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.bootstrap import Runtime, build, migrate
from adapters.settings import Settings, Storage
from adapters.views import Views
from ledger.application import Ledger
from ledger.clock import FixedClock
from tests.conftest import TEST_SCHEMA, _reset_postgres_schema, postgres_settings


def settings_for(backend: str, data_dir: Path) -> Settings:
    """Settings of ``backend`` with data under ``data_dir`` (PostgreSQL: the test schema)."""
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
        postgres_schema=TEST_SCHEMA,
        citizen_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
    )


@dataclass
class World:
    """The ledger, its views and the clock they share."""

    runtime: Runtime
    views: Views
    clock: FixedClock
    settings: Settings

    @property
    def ledger(self) -> Ledger:
        """The application."""
        return self.runtime.ledger


@pytest.fixture
def world(backend: str, tmp_path: Path, clock: FixedClock) -> Iterator[World]:
    """A migrated ledger and its views on ``backend``."""
    if backend == "postgres":
        _reset_postgres_schema()
    settings = settings_for(backend, tmp_path)
    migrate(settings)
    runtime = build(settings, clock=clock)
    views = Views(settings, runtime.ledger)
    yield World(runtime, views, clock, settings)
    views.close()
    runtime.close()
