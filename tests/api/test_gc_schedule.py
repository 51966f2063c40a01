"""Full garbage collections on a schedule: the kept contracts make each one a long pause."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.bootstrap import migrate
from adapters.gc_schedule import NEVER, full_collections_every
from api.app import create_app
from tests.conftest import settings_for


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_full_collections_run_on_the_schedule_and_python_starts_none_itself():
    before, done = gc.get_threshold(), full_collections()

    with full_collections_every(0.02):
        during = gc.get_threshold()
        frozen = gc.get_freeze_count()
        time.sleep(0.2)

    assert (before[0], before[1], NEVER) == during
    assert frozen > 0, "what startup made is frozen, never scanned again"
    assert full_collections() >= done + 3
    assert before == gc.get_threshold(), "the defaults come back when the app stops"
    assert 0 == gc.get_freeze_count()


def test_zero_seconds_leaves_pythons_defaults_alone():
    before = gc.get_threshold()

    with full_collections_every(0):
        assert before == gc.get_threshold()


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
