"""Snapshots: a long-lived contract loads from a snapshot into the same state as by replay."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from eventsourcing.domain import CanMutateProtocol

from ledger.application import Ledger
from ledger.contract import Contract
from ledger.pricing import price_timeline
from ledger.values import Party
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    START,
    TERMS,
    line_85,
    line_104,
    sheet_prices,
)

D = dt.date
FOLLOW_UPS = 45  # with the 7 other events: 52 events, past the interval of 50


@pytest.fixture
def long_lived(make_ledger):
    """A contract with 52 events, so a snapshot was taken at version 50.

    Besides 45 follow-ups it has an allonge, a regulation, a non-delivery and a
    framework notice: every tuple the contract keeps is non-empty.
    """
    ledger = make_ledger()
    for year, base in ((2025, 100), (2026, 110)):
        ledger.publish_tariff_sheet(
            offer=PROVIDER.offer,
            year=year,
            prices=sheet_prices(base=Decimal(base)),
            source=f"Takstblad {year}",
            actor=OPERATOR,
        )
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104()],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )
    ledger.offer_place(contract_id, START, actor=PROVIDER_ADMIN)
    ledger.finalise_placement(contract_id, START, actor=OPERATOR)
    ledger.add_allonge(
        contract_id,
        "1",
        valid_from=D(2025, 3, 10),
        valid_to=D(2025, 3, 12),
        daily_delta=Decimal(25),
        description="Ekstra støtte",
        agreement_ref="Allonge 1",
        buyer_accepted=True,
        actor=OPERATOR,
    )
    ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=OPERATOR)
    ledger.report_non_delivery(
        contract_id,
        by=Party.PROVIDER,
        reported_on=D(2025, 4, 1),
        cause="Borgeren afviser støtten",
        citizen_related=True,
        actor=PROVIDER_ADMIN,
    )
    ledger.notify_framework_change(
        contract_id,
        received_on=D(2025, 11, 1),
        framework_version="Rammeaftale 2026",
        adoption_year=2025,
        actor=PROVIDER_ADMIN,
    )
    for week in range(FOLLOW_UPS):
        ledger.hold_follow_up(contract_id, "1", START + dt.timedelta(weeks=week), actor=BUYER_ADMIN)
    return contract_id


def replayed(ledger: Ledger, contract_id: uuid.UUID) -> Contract:
    """The contract rebuilt from all its events, ignoring snapshots."""
    contract = None
    for domain_event in ledger.events.get(contract_id):
        assert isinstance(domain_event, CanMutateProtocol)
        contract = domain_event.mutate(contract)
    assert isinstance(contract, Contract)
    return contract


def state(aggregate: object) -> dict[str, object]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def test_a_snapshot_is_taken_at_version_50(make_ledger, long_lived):
    """Every 50th contract event triggers a snapshot; 52 events give one."""
    ledger = make_ledger()

    snapshots = list(ledger.snapshots.get(long_lived))

    assert [50] == [s.originator_version for s in snapshots]
    assert 52 == ledger.get_contract(long_lived).version


def test_a_contract_loaded_from_its_snapshot_equals_the_contract_replayed_from_events(
    make_ledger, long_lived
):
    """Every attribute, tuples included, is the same whichever way the contract is loaded."""
    ledger = make_ledger()

    loaded = ledger.get_contract(long_lived)

    assert state(replayed(ledger, long_lived)) == state(loaded)


def test_prices_from_a_snapshot_equal_prices_from_replay(make_ledger, long_lived):
    """The allonge and the 2026 regulation survive the snapshot."""
    ledger = make_ledger()
    sheets = ledger.sheets()

    loaded = ledger.get_contract(long_lived)

    for line_id in ("1", "2"):
        assert price_timeline(
            replayed(ledger, long_lived), line_id, sheets, end=D(2026, 12, 31)
        ) == price_timeline(loaded, line_id, sheets, end=D(2026, 12, 31))
    march_11 = ledger.prices_on(long_lived, D(2025, 3, 11))["1"]
    assert march_11 is not None
    assert Decimal(205) == march_11.daily


def test_a_contract_loaded_from_its_snapshot_takes_further_commands(make_ledger, long_lived):
    """A second allonge after the snapshot is added to the first."""
    ledger = make_ledger()

    ledger.add_allonge(
        long_lived,
        "2",
        valid_from=D(2025, 6, 1),
        valid_to=D(2025, 6, 30),
        daily_delta=Decimal(10),
        description="Ekstra aktivitet",
        agreement_ref="Allonge 2",
        buyer_accepted=True,
        actor=OPERATOR,
    )

    contract = make_ledger().get_contract(long_lived)
    assert [("1", Decimal(25)), ("2", Decimal(10))] == [
        (a.line_id, a.daily_delta) for a in contract.allonges
    ]
    assert 53 == contract.version
