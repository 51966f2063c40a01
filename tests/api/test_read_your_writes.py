"""Read-your-writes on PostgreSQL (ADR 0015): a view read waits for the caller's own writes only.

The app runs here without projection workers, so the views stay where they
are until the test catches them up: a read that waits shows up as a 503
``views-behind`` after the (short) wait, one that does not answers at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters import demo
from adapters.bootstrap import migrate
from adapters.demo import BUYER_NORD
from api.app import create_app
from api.context import Context
from ledger.clock import FixedClock, local_instant
from ledger.values import Role
from tests.api.conftest import TODAY, ApiWorld, draft_body
from tests.conftest import _reset_postgres_schema, settings_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def unprojected(tmp_path: Path) -> Iterator[ApiWorld]:
    """The app on PostgreSQL with its views caught up once and no worker to move them."""
    _reset_postgres_schema()
    settings = settings_for("postgres", tmp_path).model_copy(update={"view_wait_seconds": 0.3})
    migrate(settings)
    clock = FixedClock(local_instant(TODAY))
    app = create_app(settings, clock=clock)
    ctx: Context = app.state.context
    demo.load(ctx.ledger, ctx.citizens)
    ctx.views.catch_up()
    with TestClient(app) as client:
        yield ApiWorld(client, ctx, clock, "postgres", settings)


def listed(api: ApiWorld, key: dict[str, str]) -> tuple[int, list[str]]:
    response = api.client.get("/v1/contracts", headers=key, params={"limit": 500})
    ids = [item["contract_id"] for item in response.json().get("items", [])]
    return response.status_code, ids


def test_a_reader_that_wrote_nothing_is_not_held_up_by_a_view_behind_the_log(unprojected):
    api = unprojected
    writer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    drafted = api.client.post("/v1/contracts", json=draft_body(api.ctx), headers=writer)
    assert 201 == drafted.status_code

    # Another key of the same buyer wrote nothing: it gets the view as it stands.
    status, ids = listed(api, api.key(BUYER_NORD.cvr, Role.AUDITOR))
    assert 200 == status
    assert drafted.json()["contract_id"] not in ids


def test_a_callers_own_write_is_waited_for_and_then_seen(unprojected):
    api = unprojected
    writer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    drafted = api.client.post("/v1/contracts", json=draft_body(api.ctx), headers=writer)
    assert 201 == drafted.status_code

    behind = api.client.get("/v1/contracts", headers=writer)
    assert 503 == behind.status_code  # no worker took the draft in: never stale data
    assert "views-behind" == behind.json()["rule"]

    api.ctx.views.catch_up()
    status, ids = listed(api, writer)
    assert 200 == status
    assert drafted.json()["contract_id"] in ids


def test_a_refused_command_leaves_nothing_to_wait_for(unprojected):
    api = unprojected
    writer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    body = draft_body(api.ctx)
    body["lines"][0]["step"] = "no-such-step"
    assert 422 == api.client.post("/v1/contracts", json=body, headers=writer).status_code

    status, _ = listed(api, writer)
    assert 200 == status
