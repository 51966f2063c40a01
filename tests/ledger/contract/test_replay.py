"""Replay: a contract rebuilt from its own events has the state it had when they were recorded.

Event bodies must only change state, never decide, so that replay (and
snapshots, and projections) see exactly what the commands saw.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    UUIDAsHex,
)

from ledger.application import VALUE_TYPES
from ledger.contract import Contract
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.transcoding import register_all
from ledger.values import (
    AbsenceKind,
    ComponentPrice,
    IndexSource,
    Party,
    RequestNature,
    RescissionGround,
)
from tests.ledger.examples import (
    BUYER,
    CITIZEN,
    OPERATOR,
    PAYER,
    PROVIDER,
    START,
    TERMS,
    agreed_line,
    line_85,
    line_104,
)
from tests.ledger.given_when_then import ENVELOPE

SCHEDULE = DaySchedule(
    "2025-03-01",
    (
        ScheduleSegment("Morgenrutine", "Bad og påklædning", 60, citizens_per_staff=2),
        ScheduleSegment("Øvrig", "Dokumentation", 30, direct=False, days_per_week=5),
    ),
)


def busy_contract() -> tuple[Contract, list[Any]]:
    """A contract with nearly every kind of event, and the events it recorded."""
    c = Contract.draft(
        buyer=BUYER,
        payer=PAYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104(), agreed_line()],
        terms=TERMS,
        actor=OPERATOR,
    )
    c.revise_provisional_step("1", "4", actor=OPERATOR)
    c.offer_place(dt.date(2025, 1, 10), actor=OPERATOR)
    c.finalise_placement(dt.date(2025, 1, 12), actor=OPERATOR)
    c.sign(Party.BUYER, dt.date(2025, 1, 13), actor=OPERATOR)
    c.sign(Party.PROVIDER, dt.date(2025, 1, 14), actor=OPERATOR)
    c.add_service_line(line_104(step="3:1", start=dt.date(2025, 2, 1)), actor=OPERATOR)
    c.change_step(
        "2",
        "2:3",
        effective_from=dt.date(2025, 3, 1),
        agreed_on=dt.date(2025, 2, 20),
        agreement_ref="Aftale 1",
        actor=OPERATOR,
    )
    c.request_renegotiation(
        "1",
        requested_by=Party.PROVIDER,
        received_on=dt.date(2025, 3, 10),
        nature=RequestNature.LASTING,
        description="Varigt øget behov",
        proposed_step="5",
        requested_effective_from=dt.date(2025, 3, 15),
        schedule=SCHEDULE,
        actor=OPERATOR,
    )
    c.answer_renegotiation(
        "R1",
        answered_by=Party.BUYER,
        answered_on=dt.date(2025, 4, 20),
        approved=True,
        agreement_ref="Tillæg 1",
        actor=OPERATOR,
    )
    c.request_renegotiation(
        "3",
        requested_by=Party.BUYER,
        received_on=dt.date(2025, 4, 1),
        nature=RequestNature.LASTING,
        description="Lavere behov",
        proposed_prices=(
            ComponentPrice("basis", Decimal(380)),
            ComponentPrice("service", Decimal(550)),
        ),
        actor=OPERATOR,
    )
    c.answer_renegotiation(
        "R2",
        answered_by=Party.PROVIDER,
        answered_on=dt.date(2025, 4, 15),
        approved=True,
        agreement_ref="Tillæg 2",
        actor=OPERATOR,
    )
    c.add_allonge(
        "3",
        valid_from=dt.date(2025, 5, 1),
        valid_to=dt.date(2025, 5, 31),
        daily_delta=Decimal("125.50"),
        description="Midlertidig nattevagt",
        agreement_ref="Allonge 1",
        buyer_accepted=True,
        actor=OPERATOR,
    )
    c.start_absence(
        AbsenceKind.HOSPITAL,
        dt.date(2025, 6, 1),
        notified_on=dt.date(2025, 6, 9),
        actor=OPERATOR,
    )
    c.end_absence("A1", dt.date(2025, 6, 20), actor=OPERATOR)
    c.report_non_delivery(
        by=Party.PROVIDER,
        reported_on=dt.date(2025, 7, 1),
        cause="Borgeren ønsker ikke indsatsen",
        citizen_related=True,
        actor=OPERATOR,
    )
    c.notify_framework_change(
        received_on=dt.date(2025, 11, 15),
        framework_version="Rammeaftale 2026",
        adoption_year=2025,
        actor=OPERATOR,
    )
    c.regulate_by_tariff_sheet(2026, actor=OPERATOR)
    c.regulate_by_index(
        2026,
        pl_percentage=Decimal("2.4"),
        overhead_percentage=Decimal("0.3"),
        beyond_index_percentage=Decimal("1.0"),
        buyer_acceptance_ref="Accept 1",
        source=IndexSource.KL,
        edition="KL juni 2025",
        actor=OPERATOR,
    )
    c.hold_follow_up("1", dt.date(2025, 4, 1), actor=OPERATOR)
    c.give_notice(given_by=Party.BUYER, given_on=dt.date(2026, 2, 1), actor=OPERATOR)
    c.record_reoccupation(dt.date(2026, 4, 1), actor=OPERATOR)
    c.declare_force_majeure(
        by=Party.PROVIDER, declared_on=dt.date(2026, 3, 1), description="Brand", actor=OPERATOR
    )
    c.rescind_without_notice(
        by=Party.PROVIDER,
        effective_on=dt.date(2026, 3, 2),
        ground=RescissionGround.FORCE_MAJEURE,
        actor=OPERATOR,
    )
    return c, list(c.collect_events())


def replay(events: list[Any]) -> Contract:
    """The contract the events produce when mutated in order from nothing."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Contract)
    return aggregate


