"""Renegotiation (Bilag 1 pkt. 16; G2, G13): requests, answers and retroactivity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger import errors
from ledger.contract import Contract
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.values import ComponentPrice, Party, RequestNature, RescissionGround
from tests.ledger.examples import (
    OPERATOR,
    START,
    agreed_line,
    drafted,
    final_contract,
)
from tests.ledger.given_when_then import Fact, fact, given, then_rejected, when

DAY = dt.timedelta(days=1)
RECEIVED = dt.date(2025, 3, 10)
ANSWERED = dt.date(2025, 3, 25)
DESCRIPTION = "Borgerens behov er varigt øget: hjælp til morgenrutine hver dag"
REF = "Tillægsaftale 2025-03-25"
NEW_PRICES = (
    ComponentPrice("basis", Decimal(420)),
    ComponentPrice("service", Decimal(700)),
)
SCHEDULE = DaySchedule(
    "2025-03-01",
    (
        ScheduleSegment("Morgenrutine", "Hjælp til bad og påklædning", 60, citizens_per_staff=2),
        ScheduleSegment("Aften", "Madlavning", 120, days_per_week=5),
    ),
)


def request(**changes: Any):
    """The command: a provider asks to move line 1 from step 3 to step 4."""
    arguments: dict[str, Any] = {
        "requested_by": Party.PROVIDER,
        "received_on": RECEIVED,
        "nature": RequestNature.LASTING,
        "description": DESCRIPTION,
        "actor": OPERATOR,
        "proposed_step": "4",
        **changes,
    }
    line_id = arguments.pop("line_id", "1")
    return lambda c: c.request_renegotiation(line_id, **arguments)


def requested(**changes: Any) -> Fact:
    """The fact that the provider asked to move line 1 to step 4, received on RECEIVED."""
    payload: dict[str, Any] = {
        "request_id": "R1",
        "line_id": "1",
        "requested_by": Party.PROVIDER,
        "received_on": RECEIVED,
        "nature": RequestNature.LASTING,
        "proposed_step": "4",
        "proposed_prices": (),
        "requested_effective_from": None,
        "description": DESCRIPTION,
        "schedule": None,
        "actor": OPERATOR,
        **changes,
    }
    return fact(Contract.RenegotiationRequested, **payload)


def answered(**changes: Any) -> Fact:
    """The fact that the buyer approved R1 from RECEIVED."""
    payload: dict[str, Any] = {
        "request_id": "R1",
        "answered_by": Party.BUYER,
        "answered_on": ANSWERED,
        "approved": True,
        "agreement_ref": REF,
        "effective_from": RECEIVED,
        "late": False,
        "reason": "",
        "actor": OPERATOR,
        **changes,
    }
    return fact(Contract.RenegotiationAnswered, **payload)


def answer(**changes: Any):
    """The command: the buyer approves R1 on ANSWERED with a written agreement."""
    arguments: dict[str, Any] = {
        "answered_by": Party.BUYER,
        "answered_on": ANSWERED,
        "approved": True,
        "agreement_ref": REF,
        "actor": OPERATOR,
        **changes,
    }
    request_id = arguments.pop("request_id", "R1")
    return lambda c: c.answer_renegotiation(request_id, **arguments)


def answer_payload(**changes: Any) -> dict[str, Any]:
    """The payload of an approved answer to R1, effective from RECEIVED."""
    return {
        "request_id": "R1",
        "answered_by": Party.BUYER,
        "answered_on": ANSWERED,
        "approved": True,
        "agreement_ref": REF,
        "effective_from": RECEIVED,
        "late": False,
        "reason": "",
        "actor": OPERATOR,
        **changes,
    }


def agreed_contract(*more: Fact) -> Contract:
    """A final contract with one agreed-price line (basis 400, service 600)."""
    return final_contract(*more, draft=drafted(agreed_line()))


# --- request_renegotiation ---------------------------------------------------


def test_a_lasting_change_is_requested_with_a_proposed_step():
    """The request records who asked, when it was received and what is proposed."""
    contract = final_contract()

    events = when(contract, request())

    assert [
        (
            Contract.RenegotiationRequested,
            {
                "request_id": "R1",
                "line_id": "1",
                "requested_by": Party.PROVIDER,
                "received_on": RECEIVED,
                "nature": RequestNature.LASTING,
                "proposed_step": "4",
                "proposed_prices": (),
                "requested_effective_from": None,
                "description": DESCRIPTION,
                "schedule": None,
                "actor": OPERATOR,
            },
        )
    ] == events


def test_a_request_returns_its_id_and_opens_a_request_due_in_30_days():
    """G1: the buyer's answer is due 30 calendar days after receipt."""
    contract = final_contract()

    request_id = request()(contract)

    assert "R1" == request_id
    state = contract.renegotiations["R1"]
    assert state.is_open
    assert dt.date(2025, 4, 9) == state.due_on


