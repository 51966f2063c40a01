"""A ledger with its read models on each backend, built the way the CLI builds them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.bootstrap import Runtime, build, migrate
from adapters.settings import Settings
from adapters.views import Views
from ledger.application import Ledger
from ledger.clock import FixedClock
from tests.conftest import _reset_postgres_schema, settings_for


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