EVENT_NAMES = {
    "Drafted",
    "ServiceLineAdded",
    "ProvisionalStepRevised",
    "PlaceOffered",
    "PlacementFinalised",
    "Signed",
    "StepChanged",
    "RenegotiationRequested",
    "RenegotiationAnswered",
    "AllongeAdded",
    "AbsenceStarted",
    "AbsenceNotified",
    "AbsenceEnded",
    "NonDeliveryReported",
    "ForceMajeureDeclared",
    "RescindedWithoutNotice",
    "FrameworkChangeNotified",
    "RegulatedByTariffSheet",
    "RegulatedByIndex",
    "NoticeGiven",
    "PlaceReoccupied",
    "PaymentEndAgreed",
    "FollowUpHeld",
}


def test_the_busy_contract_records_every_kind_of_contract_event_but_one():
    """The scenario exercises all events except PaymentEndAgreed (option 4 only)."""
    _, events = busy_contract()

    assert EVENT_NAMES - {"PaymentEndAgreed"} == {type(e).__name__ for e in events}
    assert 25 == len(events)


def test_a_contract_rebuilt_from_its_events_equals_the_original():
    """Replaying the collected events gives the same state, attribute by attribute."""
    original, events = busy_contract()

    rebuilt = replay(events)

    assert vars(original) == vars(rebuilt)


def test_the_rebuilt_contract_answers_the_same_questions():
    """Derived facts agree after replay."""
    original, events = busy_contract()

    rebuilt = replay(events)

    for day in (START, dt.date(2025, 3, 14), dt.date(2025, 3, 15), dt.date(2026, 3, 2)):
        assert original.status(day) == rebuilt.status(day)
        for line_id in original.lines:
            assert original.lines[line_id].step_on(day) == rebuilt.lines[line_id].step_on(day)
            assert original.lines[line_id].prices_on(day) == rebuilt.lines[line_id].prices_on(day)
    assert (original.payment_end, original.delivery_end) == (
        rebuilt.payment_end,
        rebuilt.delivery_end,
    )
    assert dt.date(2026, 3, 1) == rebuilt.payment_end
    assert "5" == rebuilt.lines["1"].step_on(dt.date(2025, 3, 15))
    assert "4" == rebuilt.lines["1"].step_on(dt.date(2025, 3, 14))


def stored_form(events: list[Any]) -> list[Any]:
    """The events as the store gives them back: encoded to JSON and decoded again."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_all(transcoder, VALUE_TYPES)
    return [type(e)(**transcoder.decode(transcoder.encode(dict(vars(e))))) for e in events]


def payload(event: Any) -> dict[str, Any]:
    """The event's payload, with the JSON list/tuple distinction of the library ignored."""
    return {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in vars(event).items()
        if k not in ENVELOPE
    }


def test_every_payload_survives_the_stored_json_form():
    """Every value in every payload is transcoded and comes back equal."""
    _, events = busy_contract()

    assert [payload(e) for e in events] == [payload(e) for e in stored_form(events)]


def test_a_contract_rebuilt_from_stored_events_equals_the_original():
    """A contract loaded from the store has the state it had when its events were recorded."""
    original, events = busy_contract()

    rebuilt = replay(stored_form(events))

    assert vars(original) == vars(rebuilt)


def test_approved_agreed_prices_read_back_from_the_store_are_the_agreed_tuple():
    """prices_on gives the same value after a reload as before it."""
    original, events = busy_contract()

    rebuilt = replay(stored_form(events))

    day = dt.date(2025, 4, 1)
    assert original.lines["3"].prices_on(day) == rebuilt.lines["3"].prices_on(day)
    assert (
        ComponentPrice("basis", Decimal(380)),
        ComponentPrice("service", Decimal(550)),
    ) == rebuilt.lines["3"].prices_on(day)
