"""Given events, when a command, then new events or an error.

Aggregates are built from facts (events), never from commands, so a test of
one rule does not depend on the rules of the commands that led there. ``when``
returns the new events without their envelope (id, version, timestamp), so a
test compares exactly what the command decided.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from eventsourcing.domain import Aggregate

from ledger.errors import LedgerError

A = TypeVar("A", bound=Aggregate)
E = TypeVar("E", bound=LedgerError)

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}
RECORDED_AT = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Fact:
    """An event class and its payload, before it is given an envelope."""

    event_class: type[Any]
    payload: dict[str, Any]


def fact(event_class: type[Any], **payload: Any) -> Fact:
    """A past event of ``event_class`` with ``payload``."""
    return Fact(event_class, payload)


def given(aggregate_class: type[A], *facts: Fact) -> A:
    """The aggregate these facts produce, replayed as the store would."""
    aggregate_id = uuid.uuid4()
    topic = f"{aggregate_class.__module__}:{aggregate_class.__qualname__}"
    aggregate: Any = None
    for version, item in enumerate(facts, start=1):
        envelope: dict[str, Any] = {
            "originator_id": aggregate_id,
            "originator_version": version,
            "timestamp": RECORDED_AT,
        }
        if version == 1:
            envelope["originator_topic"] = topic
        event = item.event_class(**envelope, **item.payload)
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, aggregate_class)
    return aggregate


def when(aggregate: A, command: Callable[[A], Any]) -> list[tuple[type[Any], dict[str, Any]]]:
    """Run ``command`` and return the new events as (class, payload) pairs."""
    command(aggregate)
    return [
        (type(e), {k: v for k, v in vars(e).items() if k not in ENVELOPE})
        for e in aggregate.collect_events()
    ]


def then_rejected(aggregate: A, command: Callable[[A], Any], error: type[E]) -> E:
    """Assert ``command`` raises ``error`` and records nothing; return the error."""
    before = dict(vars(aggregate))
    with pytest.raises(error) as raised:
        command(aggregate)
    assert [] == aggregate.collect_events()
    assert before == vars(aggregate)
    return raised.value
