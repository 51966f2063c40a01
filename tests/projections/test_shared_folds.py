"""The views of one process read a contract back from the event store once, not once each.

Each projection keeps its own folded contracts and changes them in place. When
one misses a contract (a worker that has not seen it since it started), the
others of the same process usually miss it at the same event: they take a
private copy of what the first one read instead of reading and decoding the
contract's events again. The reads are counted on the real event store.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.bootstrap import build
from adapters.views import Views
from ledger import errors
from ledger.application import Ledger
from ledger.contract import Contract
from projections.base import SHARED_FOLDS, ContractFolder, SharedFolds, shared_folds
from projections.registry import VIEWS
from tests.ledger.examples import BUYER_ADMIN, OPERATOR
from tests.projections.conftest import World
from tests.projections.test_rebuild import dump, record_history
from tests.projections.test_views import signed


class StoreReads:
    """Counts, and optionally holds up, the calls of the real event store's ``get``."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read: list[uuid.UUID] = []
        self.entered = threading.Event()  # set on the first call
        self.release: threading.Event | None = None  # the first call waits for it
        real = ledger.events.get

        def get(originator_id: uuid.UUID, *args: Any, **kwargs: Any) -> Iterator[Any]:
            self.read.append(originator_id)
            first = not self.entered.is_set()
            self.entered.set()
            if first and self.release is not None:
                self.release.wait(10)
            return iter(list(real(originator_id, *args, **kwargs)))

        monkeypatch.setattr(ledger.events, "get", get)

    @property
    def calls(self) -> int:
        """How many times the store was read."""
        return len(self.read)


def next_event(world: World, contract_id: uuid.UUID) -> Contract.Event:
    """Record a follow-up on the contract and return its event, as a view receives it."""
    world.ledger.hold_follow_up(contract_id, "1", dt.date(2025, 2, 3), actor=BUYER_ADMIN)
    version = world.ledger.get_contract(contract_id).version
    (event,) = world.ledger.events.get(contract_id, gt=version - 1)
    assert isinstance(event, Contract.Event)
    return event


def test_a_second_folder_of_the_same_source_takes_a_private_copy_without_reading(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_id = signed(world)  # five events
    follow_up = next_event(world, contract_id)  # version 6, not folded yet
    reads = StoreReads(world.ledger, monkeypatch)
    first = ContractFolder(world.ledger)
    second = ContractFolder(world.ledger)

    mine = first.get(contract_id, 5)
    assert reads.calls == 1
    theirs = second.get(contract_id, 5)
    assert reads.calls == 1, "the second folder's miss must not read the store"
    assert theirs == mine
    assert theirs is not mine
    assert theirs.contract is not mine.contract
    assert theirs.recorded_on is not mine.recorded_on

    # The second folder folds the next event onto its own copy, in place.
    assert second.apply(follow_up) is theirs
    assert theirs.contract.version == 6
    assert mine.contract.version == 5, "the first folder's contract must not change"
    assert sorted(mine.recorded_on) == [1, 2, 3, 4, 5]
    # What is shared did not change either: a third folder still gets version 5.
    third = ContractFolder(world.ledger).get(contract_id, 5)
    assert third == mine
    assert reads.calls == 1


def test_what_is_shared_carries_no_projection_s_price_cause(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_id = signed(world)
    reads = StoreReads(world.ledger, monkeypatch)
    first = ContractFolder(world.ledger).get(contract_id, 5)
    first.priced_at, first.priced_by = 42, "Signed v5"  # what a projection sets after a load

    second = ContractFolder(world.ledger).get(contract_id, 5)
    assert (second.priced_at, second.priced_by) == (0, "")
    assert reads.calls == 1


def test_folders_missing_the_same_contract_together_read_the_store_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The four runner threads of a worker receive each event at about the same time."""
    contract_id = signed(world)
    reads = StoreReads(world.ledger, monkeypatch)
    reads.release = threading.Event()
    folders = [ContractFolder(world.ledger) for _ in range(3)]
    got: dict[int, Any] = {}

    def miss(index: int) -> None:
        got[index] = folders[index].get(contract_id, 5)

    threads = [threading.Thread(target=miss, args=(i,)) for i in range(3)]
    threads[0].start()
    assert reads.entered.wait(10), "the first folder must be reading the store"
    for thread in threads[1:]:
        thread.start()
    threads[1].join(0.2)  # the others are waiting for the first read, not reading
    reads.release.set()
    for thread in threads:
        thread.join(10)

    assert reads.calls == 1
    assert got[0] == got[1] == got[2]
    assert len({id(folded.contract) for folded in got.values()}) == 3


def test_a_failed_read_is_not_shared_and_the_next_miss_reads_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_id = signed(world)
    reads = StoreReads(world.ledger, monkeypatch)
    folder = ContractFolder(world.ledger)
    with pytest.raises(LookupError):
        folder.get(uuid.uuid4(), 3)
    assert folder.get(contract_id, 5).contract.version == 5
    assert ContractFolder(world.ledger).get(contract_id, 5).contract.version == 5
    assert reads.calls == 2


def test_the_shared_cache_is_bounded_and_drops_the_least_recently_used(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shared_folds(world.ledger).capacity == SHARED_FOLDS
    contract_id = signed(world)
    reads = StoreReads(world.ledger, monkeypatch)
    shared = SharedFolds(capacity=2)
    for version in (3, 4, 5):
        ContractFolder(world.ledger, shared=shared).get(contract_id, version)
    assert len(shared) == 2
    assert reads.calls == 3

    ContractFolder(world.ledger, shared=shared).get(contract_id, 5)
    ContractFolder(world.ledger, shared=shared).get(contract_id, 4)
    assert reads.calls == 3, "versions 4 and 5 are kept"
    ContractFolder(world.ledger, shared=shared).get(contract_id, 3)
    assert reads.calls == 4, "version 3 was dropped"
    assert len(shared) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_folders_of_different_sources_share_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract_id = signed(world)
    other = build(world.settings, clock=world.clock)  # a second ledger over the same store
    try:
        assert shared_folds(other.ledger) is not shared_folds(world.ledger)
        assert shared_folds(world.ledger) is shared_folds(world.ledger)
        ContractFolder(world.ledger).get(contract_id, 5)
        reads = StoreReads(other.ledger, monkeypatch)
        ContractFolder(other.ledger).get(contract_id, 5)
        assert reads.calls == 1
    finally:
        other.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_restarted_process_reads_each_contract_once_and_writes_the_same_rows(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New views over the same tables (a restart) miss every contract changed since.

    The views catch up one after another: only the first reads a contract back,
    and the rows equal those of a rebuild from the first event.
    """
    record_history(world)
    day = dt.date(2025, 6, 30)
    changed = 0
    for contract_id in list(world.ledger.contract_ids()):
        try:
            world.ledger.hold_follow_up(contract_id, "1", day, actor=OPERATOR)
            world.ledger.hold_follow_up(contract_id, "1", day, actor=OPERATOR)
        except errors.LedgerError:
            continue  # e.g. rescinded: no more follow-ups
        changed += 1
    assert changed >= 2

    restarted = Views(world.settings, world.ledger)  # new projections, the same tables
    try:
        reads = StoreReads(world.ledger, monkeypatch)
        restarted.catch_up()
        caught_up = {name: dump(view) for name, view in restarted.views.items()}
    finally:
        restarted.close()
    assert reads.calls >= changed
    assert len(set(reads.read)) == reads.calls, "each contract is read back once, not per view"

    shared_folds(world.ledger).clear()
    for name in VIEWS:
        world.views.rebuild(name)
        assert dump(world.views.views[name]) == caught_up[name], name
