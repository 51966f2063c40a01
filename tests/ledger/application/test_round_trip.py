"""What is stored comes back: contracts and sheets reload equal, with who did what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.clock import recording_with
from ledger.contract import Contract
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.tariff_sheet import TariffSheet
from ledger.values import (
    AbsenceKind,
    ComponentPrice,
    IndexSource,
    Party,
    RequestNature,
    RespiteBasis,
)
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PAYER,
    PROVIDER,
    PROVIDER_ADMIN,
    agreed_line,
    line_85,
    line_104,
    sheet_prices,
    terms,
)

D = dt.date
TERMS = terms(
    respite_basis=RespiteBasis.GRANTED_DAYS,
    dpa_reference="DBA 2025-7",
    other_agreements="Pkt. 15: kørsel til dagtilbud afregnes særskilt",
)
LINES = [
    line_85(first_follow_up=D(2025, 4, 1), dwelling_address="Slotsvænget 1"),
    line_104(end=D(2026, 12, 31)),
    agreed_line(basis="412.37", service="100.0625"),
]


def state(aggregate: object) -> dict[str, object]:
    """The aggregate's attributes, without the (empty) list of pending events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def test_a_drafted_contract_reloads_equal_in_a_new_ledger_instance(make_ledger, clock):
    """Parties, citizen, lines, terms and version come back as drafted."""
    first = make_ledger()
    contract_id = first.draft_contract(
        buyer=BUYER,
        payer=PAYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=LINES,
        terms=TERMS,
        actor=BUYER_ADMIN,
    )

    reloaded = make_ledger().get_contract(contract_id)

    assert state(first.get_contract(contract_id)) == state(reloaded)
    assert (BUYER, PAYER, PROVIDER, CITIZEN, TERMS) == (
        reloaded.buyer,
        reloaded.payer,
        reloaded.provider,
        reloaded.citizen_id,
        reloaded.terms,
    )
    assert LINES == [line.spec for line in reloaded.lines.values()]
    assert ["1", "2", "3"] == list(reloaded.lines)
    assert (1, clock.now()) == (reloaded.version, reloaded.created_on)


def test_every_event_carries_the_actor_who_caused_it(make_ledger, clock):
    """Each stored event names the organisation, role, key and request of its caller."""
    ledger = make_ledger()
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=LINES[:2],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )
    ledger.offer_place(contract_id, D(2025, 1, 1), actor=PROVIDER_ADMIN)
    ledger.finalise_placement(contract_id, D(2025, 1, 1), actor=OPERATOR)
    ledger.sign(contract_id, Party.BUYER, D(2025, 1, 2), actor=BUYER_ADMIN)
    request_id = ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 1, 2),
        nature=RequestNature.LASTING,
        description="Flere opgaver",
        actor=PROVIDER_ADMIN,
        proposed_step="4",
    )
    ledger.answer_renegotiation(
        contract_id,
        request_id,
        answered_by=Party.BUYER,
        answered_on=D(2025, 1, 2),
        approved=True,
        agreement_ref="Aftale 1",
        actor=BUYER_ADMIN,
    )
    ledger.start_absence(
        contract_id,
        AbsenceKind.HOSPITAL,
        D(2025, 1, 2),
        notified_on=D(2025, 1, 2),
        actor=PROVIDER_ADMIN,
    )

    events = list(make_ledger().events.get(contract_id))

    assert [
        ("Drafted", BUYER_ADMIN),
        ("PlaceOffered", PROVIDER_ADMIN),
        ("PlacementFinalised", OPERATOR),
        ("Signed", BUYER_ADMIN),
        ("RenegotiationRequested", PROVIDER_ADMIN),
        ("RenegotiationAnswered", BUYER_ADMIN),
        ("AbsenceStarted", PROVIDER_ADMIN),
        ("AbsenceNotified", PROVIDER_ADMIN),
    ] == [(type(e).__name__, e.actor) for e in events]
    assert {clock.now()} == {e.timestamp for e in events}


