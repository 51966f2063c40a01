"""A contract's history: one readable line per event, its business dates and who recorded it.

Every event class of the contract has a description; the table below holds
one recorded example of each, and a test fails when a class of
``ledger.contract`` has none. Descriptions never carry free text a user
typed (it could hold a name or a CPR number).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock, local_instant
from ledger.contract import Contract
from ledger.history import DESCRIBERS, business_dates, contract_history, describe, recorded_days
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
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    TERMS,
    line_85,
    line_104,
    placed_contract,
    publish_sheet,
)

D = dt.date
CONTRACT_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
RECORDED = dt.datetime(2025, 5, 3, 8, 30, tzinfo=dt.UTC)
FREE_TEXT = "Anna Demo 0101901234"  # a name and a CPR number typed into free text


def recorded(event_class: type[Any], version: int = 2, **payload: Any) -> Any:
    """An event of ``event_class`` as the store gives it back."""
    envelope: dict[str, Any] = {
        "originator_id": CONTRACT_ID,
        "originator_version": version,
        "timestamp": RECORDED,
    }
    if version == 1:
        envelope["originator_topic"] = "ledger.contract:Contract"
    return event_class(**envelope, **payload, actor=OPERATOR)


REQUEST = recorded(
    Contract.RenegotiationRequested,
    request_id="R1",
    line_id="1",
    requested_by=Party.PROVIDER,
    received_on=D(2025, 4, 10),
    nature=RequestNature.LASTING,
    proposed_step="4",
    proposed_prices=(),
    requested_effective_from=None,
    description=FREE_TEXT,
    schedule=None,
)
ABSENCE = recorded(
    Contract.AbsenceStarted, absence_id="A1", kind=AbsenceKind.HOSPITAL, started_on=D(2025, 6, 3)
)

# One recorded example of every event class, with its expected description.
EXAMPLES: dict[type[Any], tuple[Any, str]] = {
    Contract.Drafted: (
        recorded(
            Contract.Drafted,
            version=1,
            buyer=BUYER,
            payer=None,
            provider=PROVIDER,
            citizen_id=CITIZEN,
            lines=(line_85(), line_104(end=D(2025, 12, 31))),
            terms=TERMS,
        ),
        (
            "Placement drafted between buyer CVR 29189919 (EAN 5798000000018) and provider "
            "11715311 (offer slotsvaenget-stottepakken); line 1: SEL §85 (slotsvaenget-85) step 3 "
            "from 2025-01-01; line 2: SEL §104 (slotsvaenget-104) step 2:2 from 2025-01-01 to "
            "2025-12-31"
        ),
    ),
    Contract.ServiceLineAdded: (
        recorded(Contract.ServiceLineAdded, line_id="3", spec=line_104(start=D(2025, 2, 1))),
        "Line 3 added: SEL §104 (slotsvaenget-104) step 2:2 from 2025-02-01",
    ),
    Contract.ProvisionalStepRevised: (
        recorded(Contract.ProvisionalStepRevised, line_id="1", step="4"),
        "Provisional step of line 1 revised to 4 (before the placement is final)",
    ),
    Contract.PlaceOffered: (
        recorded(Contract.PlaceOffered, offered_on=D(2025, 1, 6)),
        "The citizen was offered the place on 2025-01-06",
    ),
    Contract.PlacementFinalised: (
        recorded(Contract.PlacementFinalised, final_on=D(2025, 1, 9)),
        "The placement became final on 2025-01-09; steps change by agreement from now on",
    ),
    Contract.Signed: (
        recorded(Contract.Signed, party=Party.BUYER, signed_on=D(2025, 1, 11)),
        "The buyer signed on 2025-01-11",
    ),
    Contract.StepChanged: (
        recorded(
            Contract.StepChanged,
            line_id="1",
            step="2:3",
            effective_from=D(2025, 4, 1),
            agreed_on=D(2025, 3, 20),
            agreement_ref="A-17",
        ),
        (
            "Buyer and provider agreed step 2:3 on line 1 from 2025-04-01 "
            "(agreement A-17, agreed on 2025-03-20)"
        ),
    ),
    Contract.RenegotiationRequested: (
        REQUEST,
        (
            "The provider asked to renegotiate line 1 (request R1, lasting change), proposing "
            "step 4; received 2025-04-10, answer due by 2025-05-10"
        ),
    ),
    Contract.RenegotiationAnswered: (
        recorded(
            Contract.RenegotiationAnswered,
            request_id="R1",
            answered_by=Party.BUYER,
            answered_on=D(2025, 5, 3),
            approved=True,
            agreement_ref="Tillæg 2025-05-03",
            effective_from=D(2025, 4, 10),
            late=False,
            reason=FREE_TEXT,
        ),
        (
            "The buyer approved request R1 on line 1 on 2025-05-03: step 4 from 2025-04-10 "
            "(agreement Tillæg 2025-05-03)"
        ),
    ),
    Contract.AllongeAdded: (
        recorded(
            Contract.AllongeAdded,
            line_id="1",
            valid_from=D(2025, 5, 1),
            valid_to=D(2025, 7, 31),
            daily_delta=Decimal("150.5"),
            description=FREE_TEXT,
            agreement_ref="Allonge 3",
            buyer_accepted=True,
        ),
        (
            "Allonge on line 1 from 2025-05-01 to 2025-07-31: +150.50 DKK per day "
            "(agreement Allonge 3)"
        ),
    ),
    Contract.AbsenceStarted: (
        ABSENCE,
        (
            "A hospitalisation began on 2025-06-03 (absence A1); "
            "the provider's notice is due by 2025-06-10"
        ),
    ),
    Contract.AbsenceNotified: (
        recorded(Contract.AbsenceNotified, absence_id="A1", notified_on=D(2025, 6, 12), late=True),
        "The provider notified the hospitalisation A1 on 2025-06-12 (late)",
    ),
    Contract.AbsenceEnded: (
        recorded(Contract.AbsenceEnded, absence_id="A1", ended_on=D(2025, 6, 20)),
        "The hospitalisation A1 ended on 2025-06-20",
    ),
    Contract.NonDeliveryReported: (
        recorded(
            Contract.NonDeliveryReported,
            by=Party.BUYER,
            reported_on=D(2025, 8, 1),
            cause=FREE_TEXT,
            citizen_related=False,
        ),
        (
            "The buyer reported on 2025-08-01 that the service is not delivered "
            "(cause not related to the citizen)"
        ),
    ),
    Contract.ForceMajeureDeclared: (
        recorded(
            Contract.ForceMajeureDeclared,
            by=Party.PROVIDER,
            declared_on=D(2025, 8, 2),
            description=FREE_TEXT,
        ),
        "The provider declared force majeure on 2025-08-02",
    ),
    Contract.RescindedWithoutNotice: (
        recorded(
            Contract.RescindedWithoutNotice,
            by=Party.BUYER,
            effective_on=D(2025, 8, 15),
            ground=RescissionGround.NON_DELIVERY,
        ),
        "The buyer ended the contract without notice from 2025-08-15 (ground: non-delivery)",
    ),
    Contract.FrameworkChangeNotified: (
        recorded(
            Contract.FrameworkChangeNotified,
            received_on=D(2025, 12, 2),
            framework_version="Rammeaftale 2026",
            adoption_year=2025,
            in_time=False,
        ),
        (
            "The provider notified rammeaftale Rammeaftale 2026 adopted in 2025, received "
            "2025-12-02 (after 1 December 2025, too late)"
        ),
    ),
    Contract.RegulatedByTariffSheet: (
        recorded(Contract.RegulatedByTariffSheet, year=2026),
        "Tariff-sheet lines moved to the 2026 tariff sheet from 2026-01-01",
    ),
    Contract.RegulatedByIndex: (
        recorded(
            Contract.RegulatedByIndex,
            year=2026,
            pl_percentage=Decimal("2.9"),
            overhead_percentage=Decimal(0),
            beyond_index_percentage=Decimal("1.5"),
            source=IndexSource.KL,
            edition="KL juni 2025",
            buyer_acceptance_ref="Accept 12",
        ),
        (
            "Agreed prices indexed from 2026-01-01 by KL's estimate (edition KL juni 2025): "
            "price and wage +2.9 %, beyond the index +1.5 %, buyer's acceptance Accept 12"
        ),
    ),
    Contract.NoticeGiven: (
        recorded(
            Contract.NoticeGiven,
            given_by=Party.BUYER,
            given_on=D(2025, 9, 15),
            last_day=D(2025, 12, 15),
        ),
        "The buyer gave notice on 2025-09-15; the notice period ends on 2025-12-15",
    ),
    Contract.PlaceReoccupied: (
        recorded(Contract.PlaceReoccupied, reoccupied_on=D(2025, 11, 1)),
        "The provider reported the place re-occupied from 2025-11-01",
    ),
    Contract.PaymentEndAgreed: (
        recorded(Contract.PaymentEndAgreed, payment_end=D(2025, 11, 30), agreement_ref="Aftale 9"),
        "The parties agreed that payment ends on 2025-11-30 (agreement Aftale 9)",
    ),
    Contract.FollowUpHeld: (
        recorded(Contract.FollowUpHeld, line_id="2", held_on=D(2025, 4, 2)),
        "Follow-up on line 2 held on 2025-04-02",
    ),
    Contract.RespiteDaysUsed: (
        recorded(
            Contract.RespiteDaysUsed,
            line_id="2",
            month=D(2025, 3, 1),
            days=(D(2025, 3, 7), D(2025, 3, 8), D(2025, 3, 21)),
        ),
        "3 respite døgn used on line 2 in 2025-03",
    ),
}


def contract_event_classes() -> list[type[Any]]:
    """Every event class the contract declares.

    ``Contract.Created`` is the library's default creation event; a contract
    is created by ``Drafted`` and never records it.
    """
    return [
        value
        for value in vars(Contract).values()
        if isinstance(value, type)
        and issubclass(value, Contract.Event)
        and value not in {Contract.Event, Contract.Created}
    ]


def test_every_event_class_of_the_contract_has_a_description_and_an_example():
    classes = contract_event_classes()

    missing_describer = [c.__name__ for c in classes if c not in DESCRIBERS]
    missing_example = [c.__name__ for c in classes if c not in EXAMPLES]

    assert len(classes) >= 24
    assert [] == missing_describer
    assert [] == missing_example


@pytest.mark.parametrize("event_class", list(EXAMPLES), ids=lambda c: c.__name__)
def test_each_event_is_described_in_one_line(event_class):
    event, expected = EXAMPLES[event_class]

    entries = contract_history([REQUEST, ABSENCE, event])  # earlier events it may refer to

    assert expected == entries[-1].description
    assert "\n" not in expected


def test_free_text_and_personal_data_never_reach_a_description():
    texts = [describe(event) for event, _ in EXAMPLES.values()]
    texts += [e.description for e in contract_history([REQUEST, ABSENCE, *_answers()])]

    assert all("Anna" not in text and "0101901234" not in text for text in texts)


def _answers() -> list[Any]:
    return [
        recorded(
            Contract.RenegotiationAnswered,
            version=4,
            request_id="R1",
            answered_by=Party.BUYER,
            answered_on=D(2025, 5, 20),
            approved=False,
            agreement_ref=None,
            effective_from=None,
            late=True,
            reason=FREE_TEXT,
        )
    ]


def test_a_rejection_names_the_request_and_its_line_and_says_it_was_late():
    entries = contract_history([REQUEST, *_answers()])

    assert "The buyer rejected request R1 on line 1 on 2025-05-20 (late)" == entries[-1].description


def test_an_event_of_an_unknown_class_is_still_listed_under_its_name():
    class Unforeseen(Contract.Event):
        """An event class added without a description."""

    event = Unforeseen(originator_id=CONTRACT_ID, originator_version=2, timestamp=RECORDED)

    entries = contract_history([event])

    assert describe(event).startswith("Unforeseen (no description")
    assert "Unforeseen" == entries[0].event_type
    assert entries[0].actor is None


def test_business_dates_are_the_payload_dates_and_never_the_recording_time():
    answered, _ = EXAMPLES[Contract.RenegotiationAnswered]
    drafted, _ = EXAMPLES[Contract.Drafted]
    respite, _ = EXAMPLES[Contract.RespiteDaysUsed]
    regulated, _ = EXAMPLES[Contract.RegulatedByIndex]

    assert {"answered_on": D(2025, 5, 3), "effective_from": D(2025, 4, 10)} == business_dates(
        answered
    )
    assert {
        "lines.1.start": D(2025, 1, 1),
        "lines.2.start": D(2025, 1, 1),
        "lines.2.end": D(2025, 12, 31),
    } == business_dates(drafted)
    assert {
        "month": D(2025, 3, 1),
        "first_day": D(2025, 3, 7),
        "last_day": D(2025, 3, 21),
    } == business_dates(respite)
    assert {"effective_from": D(2026, 1, 1)} == business_dates(regulated)


def test_the_history_of_a_recorded_contract_lists_every_event_with_its_actor_in_order():
    clock = FixedClock(local_instant(D(2025, 1, 2)))
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)  # drafted by the buyer, offered by the provider
    clock.set(local_instant(D(2025, 4, 11)))
    request = ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 4, 10),
        nature=RequestNature.LASTING,
        description=FREE_TEXT,
        proposed_step="5",
        actor=PROVIDER_ADMIN,
    )
    clock.set(local_instant(D(2025, 5, 3)))
    ledger.answer_renegotiation(
        contract_id,
        request,
        answered_by=Party.BUYER,
        answered_on=D(2025, 5, 3),
        approved=True,
        agreement_ref="Tillæg 7",
        actor=BUYER_ADMIN,
    )

    entries = contract_history(ledger.events.get(contract_id))

    assert [1, 2, 3, 4, 5] == [e.version for e in entries]
    assert [
        "Drafted",
        "PlaceOffered",
        "PlacementFinalised",
        "RenegotiationRequested",
        "RenegotiationAnswered",
    ] == [e.event_type for e in entries]
    assert [BUYER_ADMIN, PROVIDER_ADMIN, OPERATOR, PROVIDER_ADMIN, BUYER_ADMIN] == [
        e.actor for e in entries
    ]
    assert local_instant(D(2025, 5, 3)) == entries[-1].recorded_at
    assert (
        "The buyer approved request R1 on line 1 on 2025-05-03: step 5 from 2025-04-10 "
        "(agreement Tillæg 7)"
    ) == entries[-1].description
    assert {"answered_on": D(2025, 5, 3), "effective_from": D(2025, 4, 10)} == (
        entries[-1].business_dates
    )
    assert {1: D(2025, 1, 2), 4: D(2025, 4, 11), 5: D(2025, 5, 3)}.items() <= recorded_days(
        ledger.events.get(contract_id)
    ).items()


def test_a_proposal_of_agreed_prices_is_described_by_its_prices():
    request = recorded(
        Contract.RenegotiationRequested,
        request_id="R2",
        line_id="1",
        requested_by=Party.BUYER,
        received_on=D(2025, 4, 10),
        nature=RequestNature.LASTING,
        proposed_step=None,
        proposed_prices=(
            ComponentPrice("basis", Decimal(410)),
            ComponentPrice("service", Decimal("620.5")),
        ),
        requested_effective_from=D(2025, 5, 1),
        description=FREE_TEXT,
        schedule=None,
    )
    answer = recorded(
        Contract.RenegotiationAnswered,
        request_id="R2",
        answered_by=Party.PROVIDER,
        answered_on=D(2025, 4, 20),
        approved=True,
        agreement_ref="Tillæg 8",
        effective_from=D(2025, 5, 1),
        late=False,
        reason="",
    )

    entries = contract_history([request, answer])

    assert (
        "The buyer asked to renegotiate line 1 (request R2, lasting change), proposing "
        "prices basis 410.00, service 620.50 from 2025-05-01; received 2025-04-10, "
        "answer due by 2025-05-10"
    ) == entries[0].description
    assert (
        "The provider approved request R2 on line 1 on 2025-04-20: prices basis 410.00, "
        "service 620.50 from 2025-05-01 (agreement Tillæg 8)"
    ) == entries[1].description
