"""The API on each production backend, built the way ``ledger serve`` builds it.

SQLite runs embedded (the views catch up inside the request). PostgreSQL runs
with projection workers in a separate thread, as ``ledger project`` would in
its own process, so read-your-writes is tested across that boundary.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters import demo
from adapters.bootstrap import migrate
from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from adapters.settings import Settings
from adapters.views import run_workers
from api.app import create_app
from api.context import Context
from ledger.clock import FixedClock, local_instant
from ledger.values import Role
from projections.registry import VIEWS
from tests.conftest import _reset_postgres_schema, settings_for

TODAY = dt.date(2025, 3, 3)
API_BACKENDS = ("sqlite", "postgres")


@dataclass
class ApiWorld:
    """A running app with the demo data, its context and its clock."""

    client: TestClient
    ctx: Context
    clock: FixedClock
    backend: str
    settings: Settings
    _keys: dict[tuple[str, Role], dict[str, str]] = field(default_factory=dict)

    def key(self, organisation: str, role: Role) -> dict[str, str]:
        """Authorization headers of a (cached) key for ``organisation`` with ``role``."""
        found = self._keys.get((organisation, role))
        if found is None:
            _, token = self.ctx.keys.create(organisation, role)
            found = {"Authorization": f"Bearer {token}"}
            self._keys[organisation, role] = found
        return found

    def head(self) -> int:
        """The notification id of the last recorded event: a rejected request leaves it."""
        return self.ctx.views.head()

    def settle(self) -> None:
        """Let the views take in every event recorded so far.

        A caller's view reads wait for that caller's own writes only (ADR
        0015); what a test wrote through the ledger directly, as somebody
        else, reaches the views when their workers get to it.
        """
        self.ctx.views.wait()


def start_app(backend: str, tmp_path: Path, clock: FixedClock) -> Iterator[ApiWorld]:
    """Migrate, build the app, load the demo, run PostgreSQL workers; tear all down."""
    if backend == "postgres":
        _reset_postgres_schema()
    settings = settings_for(backend, tmp_path)
    migrate(settings)
    app = create_app(settings, clock=clock)
    ctx: Context = app.state.context
    demo.load(ctx.ledger, ctx.citizens)  # tariff sheets and a few contracts
    stop = threading.Event()
    worker = None
    if backend == "postgres":
        worker = threading.Thread(
            target=run_workers, args=(settings, list(VIEWS)), kwargs={"stop": stop}, daemon=True
        )
        worker.start()
    try:
        with TestClient(app) as client:
            world = ApiWorld(client, ctx, clock, backend, settings)
            world.settle()  # the demo data was written by nobody's key
            yield world
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=10)


@pytest.fixture(params=API_BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiWorld]:
    """The app with the demo data on SQLite and on PostgreSQL, clock at 3 March 2025."""
    yield from start_app(str(request.param), tmp_path, FixedClock(local_instant(TODAY)))


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[ApiWorld]:
    """The app on SQLite only (for tests whose subject is not the backend)."""
    yield from start_app("sqlite", tmp_path, FixedClock(local_instant(TODAY)))


def draft_body(ctx: Context, *, buyer: Any = BUYER_NORD, cpr: str = "0101901234") -> dict[str, Any]:
    """A valid draft of a §104 day-service placement with Støttepakken for a new citizen."""
    citizen = ctx.citizens.register(cpr, "Test Borger")
    return {
        "buyer": {"name": buyer.name, "cvr": buyer.cvr, "ean": buyer.ean},
        "provider": {
            "offer": STOTTEPAKKEN.offer,
            "name": STOTTEPAKKEN.name,
            "registration": STOTTEPAKKEN.registration,
            "operator": STOTTEPAKKEN.operator.value,
        },
        "citizen_id": str(citizen),
        "lines": [
            {
                "paragraph": "SEL §104",
                "tariff_model": "slotsvaenget-104",
                "step": "1:2",
                "quantity": "1",
                "unit": "days-per-week",
                "start": "2025-03-01",
            }
        ],
        "terms": {
            "payment_option": "1",
            "notice_period": {"months": 3},
            "data_role": "independent-controller",
        },
    }
