"""A live view (worker) writes its batch when idle, and also when the batch gets old.

Under steady load the log is never idle, so without the age bound a worker
would hold a batch until it is full, and every reader waiting for the view to
reach the head (read-your-writes) would wait that long.
"""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Tracking

import projections.base
from projections.base import bind
from projections.registry import VIEWS
from projections.sql import APPLICATION_NAME
from tests.projections.conftest import World
from tests.projections.test_views import signed


class FakeTime:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


def test_a_batch_is_written_once_it_is_max_delay_old_although_events_keep_coming(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed(world)  # five events
    fake = FakeTime()
    monkeypatch.setattr(projections.base, "time", fake)
    view = world.views.views["contract_summary"]
    projection = bind(VIEWS["contract_summary"].projection, world.ledger)(view)
    notifications = world.ledger.recorder.select_notifications(1, 3)

    def feed(index: int, at: float) -> None:
        fake.now = at
        notification = notifications[index]
        event = world.ledger.mapper.to_domain_event(notification)
        projection.process_event(event, Tracking(APPLICATION_NAME, notification.id))

    feed(0, 100.000)
    feed(1, 100.010)
    fake.now = 100.015
    projection.flush_if_idle(linger=0.05, max_delay=0.02)
    assert 0 == view.position(), "young and busy: the batch waits"

    feed(2, 100.025)
    fake.now = 100.026
    projection.flush_if_idle(linger=0.05, max_delay=0.02)
    assert notifications[2].id == view.position(), "26 ms old: written though not idle"


def test_an_idle_log_writes_the_batch_after_linger(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed(world)
    fake = FakeTime()
    monkeypatch.setattr(projections.base, "time", fake)
    view = world.views.views["contract_summary"]
    projection = bind(VIEWS["contract_summary"].projection, world.ledger)(view)
    (notification,) = world.ledger.recorder.select_notifications(1, 1)
    projection.process_event(
        world.ledger.mapper.to_domain_event(notification),
        Tracking(APPLICATION_NAME, notification.id),
    )

    fake.now += 0.01
    projection.flush_if_idle(linger=0.05, max_delay=1.0)
    assert 0 == view.position()
    fake.now += 0.05
    projection.flush_if_idle(linger=0.05, max_delay=1.0)
    assert notification.id == view.position()