def test_a_contract_with_a_full_history_reloads_equal_to_the_aggregate_that_recorded_it(
    make_ledger, clock
):
    """State rebuilt from the store equals the state the commands produced, types included.

    The history carries every kind of value: an agreed-price renegotiation
    with a day schedule, an allonge, an index regulation, an absence, a
    non-delivery, a framework notice, notice and re-occupation.
    """
    with recording_with(clock):
        contract = Contract.draft(
            buyer=BUYER,
            provider=PROVIDER,
            citizen_id=CITIZEN,
            lines=LINES,
            terms=TERMS,
            actor=BUYER_ADMIN,
        )
        contract.offer_place(D(2025, 1, 1), actor=PROVIDER_ADMIN)
        contract.finalise_placement(D(2025, 1, 1), actor=OPERATOR)
        request_id = contract.request_renegotiation(
            "3",
            requested_by=Party.PROVIDER,
            received_on=D(2025, 3, 10),
            nature=RequestNature.LASTING,
            description="Døgnskema vedlagt",
            actor=PROVIDER_ADMIN,
            proposed_prices=(
                ComponentPrice("basis", Decimal(450)),
                ComponentPrice("service", Decimal("650.50")),
            ),
            schedule=DaySchedule(
                "2025-03-01", (ScheduleSegment("Morgenrutine", "Bad", 60, 2, days_per_week=5),)
            ),
        )
        contract.answer_renegotiation(
            request_id,
            answered_by=Party.BUYER,
            answered_on=D(2025, 3, 20),
            approved=True,
            agreement_ref="Aftale 2025-3",
            actor=BUYER_ADMIN,
        )
        contract.add_allonge(
            "1",
            valid_from=D(2025, 5, 1),
            valid_to=D(2025, 5, 31),
            daily_delta=Decimal("12.50"),
            description="Ekstra støtte",
            agreement_ref="Allonge 1",
            buyer_accepted=True,
            actor=OPERATOR,
        )
        contract.regulate_by_index(
            2026,
            pl_percentage=Decimal("3.1"),
            overhead_percentage=Decimal(1),
            source=IndexSource.KL,
            edition="KL juni 2025",
            actor=OPERATOR,
        )
        absence_id = contract.start_absence(AbsenceKind.HOSPITAL, D(2025, 6, 1), actor=OPERATOR)
        contract.end_absence(absence_id, D(2025, 6, 5), actor=OPERATOR)
        contract.report_non_delivery(
            by=Party.PROVIDER,
            reported_on=D(2025, 7, 1),
            cause="Borgeren ønsker ikke støtte",
            citizen_related=True,
            actor=PROVIDER_ADMIN,
        )
        contract.notify_framework_change(
            received_on=D(2025, 11, 1),
            framework_version="Rammeaftale 2026",
            adoption_year=2025,
            actor=PROVIDER_ADMIN,
        )
        contract.give_notice(given_by=Party.BUYER, given_on=D(2026, 2, 1), actor=BUYER_ADMIN)
        contract.record_reoccupation(D(2026, 3, 15), actor=PROVIDER_ADMIN)
    make_ledger()._save(contract)

    reloaded = make_ledger().get_contract(contract.id)

    assert 13 == reloaded.version
    assert state(contract) == state(reloaded)


def test_a_published_and_corrected_sheet_reloads_equal_to_the_recorded_one(make_ledger, clock):
    """The sheet's prices, source and correction count come back as recorded."""
    with recording_with(clock):
        sheet = TariffSheet.publish(
            offer=PROVIDER.offer,
            year=2025,
            prices=sheet_prices(),
            source="Takstblad 2025",
            actor=PROVIDER_ADMIN,
        )
        sheet.correct(
            prices=sheet_prices(base=Decimal(120)), reason="Trykfejl", actor=PROVIDER_ADMIN
        )
    make_ledger()._save(sheet)

    reloaded = make_ledger().get_tariff_sheet(PROVIDER.offer, 2025)

    assert (2, 1, Decimal(60)) == (
        reloaded.version,
        reloaded.corrections,
        reloaded.lookup("slotsvaenget-85", "basis", None),
    )
    assert state(sheet) == state(reloaded)
