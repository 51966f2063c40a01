"""Notice, re-occupation and the payment obligation during notice (Bilag 1 pkt. 9; G11, G14)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import errors
from ledger.contract import Contract, ContractStatus, Notice
from ledger.values import Party, PaymentOption
from tests.ledger.examples import OPERATOR, drafted, final_contract, terms
from tests.ledger.given_when_then import Fact, fact, then_rejected, when

DAY = dt.timedelta(days=1)
GIVEN_ON = dt.date(2025, 3, 15)
LAST_DAY = dt.date(2025, 6, 15)  # GIVEN_ON + NoticePeriod(months=3)
REF = "Aftale om betalingsophør"


def notice_given(by: Party = Party.BUYER) -> Fact:
    """The fact that notice was given on GIVEN_ON, running to LAST_DAY."""
    return fact(
        Contract.NoticeGiven, given_by=by, given_on=GIVEN_ON, last_day=LAST_DAY, actor=OPERATOR
    )


def reoccupied(day: dt.date) -> Fact:
    """The fact that the place was filled from ``day``."""
    return fact(Contract.PlaceReoccupied, reoccupied_on=day, actor=OPERATOR)


def payment_end_agreed(day: dt.date) -> Fact:
    """The fact that the parties agreed payment ends on ``day`` (option 4)."""
    return fact(Contract.PaymentEndAgreed, payment_end=day, agreement_ref=REF, actor=OPERATOR)


def with_option(option: PaymentOption, *more: Fact, days: int | None = None) -> Contract:
    """A final contract on payment ``option`` (option 2 with ``days``), plus ``more``."""
    extra: dict[str, object] = {"payment_option": option}
    if option is PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED:
        extra["payment_days_after_reoccupation"] = days
    if option is PaymentOption.OTHER:
        extra["payment_other_text"] = "Efter dialog mellem parterne"
    return final_contract(*more, draft=drafted(contract_terms=terms(**extra)))


# --- give_notice ---------------------------------------------------------------


@pytest.mark.parametrize("party", [Party.BUYER, Party.PROVIDER])
def test_notice_runs_three_months_from_the_day_it_is_given(party):
    """With a 3-month notice period, the last day is three calendar months on."""
    contract = final_contract()

    events = when(
        contract, lambda c: c.give_notice(given_by=party, given_on=GIVEN_ON, actor=OPERATOR)
    )

    assert [
        (
            Contract.NoticeGiven,
            {"given_by": party, "given_on": GIVEN_ON, "last_day": LAST_DAY, "actor": OPERATOR},
        )
    ] == events
    assert Notice(party, GIVEN_ON, LAST_DAY) == contract.notice


def test_giving_notice_returns_the_last_day():
    """The command answers with the last day of notice."""
    contract = final_contract()

    assert LAST_DAY == contract.give_notice(given_by=Party.BUYER, given_on=GIVEN_ON, actor=OPERATOR)


def test_notice_given_at_a_month_end_ends_at_the_shorter_months_end():
    """30 November + 3 months is 28 February (clamped to the month's end)."""
    contract = final_contract()

    last_day = contract.give_notice(
        given_by=Party.BUYER, given_on=dt.date(2025, 11, 30), actor=OPERATOR
    )

    assert dt.date(2026, 2, 28) == last_day


def test_giving_notice_twice_is_rejected():
    """A contract under notice is not given notice again."""
    contract = final_contract(notice_given())

    error = then_rejected(
        contract,
        lambda c: c.give_notice(given_by=Party.PROVIDER, given_on=GIVEN_ON + DAY, actor=OPERATOR),
        errors.NoticeAlreadyGiven,
    )
    assert "Bilag 1 pkt. 9" == error.clause


# --- record_reoccupation (G14) ----------------------------------------------------


def test_the_place_is_reoccupied_during_notice():
    """The provider reports the day the place is filled."""
    contract = final_contract(notice_given())
    day = dt.date(2025, 5, 1)

    events = when(contract, lambda c: c.record_reoccupation(day, actor=OPERATOR))

    assert [(Contract.PlaceReoccupied, {"reoccupied_on": day, "actor": OPERATOR})] == events
    assert day == contract.reoccupied_on


def test_a_reoccupation_without_notice_is_rejected():
    """Re-occupation matters only for a terminated place."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.record_reoccupation(dt.date(2025, 5, 1), actor=OPERATOR),
        errors.NotUnderNotice,
    )
    assert "not-under-notice" == error.rule


def test_a_reoccupation_before_the_notice_is_rejected():
    """The place cannot be re-occupied before it was terminated."""
    contract = final_contract(notice_given())

    error = then_rejected(
        contract,
        lambda c: c.record_reoccupation(GIVEN_ON - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "reoccupied_on" == error.field


def test_a_second_reoccupation_is_rejected():
    """The place is filled once."""
    contract = final_contract(notice_given(), reoccupied(dt.date(2025, 5, 1)))

    error = then_rejected(
        contract,
        lambda c: c.record_reoccupation(dt.date(2025, 5, 2), actor=OPERATOR),
        errors.PlaceAlreadyReoccupied,
    )
    assert "reoccupied_on" == error.field


# --- payment end per option -------------------------------------------------------


def test_there_is_no_payment_end_while_the_contract_runs():
    """Without notice or rescission, payment runs on."""
    contract = final_contract()

    assert contract.payment_end is None
    assert contract.delivery_end is None


def test_option_1_payment_ends_the_day_before_the_place_is_reoccupied():
    """Pkt. 9 option 1: "bortfalder, idet en opsagt plads bliver besat"."""
    contract = with_option(
        PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given(), reoccupied(dt.date(2025, 5, 1))
    )

    assert dt.date(2025, 4, 30) == contract.payment_end


def test_option_1_payment_is_capped_at_the_last_day_of_notice():
    """G14: a re-occupation after the notice period does not extend payment."""
    contract = with_option(
        PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given(), reoccupied(dt.date(2025, 7, 1))
    )

    assert LAST_DAY == contract.payment_end


def test_option_1_reoccupied_the_day_after_notice_ends_pays_to_the_last_day():
    """Filled the day after the last day: payment ends on the last day."""
    contract = with_option(
        PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given(), reoccupied(LAST_DAY + DAY)
    )

    assert LAST_DAY == contract.payment_end


def test_option_1_never_reoccupied_pays_to_the_last_day():
    """G14: if the place is never filled, payment runs to the end of notice."""
    contract = with_option(PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given())

    assert LAST_DAY == contract.payment_end


def test_option_2_payment_continues_n_days_after_reoccupation():
    """Pkt. 9 option 2: "fortsætter 14 dage efter, at en opsagt plads er blevet besat"."""
    contract = with_option(
        PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        notice_given(),
        reoccupied(dt.date(2025, 5, 1)),
        days=14,
    )

    assert dt.date(2025, 4, 30) + dt.timedelta(days=14) == contract.payment_end


def test_option_2_payment_is_capped_at_the_last_day_of_notice():
    """G14: N days after re-occupation never passes the last day."""
    contract = with_option(
        PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        notice_given(),
        reoccupied(dt.date(2025, 6, 10)),
        days=14,
    )

    assert LAST_DAY == contract.payment_end


def test_option_2_with_zero_days_ends_like_option_1():
    """N = 0 ends payment the day before re-occupation."""
    contract = with_option(
        PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        notice_given(),
        reoccupied(dt.date(2025, 5, 1)),
        days=0,
    )

    assert dt.date(2025, 4, 30) == contract.payment_end


def test_option_2_never_reoccupied_pays_to_the_last_day():
    """Without re-occupation, payment runs to the end of notice."""
    contract = with_option(PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED, notice_given(), days=14)

    assert LAST_DAY == contract.payment_end


def test_option_3_pays_the_whole_notice_even_when_reoccupied():
    """Pkt. 9 option 3: payment continues for the whole notice, even when reoccupied."""
    contract = with_option(
        PaymentOption.CONTINUES_WHOLE_NOTICE, notice_given(), reoccupied(dt.date(2025, 4, 1))
    )

    assert LAST_DAY == contract.payment_end


def test_option_4_pays_to_the_last_day_until_an_end_is_agreed():
    """Pkt. 9 option 4 "Andet": until agreed, payment runs to the end of notice."""
    contract = with_option(PaymentOption.OTHER, notice_given(), reoccupied(dt.date(2025, 4, 1)))

    assert LAST_DAY == contract.payment_end


def test_option_4_pays_to_the_agreed_day():
    """Once agreed, the agreed day is the payment end."""
    contract = with_option(
        PaymentOption.OTHER, notice_given(), payment_end_agreed(dt.date(2025, 5, 20))
    )

    assert dt.date(2025, 5, 20) == contract.payment_end


def test_delivery_ends_on_the_last_day_of_notice_whatever_the_payment():
    """Delivery continues through notice (pkt. 9) even after re-occupation."""
    contract = with_option(
        PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given(), reoccupied(dt.date(2025, 5, 1))
    )

    assert LAST_DAY == contract.delivery_end


# --- agree_payment_end (option 4) ----------------------------------------------------


def test_under_option_4_the_parties_agree_the_payment_end():
    """The agreed day and the agreement it rests on are recorded."""
    contract = with_option(PaymentOption.OTHER, notice_given())
    day = dt.date(2025, 5, 20)

    events = when(contract, lambda c: c.agree_payment_end(day, agreement_ref=REF, actor=OPERATOR))

    assert [
        (
            Contract.PaymentEndAgreed,
            {"payment_end": day, "agreement_ref": REF, "actor": OPERATOR},
        )
    ] == events
    assert day == contract.payment_end


@pytest.mark.parametrize(
    "option",
    [
        PaymentOption.ENDS_WHEN_REOCCUPIED,
        PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        PaymentOption.CONTINUES_WHOLE_NOTICE,
    ],
)
def test_under_options_1_to_3_the_payment_end_is_not_agreed_by_hand(option):
    """The chosen option decides the payment end."""
    contract = with_option(option, notice_given(), days=14)

    error = then_rejected(
        contract,
        lambda c: c.agree_payment_end(dt.date(2025, 5, 20), agreement_ref=REF, actor=OPERATOR),
        errors.PaymentEndNotManual,
    )
    assert "payment_end" == error.field


@pytest.mark.parametrize("ref", ["", "  "])
def test_an_agreed_payment_end_without_its_agreement_is_rejected(ref):
    """The payment end rests on a written agreement."""
    contract = with_option(PaymentOption.OTHER, notice_given())

    error = then_rejected(
        contract,
        lambda c: c.agree_payment_end(dt.date(2025, 5, 20), agreement_ref=ref, actor=OPERATOR),
        errors.WrittenAgreementRequired,
    )
    assert "agreement_ref" == error.field


def test_an_agreed_payment_end_before_the_notice_is_rejected():
    """Payment cannot end before notice was given."""
    contract = with_option(PaymentOption.OTHER, notice_given())

    error = then_rejected(
        contract,
        lambda c: c.agree_payment_end(GIVEN_ON - DAY, agreement_ref=REF, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "payment_end" == error.field


def test_an_agreed_payment_end_without_notice_is_rejected():
    """There is no notice period to end payment in."""
    contract = with_option(PaymentOption.OTHER)

    then_rejected(
        contract,
        lambda c: c.agree_payment_end(dt.date(2025, 5, 20), agreement_ref=REF, actor=OPERATOR),
        errors.NotUnderNotice,
    )


# --- status -----------------------------------------------------------------------


def test_a_contract_is_under_notice_from_the_notice_through_its_last_day():
    """Under notice until and including the last day of notice."""
    contract = final_contract(notice_given())

    assert ContractStatus.UNDER_NOTICE == contract.status(GIVEN_ON)
    assert ContractStatus.UNDER_NOTICE == contract.status(LAST_DAY)


def test_a_contract_has_ended_after_the_last_day_of_notice():
    """The day after notice ends, the contract has ended."""
    contract = final_contract(notice_given())

    assert ContractStatus.ENDED == contract.status(LAST_DAY + DAY)


def test_an_early_payment_end_does_not_end_the_contract_before_delivery_ends():
    """Option 1 may stop payment early; delivery continues, so the contract is under notice."""
    contract = with_option(
        PaymentOption.ENDS_WHEN_REOCCUPIED, notice_given(), reoccupied(dt.date(2025, 5, 1))
    )

    assert ContractStatus.UNDER_NOTICE == contract.status(dt.date(2025, 5, 10))
    assert ContractStatus.ENDED == contract.status(LAST_DAY + DAY)


def test_an_agreed_payment_end_after_the_notice_keeps_the_contract_open_until_then():
    """Option 4: the contract ends after the later of delivery end and payment end."""
    agreed = LAST_DAY + dt.timedelta(days=10)
    contract = with_option(PaymentOption.OTHER, notice_given(), payment_end_agreed(agreed))

    assert ContractStatus.UNDER_NOTICE == contract.status(agreed)
    assert ContractStatus.ENDED == contract.status(agreed + DAY)