def test_a_request_may_carry_a_day_schedule_as_evidence():
    """Bilag 3: the day schedule travels with the request; a 1:2 segment counts half."""
    contract = final_contract()

    events = when(contract, request(schedule=SCHEDULE))

    assert SCHEDULE == events[0][1]["schedule"]
    # 60 min x 7 days / 2 citizens = 3.5 h; 120 min x 5 days = 10 h.
    schedule = contract.renegotiations["R1"].schedule
    assert schedule is not None
    assert Decimal("13.5") == schedule.weekly_hours()


def test_a_request_may_name_a_requested_effective_date():
    """The provider may ask for the change from a later date (G13)."""
    contract = final_contract()
    wanted = dt.date(2025, 4, 1)

    events = when(contract, request(requested_effective_from=wanted))

    assert wanted == events[0][1]["requested_effective_from"]


def test_the_buyer_may_request_a_downward_change():
    """Renegotiation is mutual: the buyer may ask too."""
    contract = final_contract()

    events = when(contract, request(requested_by=Party.BUYER, proposed_step="2"))

    assert Party.BUYER == events[0][1]["requested_by"]
    assert "2" == events[0][1]["proposed_step"]


def test_new_agreed_prices_are_requested_on_an_agreed_line():
    """A særforanstaltning renegotiates its prices instead of its step."""
    contract = agreed_contract()

    events = when(contract, request(proposed_step=None, proposed_prices=NEW_PRICES))

    assert NEW_PRICES == events[0][1]["proposed_prices"]
    assert events[0][1]["proposed_step"] is None


def test_a_temporary_change_is_no_ground_for_renegotiation():
    """Pkt. 16: a change "som har en midlertidig karakter" is no ground."""
    contract = final_contract()

    error = then_rejected(
        contract, request(nature=RequestNature.TEMPORARY), errors.TemporaryChangeNotAGround
    )
    assert "nature" == error.field
    assert "Bilag 1 pkt. 16" == error.clause


def test_a_request_before_the_placement_is_final_is_rejected():
    """Before finality the provisional step is revised instead."""
    contract = given(Contract, drafted())

    then_rejected(contract, request(), errors.PlacementNotFinal)


def test_a_second_open_request_on_the_same_line_is_rejected():
    """One unanswered request per line at a time."""
    contract = final_contract(requested())

    error = then_rejected(contract, request(proposed_step="5"), errors.RenegotiationAlreadyOpen)
    assert "line_id" == error.field


def test_an_open_request_on_one_line_does_not_block_another_line():
    """Requests are per line."""
    contract = final_contract(requested())

    events = when(contract, request(line_id="2", proposed_step="3:2"))

    assert ("R2", "2") == (events[0][1]["request_id"], events[0][1]["line_id"])


def test_an_answered_request_no_longer_blocks_a_new_one():
    """After the answer a new request on the line is welcome."""
    contract = final_contract(
        requested(), answered(approved=False, agreement_ref=None, effective_from=None)
    )

    events = when(contract, request(proposed_step="5"))

    assert "R2" == events[0][1]["request_id"]


@pytest.mark.parametrize(
    ("step", "prices"),
    [(None, ()), ("4", NEW_PRICES)],
    ids=["neither", "both"],
)
def test_a_request_proposes_exactly_one_of_a_step_or_prices(step, prices):
    """Either a new step or new agreed prices, never none or both."""
    contract = agreed_contract()

    error = then_rejected(
        contract, request(proposed_step=step, proposed_prices=prices), errors.InvalidValue
    )
    assert "proposed_step" == error.field


