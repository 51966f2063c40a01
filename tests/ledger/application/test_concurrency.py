"""Optimistic concurrency: a writer that got in first wins; nobody's update is lost."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.clock import recording_with
from ledger.errors import ConcurrencyConflict
from ledger.tariff_sheet import TariffSheet
from tests.ledger.examples import (
    BUYER_ADMIN,
    OPERATOR,
    PROVIDER,
    placed_contract,
    sheet_prices,
)

D = dt.date


def event_count(ledger: Ledger, contract_id: uuid.UUID) -> int:
    return len(list(ledger.events.get(contract_id)))


def test_a_command_with_a_stale_expected_version_is_refused_and_records_nothing(ledger):
    """The caller read version 2 but the contract is at 3: ConcurrencyConflict."""
    contract_id = placed_contract(ledger)

    with pytest.raises(ConcurrencyConflict) as raised:
        ledger.hold_follow_up(
            contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN, expected_version=2
        )

    assert "expected_version" == raised.value.field
    assert 3 == ledger.get_contract(contract_id).version
    assert 3 == event_count(ledger, contract_id)


def test_a_command_with_the_current_expected_version_is_recorded(ledger):
    """The caller read version 3 and the contract is at 3: the follow-up is recorded."""
    contract_id = placed_contract(ledger)

    ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=BUYER_ADMIN, expected_version=3)

    contract = ledger.get_contract(contract_id)
    assert (4, (D(2025, 2, 1),)) == (contract.version, contract.lines["1"].follow_ups)


def test_a_sheet_correction_with_a_stale_expected_version_is_refused(ledger):
    """Correcting a sheet the caller read at version 0 leaves it at version 1."""
    ledger.publish_tariff_sheet(
        offer=PROVIDER.offer, year=2025, prices=sheet_prices(), source="T", actor=OPERATOR
    )

    with pytest.raises(ConcurrencyConflict):
        ledger.correct_tariff_sheet(
            offer=PROVIDER.offer,
            year=2025,
            prices=sheet_prices(base=Decimal(120)),
            reason="Rettelse",
            actor=OPERATOR,
            expected_version=0,
        )

    sheet = ledger.get_tariff_sheet(PROVIDER.offer, 2025)
    assert (1, 0) == (sheet.version, sheet.corrections)


def test_of_two_writers_that_loaded_the_same_version_the_second_save_conflicts(make_ledger, clock):
    """Both load version 3 and record a follow-up; the first save wins, the second fails."""
    first, second = make_ledger(), make_ledger()
    contract_id = placed_contract(first)
    mine = first.get_contract(contract_id)
    theirs = second.get_contract(contract_id)
    with recording_with(clock):
        mine.hold_follow_up("1", D(2025, 2, 1), actor=BUYER_ADMIN)
        theirs.hold_follow_up("2", D(2025, 2, 2), actor=BUYER_ADMIN)

    first._save(mine)
    with pytest.raises(ConcurrencyConflict):
        second._save(theirs)

    stored = make_ledger().get_contract(contract_id)
    assert 4 == stored.version
    assert ((D(2025, 2, 1),), ()) == (stored.lines["1"].follow_ups, stored.lines["2"].follow_ups)
    assert 4 == event_count(make_ledger(), contract_id)


def test_the_loser_of_a_conflict_succeeds_when_it_reads_again_and_retries(make_ledger, clock):
    """After the conflict, the command through the application applies on the new version."""
    first, second = make_ledger(), make_ledger()
    contract_id = placed_contract(first)
    mine = first.get_contract(contract_id)
    theirs = second.get_contract(contract_id)
    with recording_with(clock):
        mine.hold_follow_up("1", D(2025, 2, 1), actor=BUYER_ADMIN)
        theirs.hold_follow_up("2", D(2025, 2, 2), actor=BUYER_ADMIN)
    first._save(mine)
    with pytest.raises(ConcurrencyConflict):
        second._save(theirs)

    second.hold_follow_up(contract_id, "2", D(2025, 2, 2), actor=BUYER_ADMIN, expected_version=4)

    stored = make_ledger().get_contract(contract_id)
    assert (5, (D(2025, 2, 1),), (D(2025, 2, 2),)) == (
        stored.version,
        stored.lines["1"].follow_ups,
        stored.lines["2"].follow_ups,
    )


def test_two_concurrent_publications_of_the_same_sheet_leave_one_sheet(make_ledger, clock):
    """Both pass the "not yet published" check; the store refuses the second sheet."""
    first, second = make_ledger(), make_ledger()
    with recording_with(clock):
        ours = TariffSheet.publish(
            offer=PROVIDER.offer, year=2025, prices=sheet_prices(), source="A", actor=OPERATOR
        )
        theirs = TariffSheet.publish(
            offer=PROVIDER.offer,
            year=2025,
            prices=sheet_prices(base=Decimal(200)),
            source="B",
            actor=OPERATOR,
        )

    first._save(ours)
    with pytest.raises(ConcurrencyConflict):
        second._save(theirs)

    assert "A" == make_ledger().get_tariff_sheet(PROVIDER.offer, 2025).source
