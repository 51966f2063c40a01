"""Contracts and sheets kept in memory: never stale, never shared for writing.

Two ledgers over one store stand for two processes (web workers): what one
records, the other's next read sees, although it keeps the contract in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.application import SHARED_CACHE_SIZE, Ledger, tracking_writes
from ledger.clock import FixedClock
from ledger.errors import RuleViolation
from tests.conftest import _reset_postgres_schema, ledger_env
from tests.ledger.examples import BUYER_ADMIN, OPERATOR, PROVIDER, placed_contract, sheet_prices

D = dt.date


@pytest.fixture(params=["sqlite", "postgres"])
def two_ledgers(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> Iterator[Callable[[int], Ledger]]:
    """Ledgers over one store, each keeping up to ``size`` aggregates in memory."""
    if request.param == "postgres":
        _reset_postgres_schema()
    built: list[Ledger] = []

    def make(size: int) -> Ledger:
        env = ledger_env(str(request.param), tmp_path) | {SHARED_CACHE_SIZE: str(size)}
        built.append(Ledger(env, clock=clock))
        return built[-1]

    yield make
    for ledger in built:
        ledger.close()


def test_a_kept_contract_shows_what_another_process_recorded(two_ledgers):
    reader, writer = two_ledgers(10), two_ledgers(10)
    contract_id = placed_contract(writer)
    before = reader.get_contract(contract_id, shared=True)

    writer.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN)

    after = reader.get_contract(contract_id, shared=True)
    assert (before.version + 1, (D(2025, 2, 1),)) == (after.version, after.lines["1"].follow_ups)
    assert () == before.lines["1"].follow_ups, "a kept instance is replaced, never changed"


def test_a_shared_read_is_the_kept_instance_and_a_private_one_a_copy(two_ledgers):
    ledger = two_ledgers(10)
    contract_id = placed_contract(ledger)
    shared = ledger.get_contract(contract_id, shared=True)

    assert shared is ledger.get_contract(contract_id, shared=True)
    private = ledger.get_contract(contract_id)
    assert private is not shared
    private.hold_follow_up("1", D(2025, 2, 1), actor=BUYER_ADMIN)  # changed, never saved
    assert () == ledger.get_contract(contract_id, shared=True).lines["1"].follow_ups


def test_a_refused_command_leaves_the_kept_contract_as_stored(two_ledgers):
    ledger = two_ledgers(10)
    contract_id = placed_contract(ledger)
    kept = ledger.get_contract(contract_id, shared=True)

    with pytest.raises(RuleViolation):
        ledger.hold_follow_up(contract_id, "1", D(2020, 1, 1), actor=BUYER_ADMIN)  # before start

    assert kept is ledger.get_contract(contract_id, shared=True)
    assert kept.version == len(list(ledger.events.get(contract_id)))


def test_a_command_keeps_the_state_it_saved(two_ledgers):
    ledger = two_ledgers(10)
    contract_id = placed_contract(ledger)

    ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN)

    kept = ledger.get_contract(contract_id, shared=True)
    assert kept.version == len(list(ledger.events.get(contract_id)))
    assert (D(2025, 2, 1),) == kept.lines["1"].follow_ups


def test_no_more_than_the_configured_number_is_kept(two_ledgers):
    ledger = two_ledgers(1)
    first, second = placed_contract(ledger), placed_contract(ledger)
    kept_first = ledger.get_contract(first, shared=True)

    ledger.get_contract(second, shared=True)

    assert kept_first is not ledger.get_contract(first, shared=True)


def test_a_kept_sheet_is_replaced_not_changed_and_another_process_sees_its_correction(two_ledgers):
    reader, writer = two_ledgers(10), two_ledgers(10)
    writer.publish_tariff_sheet(
        offer=PROVIDER.offer, year=2025, prices=sheet_prices(), source="T", actor=OPERATOR
    )
    kept = writer.sheets().sheet(PROVIDER.offer, 2025)
    first = reader.sheets().sheet(PROVIDER.offer, 2025)

    writer.correct_tariff_sheet(
        offer=PROVIDER.offer,
        year=2025,
        prices=sheet_prices(base=Decimal(101)),
        reason="typo",
        actor=OPERATOR,
    )

    corrected = reader.sheets().sheet(PROVIDER.offer, 2025)
    assert first is not None
    assert corrected is not None
    assert (first.version + 1, first.version) == (corrected.version, kept.version)


def test_latest_false_answers_from_memory_and_latest_true_asks_the_store(two_ledgers):
    """``latest=False`` is for what cannot change (parties) or was just saved here."""
    reader, writer = two_ledgers(10), two_ledgers(10)
    contract_id = placed_contract(writer)
    kept = reader.get_contract(contract_id, shared=True)
    writer.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN)

    assert kept is reader.get_contract(contract_id, shared=True, latest=False)
    assert kept.version + 1 == reader.get_contract(contract_id, shared=True).version
    # A private copy is for a command: always the latest, whatever is asked.
    assert kept.version + 1 == reader.get_contract(contract_id, latest=False).version


def test_tracking_writes_names_the_position_of_the_last_event_saved(two_ledgers):
    ledger = two_ledgers(10)
    contract_id = placed_contract(ledger)
    with tracking_writes() as nothing:
        ledger.get_contract(contract_id)
    with tracking_writes() as written:
        ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN)
    ledger.hold_follow_up(contract_id, "1", D(2025, 3, 1), actor=BUYER_ADMIN)  # after the block

    assert 0 == nothing.position
    assert written.position == ledger.recorder.max_notification_id() - 1