def test_proposing_the_step_already_in_force_is_rejected():
    """Nothing changes when the line is on that step when the request is received."""
    contract = final_contract()

    error = then_rejected(contract, request(proposed_step="3"), errors.NothingChanges)
    assert "proposed_step" == error.field


def test_proposing_a_step_the_model_lacks_is_rejected():
    """The proposed step must exist in the line's tariff model."""
    contract = final_contract()

    then_rejected(contract, request(proposed_step="99"), errors.UnknownStep)


def test_proposing_prices_for_a_tariff_sheet_line_is_rejected():
    """Tariff-sheet lines change price by changing step."""
    contract = final_contract()

    error = then_rejected(
        contract, request(proposed_step=None, proposed_prices=NEW_PRICES), errors.InvalidValue
    )
    assert "proposed_prices" == error.field


def test_proposing_incomplete_prices_is_rejected():
    """A proposed price list covers every component of the model."""
    contract = agreed_contract()

    error = then_rejected(
        contract,
        request(proposed_step=None, proposed_prices=NEW_PRICES[:1]),
        errors.InvalidValue,
    )
    assert "proposed_prices" == error.field


def test_proposing_a_price_that_is_not_positive_is_rejected():
    """A proposed price of zero is no price."""
    contract = agreed_contract()
    prices = (ComponentPrice("basis", Decimal(0)), NEW_PRICES[1])

    then_rejected(
        contract, request(proposed_step=None, proposed_prices=prices), errors.NonPositivePrice
    )


@pytest.mark.parametrize("description", ["", "   "])
def test_a_request_without_a_description_is_rejected(description):
    """The provider must describe how the premises changed and what it means for the price."""
    contract = final_contract()

    error = then_rejected(contract, request(description=description), errors.InvalidValue)
    assert "description" == error.field


def test_a_requested_effective_date_before_the_line_starts_is_rejected():
    """A change cannot reach back before the line existed."""
    contract = final_contract()

    error = then_rejected(
        contract, request(requested_effective_from=START - DAY), errors.DateOutOfOrder
    )
    assert "requested_effective_from" == error.field


def test_a_request_on_an_unknown_line_is_rejected():
    """The line must exist."""
    contract = final_contract()

    then_rejected(contract, request(line_id="9"), errors.UnknownServiceLine)


# --- answer_renegotiation: who, when, how ------------------------------------


def test_an_approved_provider_request_takes_effect_from_the_day_it_was_received():
    """Pkt. 16: "med tilbagevirkende kraft" from when the description was received."""
    contract = final_contract(requested())

    events = when(contract, answer())

    assert [(Contract.RenegotiationAnswered, answer_payload())] == events
    line = contract.lines["1"]
    assert "3" == line.step_on(RECEIVED - DAY)
    assert "4" == line.step_on(RECEIVED)
    assert "4" == line.step_on(ANSWERED)
    in_force = line.fact_on(RECEIVED)
    assert in_force is not None
    assert "RenegotiationAnswered" == in_force.cause


def test_an_approved_answer_closes_the_request_with_its_agreement():
    """The request's state keeps the answer, the agreement and the effective date."""
    contract = final_contract(requested())

    answer()(contract)

    state = contract.renegotiations["R1"]
    assert not state.is_open
    assert (ANSWERED, True, REF, RECEIVED, False) == (
        state.answered_on,
        state.approved,
        state.agreement_ref,
        state.effective_from,
        state.late,
    )


def test_a_provider_request_for_a_later_date_takes_effect_from_that_date():
    """G13: effective from the later of receipt and the requested date."""
    wanted = dt.date(2025, 4, 1)
    contract = final_contract(requested(requested_effective_from=wanted))

    events = when(contract, answer())

    assert [(Contract.RenegotiationAnswered, answer_payload(effective_from=wanted))] == events
    assert "3" == contract.lines["1"].step_on(wanted - DAY)
    assert "4" == contract.lines["1"].step_on(wanted)


