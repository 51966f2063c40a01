"""Full garbage collections on a schedule: the kept contracts make each one a long pause."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.bootstrap import migrate
from api.app import NEVER, create_app, scheduled_full_collections
from tests.projections.conftest import settings_for


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_full_collections_run_on_the_schedule_and_python_starts_none_itself():
    before, done = gc.get_threshold(), full_collections()

    async def serve_a_while() -> tuple[tuple[int, int, int], int]:
        async with scheduled_full_collections(0.02):
            during = gc.get_threshold()
            frozen = gc.get_freeze_count()
            await asyncio.sleep(0.2)
        return during, frozen

    during, frozen = asyncio.run(serve_a_while())

    assert (before[0], before[1], NEVER) == during
    assert frozen > 0, "what startup made is frozen, never scanned again"
    assert full_collections() >= done + 3
    assert before == gc.get_threshold(), "the defaults come back when the app stops"
    assert 0 == gc.get_freeze_count()


def test_zero_seconds_leaves_pythons_defaults_alone():
    before = gc.get_threshold()

    async def serve() -> tuple[int, int, int]:
        async with scheduled_full_collections(0):
            return gc.get_threshold()

    assert before == asyncio.run(serve())


def test_the_app_collects_on_its_schedule_while_it_serves(tmp_path: Path):
    settings = settings_for("sqlite", tmp_path).model_copy(
        update={"gc_full_collection_seconds": 300.0}
    )
    migrate(settings)
    before = gc.get_threshold()
    with TestClient(create_app(settings)) as client:
        assert 200 == client.get("/healthz").status_code
        assert NEVER == gc.get_threshold()[2]
    assert before == gc.get_threshold()
