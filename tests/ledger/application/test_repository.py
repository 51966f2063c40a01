"""Loading skips the snapshot store for contracts too short to have a snapshot."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import ContractNotFound
from tests.ledger.examples import BUYER, CITIZEN, OPERATOR, PROVIDER, TERMS, line_85, line_104


class CountingGets:
    """Wraps an event store's ``get`` and counts the calls."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls = 0
        self._get = store.get

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._get(*args, **kwargs)


def draft(ledger: Ledger) -> uuid.UUID:
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104()],
        terms=TERMS,
        actor=OPERATOR,
    )
    ledger.offer_place(contract_id, dt.date(2025, 1, 1), actor=OPERATOR)
    return contract_id


def test_a_short_contract_loads_without_asking_the_snapshot_store(ledger, monkeypatch):
    """Below the interval there can be no snapshot, so none is looked for."""
    contract_id = draft(ledger)
    counter = CountingGets(ledger.snapshots)
    monkeypatch.setattr(ledger.snapshots, "get", counter)

    contract = ledger.get_contract(contract_id)

    assert (2, 0) == (contract.version, counter.calls)


def test_a_long_contract_loads_from_its_snapshot_and_equals_a_full_replay(ledger, monkeypatch):
    """At the interval the snapshot is used; the state equals replaying every event."""
    contract_id = draft(ledger)
    for day in range(60):
        ledger.hold_follow_up(
            contract_id, "1", dt.date(2025, 2, 1) + dt.timedelta(days=day), actor=OPERATOR
        )
    counter = CountingGets(ledger.snapshots)
    monkeypatch.setattr(ledger.snapshots, "get", counter)

    from_snapshot = ledger.get_contract(contract_id)
    replayed = ledger.repository.get(contract_id, version=62)

    assert 1 <= counter.calls
    assert 62 == from_snapshot.version
    assert vars(replayed) == vars(from_snapshot)


def test_a_contract_that_does_not_exist_is_not_found(ledger):
    """No events: ContractNotFound, not a half-built aggregate."""
    with pytest.raises(ContractNotFound):
        ledger.get_contract(uuid.UUID("00000000-0000-4000-8000-00000000dead"))