def test_a_provider_request_for_an_earlier_date_takes_effect_from_receipt():
    """G13: a provider cannot reach back before the buyer received the description."""
    contract = final_contract(requested(requested_effective_from=dt.date(2025, 2, 1)))

    events = when(contract, answer())

    assert RECEIVED == events[0][1]["effective_from"]
    assert "3" == contract.lines["1"].step_on(RECEIVED - DAY)


def test_an_agreed_effective_date_after_receipt_is_honoured_for_a_provider_request():
    """The parties may agree a later date in writing."""
    agreed = dt.date(2025, 5, 1)
    contract = final_contract(requested())

    events = when(contract, answer(effective_from=agreed))

    assert agreed == events[0][1]["effective_from"]
    assert "3" == contract.lines["1"].step_on(agreed - DAY)


def test_an_agreed_effective_date_before_receipt_is_rejected_for_a_provider_request():
    """Retroactivity reaches back to receipt, not further."""
    contract = final_contract(requested())

    error = then_rejected(contract, answer(effective_from=RECEIVED - DAY), errors.DateOutOfOrder)
    assert "effective_from" == error.field


def test_an_approved_buyer_request_by_default_takes_effect_from_receipt():
    """G13: a buyer-initiated change defaults to the receipt of the justification."""
    contract = final_contract(requested(requested_by=Party.BUYER, proposed_step="2"))

    events = when(contract, answer(answered_by=Party.PROVIDER))

    assert [(Contract.RenegotiationAnswered, answer_payload(answered_by=Party.PROVIDER))] == events
    assert "3" == contract.lines["1"].step_on(RECEIVED - DAY)
    assert "2" == contract.lines["1"].step_on(RECEIVED)


def test_an_approved_buyer_request_honours_the_agreed_effective_date():
    """G13: for buyer requests the date agreed in writing decides."""
    agreed = dt.date(2025, 6, 1)
    contract = final_contract(requested(requested_by=Party.BUYER, proposed_step="2"))

    events = when(contract, answer(answered_by=Party.PROVIDER, effective_from=agreed))

    assert agreed == events[0][1]["effective_from"]
    assert "3" == contract.lines["1"].step_on(agreed - DAY)
    assert "2" == contract.lines["1"].step_on(agreed)


def test_an_approved_buyer_request_honours_its_later_requested_date():
    """Without an agreed date, the buyer's requested later date is kept."""
    wanted = dt.date(2025, 4, 15)
    contract = final_contract(
        requested(requested_by=Party.BUYER, proposed_step="2", requested_effective_from=wanted)
    )

    events = when(contract, answer(answered_by=Party.PROVIDER))

    assert wanted == events[0][1]["effective_from"]


def test_an_approved_buyer_request_never_takes_effect_before_receipt():
    """G13/pkt. 16: no change reaches back before its justification was received."""
    contract = final_contract(
        requested(
            requested_by=Party.BUYER,
            proposed_step="2",
            requested_effective_from=dt.date(2025, 2, 1),
        )
    )

    events = when(contract, answer(answered_by=Party.PROVIDER))

    assert RECEIVED == events[0][1]["effective_from"]
    assert "3" == contract.lines["1"].step_on(RECEIVED - DAY)


def test_an_agreed_effective_date_before_receipt_is_rejected_for_a_buyer_request():
    """The buyer's justification anchors the earliest effective date."""
    contract = final_contract(requested(requested_by=Party.BUYER, proposed_step="2"))

    error = then_rejected(
        contract,
        answer(answered_by=Party.PROVIDER, effective_from=RECEIVED - DAY),
        errors.DateOutOfOrder,
    )
    assert "effective_from" == error.field


def test_approved_agreed_prices_take_effect_from_receipt():
    """A særforanstaltning's new prices apply from receipt; the step stays."""
    contract = agreed_contract(requested(proposed_step=None, proposed_prices=NEW_PRICES))

    answer()(contract)

    line = contract.lines["1"]
    assert agreed_line().agreed_prices == line.prices_on(RECEIVED - DAY)
    assert NEW_PRICES == line.prices_on(RECEIVED)
    assert "10" == line.step_on(RECEIVED)


