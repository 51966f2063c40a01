"""PostgreSQL workers: killed with SIGKILL mid-stream and restarted, the views equal a rebuild.

``ledger project`` runs the library's ProjectionRunner for every view in a
separate process. It is killed without warning while it works through a
backlog, started again, and left to finish; every view must then hold exactly
what replaying the log from the first event gives.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters import demo
from adapters.settings import Settings
from ledger.clock import local_instant
from ledger.values import Party, RequestNature
from projections.registry import VIEWS
from tests.ledger.examples import BUYER_ADMIN, OPERATOR, PROVIDER_ADMIN
from tests.projections.conftest import World
from tests.projections.test_rebuild import dump

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def worker(settings: Settings) -> subprocess.Popen[bytes]:
    """Start ``ledger project`` for ``settings`` in its own process."""
    env = {
        **os.environ,
        "KONTRAKTLEDGER_STORAGE": "postgres",
        "KONTRAKTLEDGER_POSTGRES_HOST": settings.postgres_host,
        "KONTRAKTLEDGER_POSTGRES_PORT": str(settings.postgres_port),
        "KONTRAKTLEDGER_POSTGRES_USER": settings.postgres_user,
        "KONTRAKTLEDGER_POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
        "KONTRAKTLEDGER_POSTGRES_DBNAME": settings.postgres_dbname,
        "KONTRAKTLEDGER_POSTGRES_SCHEMA": settings.postgres_schema,
        # Small batches, so that the worker is killed between commits, mid-stream.
        "KONTRAKTLEDGER_VIEW_BATCH_SIZE": "200",
        "KONTRAKTLEDGER_CITIZEN_KEY": (settings.citizen_key.get_secret_value())
        if settings.citizen_key
        else "",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "project"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def backlog(world: World, contracts: int) -> None:
    """The demo plus ``contracts`` more contracts with a few events each."""
    ledger = world.ledger
    demo.load(ledger, world.runtime.citizens)
    first = ledger.get_contract(next(iter(ledger.contract_ids())))
    world.clock.set(local_instant(dt.date(2025, 3, 1)))
    for number in range(contracts):
        citizen = world.runtime.citizens.register(f"01019{number % 10}{number:04d}"[-10:], "X")
        contract_id = ledger.draft_contract(
            buyer=first.buyer,
            provider=first.provider,
            citizen_id=citizen,
            lines=[line.spec for line in first.lines.values()],
            terms=first.terms,
            actor=OPERATOR,
        )
        start = first.lines["1"].spec.start
        ledger.offer_place(contract_id, start, actor=PROVIDER_ADMIN)
        ledger.finalise_placement(contract_id, start, actor=OPERATOR)
        ledger.sign(contract_id, Party.BUYER, start, actor=BUYER_ADMIN)
        ledger.sign(contract_id, Party.PROVIDER, start, actor=PROVIDER_ADMIN)
        ledger.request_renegotiation(
            contract_id,
            "1",
            requested_by=Party.PROVIDER,
            received_on=dt.date(2025, 2, 10),
            nature=RequestNature.LASTING,
            description="more support at night",
            proposed_step="5",
            actor=PROVIDER_ADMIN,
        )


def wait_until(
    condition: object, timeout: float, what: str, process: subprocess.Popen[bytes]
) -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` s or if ``process`` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        if process.poll() is not None:
            _, errors = process.communicate()
            pytest.fail(f"the worker exited while waiting for {what}: {errors.decode()[-3000:]}")
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_killed_worker_restarts_and_its_views_equal_a_rebuild(world: World) -> None:
    backlog(world, contracts=250)
    head = world.views.head()
    views = world.views.views

    first = worker(world.settings)
    try:
        wait_until(
            lambda: any(0 < v.position() < head for v in views.values()),
            60,
            "a first batch",
            first,
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    positions = {name: v.position() for name, v in views.items()}
    assert any(p < head for p in positions.values()), "killed mid-stream, not after"

    second = worker(world.settings)
    try:
        wait_until(
            lambda: all(v.position() == head for v in views.values()), 120, "the restart", second
        )
        live = {name: dump(view) for name, view in views.items()}
    finally:
        second.send_signal(signal.SIGTERM)
        _, errors = second.communicate(timeout=20)
    assert second.returncode == 0, errors.decode()

    for name in VIEWS:
        world.views.rebuild(name)
        assert dump(views[name]) == live[name], name


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_worker_follows_new_events_and_readers_can_wait_for_them(world: World) -> None:
    demo.load(world.ledger, world.runtime.citizens)
    running = worker(world.settings)
    try:
        world.views.wait(timeout=60)
        contract_id = next(iter(world.ledger.contract_ids()))
        world.clock.set(local_instant(dt.date(2025, 9, 1)))
        world.ledger.hold_follow_up(contract_id, "1", dt.date(2025, 9, 1), actor=BUYER_ADMIN)
        world.views.wait(timeout=30)  # read-your-writes: the position of the write
        rows = world.views.deadlines.deadlines(today=dt.date(2025, 9, 1), contract_id=contract_id)
        assert dt.date(2025, 9, 1) in {r.deadline.done_on for r in rows}
    finally:
        running.send_signal(signal.SIGTERM)
        running.communicate(timeout=20)
    assert running.returncode == 0