def test_the_party_that_asked_cannot_answer():
    """The other party answers."""
    contract = final_contract(requested())

    error = then_rejected(contract, answer(answered_by=Party.PROVIDER), errors.WrongParty)
    assert "answered_by" == error.field


@pytest.mark.parametrize("ref", [None, "", "  "])
def test_an_approval_without_a_written_agreement_is_rejected(ref):
    """Pkt. 16: a price changes only with a written, binding agreement."""
    contract = final_contract(requested())

    error = then_rejected(contract, answer(agreement_ref=ref), errors.WrittenAgreementRequired)
    assert "agreement_ref" == error.field


def test_an_answer_before_the_request_was_received_is_rejected():
    """An answer cannot precede the request."""
    contract = final_contract(requested())

    error = then_rejected(contract, answer(answered_on=RECEIVED - DAY), errors.DateOutOfOrder)
    assert "answered_on" == error.field


def test_an_answer_on_the_day_of_receipt_is_accepted():
    """The buyer may answer at once."""
    contract = final_contract(requested())

    events = when(contract, answer(answered_on=RECEIVED))

    assert [(Contract.RenegotiationAnswered, answer_payload(answered_on=RECEIVED))] == events


def test_answering_a_request_twice_is_rejected():
    """A request is answered once."""
    contract = final_contract(requested(), answered())

    error = then_rejected(contract, answer(), errors.RenegotiationAlreadyAnswered)
    assert "renegotiation-already-answered" == error.rule


def test_answering_an_unknown_request_is_rejected():
    """The request must exist."""
    contract = final_contract(requested())

    error = then_rejected(contract, answer(request_id="R9"), errors.UnknownRenegotiation)
    assert "request_id" == error.field


def test_an_answer_on_day_30_is_in_time():
    """G1: 30 calendar days after receipt is still in time."""
    contract = final_contract(requested())
    day_30 = RECEIVED + dt.timedelta(days=30)

    events = when(contract, answer(answered_on=day_30))

    assert [(Contract.RenegotiationAnswered, answer_payload(answered_on=day_30))] == events


def test_an_approval_on_day_31_is_late_but_still_reaches_back_to_receipt():
    """G2: a late approval is accepted, marked late, and effective from receipt."""
    contract = final_contract(requested())
    day_31 = RECEIVED + dt.timedelta(days=31)

    events = when(contract, answer(answered_on=day_31))

    assert [
        (Contract.RenegotiationAnswered, answer_payload(answered_on=day_31, late=True))
    ] == events
    assert contract.renegotiations["R1"].late
    assert "4" == contract.lines["1"].step_on(RECEIVED)


def test_a_rejected_request_changes_no_step():
    """A rejection needs no agreement and leaves the price facts alone."""
    contract = final_contract(requested())
    lines_before = dict(contract.lines)

    events = when(
        contract, answer(approved=False, agreement_ref=None, reason="Behovet er midlertidigt")
    )

    assert [
        (
            Contract.RenegotiationAnswered,
            answer_payload(
                approved=False,
                agreement_ref=None,
                effective_from=None,
                reason="Behovet er midlertidigt",
            ),
        )
    ] == events
    assert lines_before == contract.lines
    assert "3" == contract.lines["1"].step_on(dt.date(2026, 1, 1))


def test_a_rejection_records_no_agreement_even_if_one_is_named():
    """A rejected request rests on no agreement."""
    contract = final_contract(requested())

    events = when(contract, answer(approved=False))

    assert events[0][1]["agreement_ref"] is None
    assert events[0][1]["effective_from"] is None


def test_answering_on_a_rescinded_contract_is_rejected():
    """An ended contract is not renegotiated."""
    contract = final_contract(
        requested(),
        fact(
            Contract.ForceMajeureDeclared,
            by=Party.PROVIDER,
            declared_on=RECEIVED,
            description="Brand",
            actor=OPERATOR,
        ),
        fact(
            Contract.RescindedWithoutNotice,
            by=Party.PROVIDER,
            effective_on=RECEIVED,
            ground=RescissionGround.FORCE_MAJEURE,
            actor=OPERATOR,
        ),
    )

    then_rejected(contract, answer(), errors.ContractEnded)
