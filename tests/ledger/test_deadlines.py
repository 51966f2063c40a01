"""Deadlines derived from a contract (Bilag 1 pkt. 4, 9, 14, 16; Takstmodel 4.5; G1, G16, G20).

Contracts are built through their commands, as users build them; the
deadlines are then read off the contract and judged on chosen days. G1:
calendar days, and a deadline expires at the end of its due day, so each
kind is shown on its due day and on the day after.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.application import Ledger
from ledger.clock import FixedClock
from ledger.contract import Contract
from ledger.deadlines import (
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    FrameworkSchedule,
    contract_deadlines,
)
from ledger.values import (
    AbsenceKind,
    Party,
    PaymentOption,
    RequestNature,
    RescissionGround,
)
from tests.ledger.examples import (
    OPERATOR,
    START,
    agreed_line,
    drafted,
    final_contract,
    line_85,
    line_104,
    placed_contract,
    terms,
)

D = dt.date
DAY = dt.timedelta(days=1)
OPEN, MET, MISSED, OVERDUE = (
    DeadlineStatus.OPEN,
    DeadlineStatus.MET,
    DeadlineStatus.MISSED,
    DeadlineStatus.OVERDUE,
)

SIGNED = D(2025, 1, 10)
RECEIVED = D(2025, 3, 10)
ANSWER_DUE = D(2025, 4, 9)  # RECEIVED + 30 calendar days (pkt. 16, G1)
ABSENT_FROM = D(2025, 5, 5)
ABSENCE_DUE = D(2025, 5, 12)  # ABSENT_FROM + 7 calendar days (pkt. 14, G1)
NOTICE_ON = D(2025, 3, 15)
NOTICE_LAST_DAY = D(2025, 6, 15)  # NOTICE_ON + the example terms' 3 months (pkt. 9)


# --- helpers ------------------------------------------------------------------------


def bound(contract: Contract, on: dt.date = SIGNED) -> Contract:
    """``contract`` signed by both parties on ``on`` (pkt. 18)."""
    contract.sign(Party.BUYER, on, actor=OPERATOR)
    contract.sign(Party.PROVIDER, on, actor=OPERATOR)
    return contract


def of_kind(contract: Contract, kind: DeadlineKind) -> list[Deadline]:
    """The contract's deadlines of ``kind``, in the order contract_deadlines gives."""
    return [row for row in contract_deadlines(contract) if row.kind is kind]


def only(contract: Contract, kind: DeadlineKind) -> Deadline:
    """The contract's one deadline of ``kind``."""
    rows = of_kind(contract, kind)
    assert 1 == len(rows), rows
    return rows[0]


def on_days(deadline: Deadline, *days: dt.date) -> list[DeadlineStatus]:
    """The deadline's status on each of ``days``."""
    return [deadline.status(day) for day in days]


def request(contract: Contract, by: Party = Party.PROVIDER, line_id: str = "1", **kw) -> str:
    """A lasting-change request on ``line_id`` received on RECEIVED; returns its id."""
    step = {"1": "4", "2": "2:3"}[line_id]
    return contract.request_renegotiation(
        line_id,
        requested_by=by,
        received_on=kw.pop("received_on", RECEIVED),
        nature=RequestNature.LASTING,
        description="Varigt ændret behov",
        proposed_step=step,
        actor=OPERATOR,
        **kw,
    )


def answer(contract: Contract, request_id: str, on: dt.date, by: Party = Party.BUYER) -> None:
    """The other party rejects ``request_id`` on ``on`` (a rejection is an answer too)."""
    contract.answer_renegotiation(
        request_id, answered_by=by, answered_on=on, approved=False, actor=OPERATOR
    )


def absent(contract: Contract, on: dt.date = ABSENT_FROM) -> str:
    """A hospital stay from ``on``; returns its id."""
    return contract.start_absence(AbsenceKind.HOSPITAL, on, actor=OPERATOR)


def notice(contract: Contract, on: dt.date = NOTICE_ON) -> dt.date:
    """The buyer gives notice on ``on``; returns the last day of notice."""
    return contract.give_notice(given_by=Party.BUYER, given_on=on, actor=OPERATOR)


def framework_notice(contract: Contract, received_on: dt.date, year: int = 2025) -> None:
    """The provider notifies a rammeaftale adopted in ``year``."""
    contract.notify_framework_change(
        received_on=received_on,
        framework_version=f"Rammeaftale {year + 1}",
        adoption_year=year,
        actor=OPERATOR,
    )


def schedule_of(contract: Contract) -> FrameworkSchedule:
    """The contract's rammeaftale schedule, which must exist."""
    schedule = FrameworkSchedule.from_contract(contract)
    assert schedule is not None
    return schedule


def framework_row(contract: Contract, year: int) -> Deadline:
    """The rammeaftale notice deadline of ``year``."""
    [row] = schedule_of(contract).deadlines([year])
    return row


# --- renegotiation answer (pkt. 16) -------------------------------------------------


def test_a_renegotiation_request_asks_the_other_party_to_answer_within_30_days():
    contract = final_contract()

    request_id = request(contract)

    assert [
        Deadline(
            key="renegotiation:R1",
            kind=DeadlineKind.RENEGOTIATION_ANSWER,
            party=Party.BUYER,
            trigger_on=RECEIVED,
            due_on=ANSWER_DUE,
            done_on=None,
            clause="Bilag 1 pkt. 16",
            line_id="1",
        )
    ] == of_kind(contract, DeadlineKind.RENEGOTIATION_ANSWER)
    assert "R1" == request_id


def test_the_provider_answers_a_buyer_request():
    contract = final_contract()

    request(contract, by=Party.BUYER, line_id="2")

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)
    assert (Party.PROVIDER, "2") == (row.party, row.line_id)


def test_an_unanswered_request_is_open_through_day_30_and_overdue_on_day_31():
    contract = final_contract()
    request(contract)

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert [OPEN, OPEN, OPEN, OVERDUE, OVERDUE] == on_days(
        row, RECEIVED, ANSWER_DUE - DAY, ANSWER_DUE, ANSWER_DUE + DAY, ANSWER_DUE + 100 * DAY
    )
    assert row.met_on(ANSWER_DUE + DAY) is None


def test_an_answer_on_day_30_meets_the_deadline():
    contract = final_contract()
    answer(contract, request(contract), ANSWER_DUE)

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert ANSWER_DUE == row.done_on
    assert [OPEN, MET, MET] == on_days(row, ANSWER_DUE - DAY, ANSWER_DUE, ANSWER_DUE + DAY)
    assert ANSWER_DUE == row.met_on(ANSWER_DUE + DAY)


def test_an_early_answer_is_met_on_the_day_it_was_given():
    contract = final_contract()
    answered_on = RECEIVED + 5 * DAY
    answer(contract, request(contract), answered_on)

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert [OPEN, MET] == on_days(row, answered_on - DAY, answered_on)
    assert answered_on == row.met_on(ANSWER_DUE + 300 * DAY)


def test_an_answer_on_day_31_misses_the_deadline():
    """G2: the late answer is recorded; the deadline was missed, not met."""
    contract = final_contract()
    late = ANSWER_DUE + DAY
    answer(contract, request(contract), late)

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert [OPEN, MISSED, MISSED] == on_days(row, ANSWER_DUE, late, late + 100 * DAY)
    assert row.met_on(late) is None


def test_before_a_late_answer_is_given_the_deadline_is_overdue():
    """Judged on a day before the (late) answer, the deadline stood overdue."""
    contract = final_contract()
    late = ANSWER_DUE + 10 * DAY
    answer(contract, request(contract), late)

    row = only(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert [OVERDUE, OVERDUE, MISSED] == on_days(row, ANSWER_DUE + DAY, late - DAY, late)


def test_each_request_has_its_own_answer_deadline():
    contract = final_contract()
    answer(contract, request(contract), RECEIVED + DAY)
    second_received = RECEIVED + 20 * DAY
    request(contract, line_id="1", received_on=second_received)
    request(contract, by=Party.BUYER, line_id="2")

    rows = of_kind(contract, DeadlineKind.RENEGOTIATION_ANSWER)

    assert {
        "renegotiation:R1": ("1", Party.BUYER, ANSWER_DUE),
        "renegotiation:R2": ("1", Party.BUYER, second_received + 30 * DAY),
        "renegotiation:R3": ("2", Party.PROVIDER, ANSWER_DUE),
    } == {row.key: (row.line_id, row.party, row.due_on) for row in rows}


# --- absence notice (pkt. 14, G16) -----------------------------------------------------


def test_an_absence_asks_the_provider_to_notify_within_7_days():
    contract = final_contract()

    absent(contract)

    assert [
        Deadline(
            key="absence:A1",
            kind=DeadlineKind.ABSENCE_NOTICE,
            party=Party.PROVIDER,
            trigger_on=ABSENT_FROM,
            due_on=ABSENCE_DUE,
            done_on=None,
            clause="Bilag 1 pkt. 14",
        )
    ] == of_kind(contract, DeadlineKind.ABSENCE_NOTICE)


def test_an_unnotified_absence_is_open_through_day_7_and_overdue_on_day_8():
    contract = final_contract()
    absent(contract)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert [OPEN, OPEN, OVERDUE] == on_days(row, ABSENT_FROM, ABSENCE_DUE, ABSENCE_DUE + DAY)


def test_a_notice_on_day_7_meets_the_deadline():
    contract = final_contract()
    contract.notify_absence(absent(contract), ABSENCE_DUE, actor=OPERATOR)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert [OPEN, MET, MET] == on_days(row, ABSENCE_DUE - DAY, ABSENCE_DUE, ABSENCE_DUE + DAY)
    assert ABSENCE_DUE == row.met_on(ABSENCE_DUE + DAY)


def test_a_notice_on_day_8_misses_the_deadline():
    contract = final_contract()
    contract.notify_absence(absent(contract), ABSENCE_DUE + DAY, actor=OPERATOR)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert [OPEN, MISSED] == on_days(row, ABSENCE_DUE, ABSENCE_DUE + DAY)
    assert row.met_on(ABSENCE_DUE + DAY) is None


def test_a_notice_given_when_the_absence_starts_meets_the_deadline_at_once():
    contract = final_contract()
    contract.start_absence(AbsenceKind.PRISON, ABSENT_FROM, actor=OPERATOR, notified_on=ABSENT_FROM)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert (MET, ABSENT_FROM) == (row.status(ABSENT_FROM), row.met_on(ABSENT_FROM))


def test_g16_a_short_unnotified_absence_that_ended_before_day_7_has_no_deadline():
    contract = final_contract()
    contract.end_absence(absent(contract), ABSENCE_DUE - DAY, actor=OPERATOR)

    assert [] == of_kind(contract, DeadlineKind.ABSENCE_NOTICE)


def test_g16_an_absence_still_ongoing_on_day_7_must_be_notified():
    """Ended on the due day itself: it was ongoing on day 7, so the duty stands."""
    contract = final_contract()
    contract.end_absence(absent(contract), ABSENCE_DUE, actor=OPERATOR)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert [OPEN, OVERDUE] == on_days(row, ABSENCE_DUE, ABSENCE_DUE + DAY)


def test_g16_a_short_absence_that_was_notified_keeps_its_met_deadline():
    contract = final_contract()
    absence_id = absent(contract)
    contract.notify_absence(absence_id, ABSENT_FROM + DAY, actor=OPERATOR)
    contract.end_absence(absence_id, ABSENT_FROM + 2 * DAY, actor=OPERATOR)

    row = only(contract, DeadlineKind.ABSENCE_NOTICE)

    assert (MET, ABSENT_FROM + DAY) == (row.status(ABSENCE_DUE), row.met_on(ABSENCE_DUE))


def test_each_absence_has_its_own_notice_deadline():
    contract = final_contract()
    first = absent(contract)
    contract.notify_absence(first, ABSENT_FROM, actor=OPERATOR)
    contract.end_absence(first, ABSENT_FROM + 30 * DAY, actor=OPERATOR)
    later = ABSENT_FROM + 40 * DAY
    absent(contract, later)

    rows = of_kind(contract, DeadlineKind.ABSENCE_NOTICE)

    assert [("absence:A1", ABSENCE_DUE), ("absence:A2", later + 7 * DAY)] == [
        (row.key, row.due_on) for row in rows
    ]


# --- follow-up (Takstmodel 4.5, G20) ------------------------------------------------


def test_there_are_no_follow_up_deadlines_before_both_parties_have_signed():
    contract = final_contract(draft=drafted(line_85(first_follow_up=D(2025, 2, 1)), line_104()))
    contract.hold_follow_up("1", D(2025, 1, 20), actor=OPERATOR)
    assert [] == of_kind(contract, DeadlineKind.FOLLOW_UP)

    contract.sign(Party.BUYER, SIGNED, actor=OPERATOR)
    assert [] == of_kind(contract, DeadlineKind.FOLLOW_UP)

    contract.sign(Party.PROVIDER, SIGNED, actor=OPERATOR)
    assert {"follow-up:1:1", "follow-up:1:2", "follow-up:2:1"} == {
        row.key for row in of_kind(contract, DeadlineKind.FOLLOW_UP)
    }


def test_the_first_follow_up_is_due_3_months_after_the_line_starts():
    """G20: counted from the line's start; 30 November + 3 months is 28 February."""
    contract = bound(final_contract(draft=drafted(line_85(start=D(2025, 11, 30)), line_104())))

    rows = {row.line_id: row for row in of_kind(contract, DeadlineKind.FOLLOW_UP)}

    assert (
        Deadline(
            key="follow-up:1:1",
            kind=DeadlineKind.FOLLOW_UP,
            party=Party.BUYER,
            trigger_on=D(2025, 11, 30),
            due_on=D(2026, 2, 28),
            done_on=None,
            clause="Bilag 1 pkt. 5 / LTK kvalitetsstandard (G20)",
            line_id="1",
        )
        == rows["1"]
    )
    assert (START, D(2025, 4, 1)) == (rows["2"].trigger_on, rows["2"].due_on)


def test_the_contracts_first_follow_up_date_wins():
    """G20: "Første opfølgningsdato" (pkt. 5) replaces the 3-month default."""
    first = D(2025, 2, 15)
    contract = bound(final_contract(draft=drafted(line_85(), line_104(first_follow_up=first))))

    rows = {row.line_id: row.due_on for row in of_kind(contract, DeadlineKind.FOLLOW_UP)}

    assert {"1": D(2025, 4, 1), "2": first} == rows


def test_an_unheld_first_follow_up_is_open_on_its_due_day_and_overdue_the_day_after():
    contract = bound(final_contract())

    row = of_kind(contract, DeadlineKind.FOLLOW_UP)[0]

    assert D(2025, 4, 1) == row.due_on
    assert [OPEN, OPEN, OVERDUE] == on_days(row, START, D(2025, 4, 1), D(2025, 4, 2))


def test_a_follow_up_held_on_its_due_day_is_met_and_one_a_day_late_is_missed():
    contract = bound(final_contract())
    contract.hold_follow_up("1", D(2025, 4, 1), actor=OPERATOR)
    contract.hold_follow_up("2", D(2025, 4, 2), actor=OPERATOR)

    first = {row.line_id: row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.done_on}

    assert (MET, D(2025, 4, 1)) == (
        first["1"].status(D(2025, 4, 2)),
        first["1"].met_on(D(2025, 5, 1)),
    )
    assert [OPEN, MISSED] == on_days(first["2"], D(2025, 4, 1), D(2025, 4, 2))
    assert first["2"].met_on(D(2025, 5, 1)) is None


def test_each_follow_up_held_sets_the_next_one_12_months_later():
    contract = bound(final_contract())
    for day in (D(2025, 3, 20), D(2026, 3, 1)):
        contract.hold_follow_up("2", day, actor=OPERATOR)

    rows = [row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.line_id == "2"]

    assert [
        ("follow-up:2:1", START, D(2025, 4, 1), D(2025, 3, 20)),
        ("follow-up:2:2", D(2025, 3, 20), D(2026, 3, 20), D(2026, 3, 1)),
        ("follow-up:2:3", D(2026, 3, 1), D(2027, 3, 1), None),
    ] == [(row.key, row.trigger_on, row.due_on, row.done_on) for row in rows]
    assert [MET, MET, OPEN] == [row.status(D(2027, 3, 1)) for row in rows]
    assert OVERDUE == rows[2].status(D(2027, 3, 2))


def test_a_late_follow_up_still_sets_the_next_one_from_the_day_it_was_held():
    contract = bound(final_contract())
    contract.hold_follow_up("2", D(2025, 6, 30), actor=OPERATOR)

    rows = [row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.line_id == "2"]

    assert MISSED == rows[0].status(D(2025, 6, 30))
    assert (D(2025, 6, 30), D(2026, 6, 30)) == (rows[1].trigger_on, rows[1].due_on)


def test_follow_ups_recorded_out_of_order_are_chained_by_date():
    contract = bound(final_contract())
    contract.hold_follow_up("2", D(2026, 3, 1), actor=OPERATOR)
    contract.hold_follow_up("2", D(2025, 3, 20), actor=OPERATOR)

    rows = [row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.line_id == "2"]

    assert [D(2025, 3, 20), D(2026, 3, 1), None] == [row.done_on for row in rows]


def test_no_follow_up_is_due_after_the_line_has_ended():
    contract = bound(final_contract(draft=drafted(line_85(), line_104(end=D(2026, 3, 19)))))
    contract.hold_follow_up("2", D(2025, 3, 20), actor=OPERATOR)

    rows = [row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.line_id == "2"]

    assert ["follow-up:2:1"] == [row.key for row in rows]


def test_a_follow_up_due_on_the_lines_last_day_is_still_owed():
    contract = bound(final_contract(draft=drafted(line_85(), line_104(end=D(2026, 3, 20)))))
    contract.hold_follow_up("2", D(2025, 3, 20), actor=OPERATOR)

    rows = [row for row in of_kind(contract, DeadlineKind.FOLLOW_UP) if row.line_id == "2"]

    assert [("follow-up:2:2", D(2026, 3, 20))] == [(row.key, row.due_on) for row in rows[1:]]


def test_no_follow_up_is_due_after_the_notice_period():
    """The contract's last day of delivery ends every line (pkt. 9)."""
    contract = bound(final_contract())
    contract.hold_follow_up("1", D(2025, 3, 20), actor=OPERATOR)
    contract.hold_follow_up("2", D(2025, 3, 25), actor=OPERATOR)
    assert {"follow-up:1:2", "follow-up:2:2"} <= {row.key for row in contract_deadlines(contract)}

    notice(contract, D(2025, 6, 1))  # the last day of notice is 1 September 2025

    rows = of_kind(contract, DeadlineKind.FOLLOW_UP)
    assert ["follow-up:1:1", "follow-up:2:1"] == [row.key for row in rows]
    assert [MET, MET] == [row.status(D(2025, 9, 1)) for row in rows]


# --- notice period end (pkt. 9): a milestone ------------------------------------------


def test_notice_sets_the_end_of_the_notice_period_as_a_milestone():
    contract = final_contract()

    last_day = notice(contract)

    assert NOTICE_LAST_DAY == last_day
    assert Deadline(
        key="notice-end",
        kind=DeadlineKind.NOTICE_PERIOD_END,
        party=Party.PROVIDER,
        trigger_on=NOTICE_ON,
        due_on=NOTICE_LAST_DAY,
        done_on=None,
        clause="Bilag 1 pkt. 9",
        milestone=True,
    ) == only(contract, DeadlineKind.NOTICE_PERIOD_END)


def test_the_notice_period_end_is_open_through_its_last_day_and_met_the_day_after():
    contract = final_contract()
    notice(contract)

    row = only(contract, DeadlineKind.NOTICE_PERIOD_END)

    assert [OPEN, OPEN, MET] == on_days(row, NOTICE_ON, NOTICE_LAST_DAY, NOTICE_LAST_DAY + DAY)
    assert row.met_on(NOTICE_LAST_DAY) is None
    assert NOTICE_LAST_DAY == row.met_on(NOTICE_LAST_DAY + 365 * DAY)


def test_there_are_no_termination_milestones_without_notice_or_rescission():
    contract = bound(final_contract())

    kinds = {row.kind for row in contract_deadlines(contract)}

    assert not kinds & {DeadlineKind.NOTICE_PERIOD_END, DeadlineKind.PAYMENT_END}


# --- payment end (pkt. 9, G14): a milestone -------------------------------------------


def test_the_payment_end_is_a_milestone_of_the_buyer_from_the_notice():
    contract = final_contract()
    notice(contract)

    assert Deadline(
        key="payment-end",
        kind=DeadlineKind.PAYMENT_END,
        party=Party.BUYER,
        trigger_on=NOTICE_ON,
        due_on=NOTICE_LAST_DAY,  # option 1, never re-occupied: to the end of notice (G14)
        done_on=None,
        clause="Bilag 1 pkt. 9 (G14)",
        milestone=True,
    ) == only(contract, DeadlineKind.PAYMENT_END)


def test_the_payment_end_follows_the_re_occupation_under_option_1():
    contract = final_contract()
    notice(contract)
    contract.record_reoccupation(D(2025, 5, 1), actor=OPERATOR)

    row = only(contract, DeadlineKind.PAYMENT_END)

    assert D(2025, 4, 30) == row.due_on
    assert [OPEN, MET] == on_days(row, D(2025, 4, 30), D(2025, 5, 1))
    assert D(2025, 4, 30) == row.met_on(D(2025, 5, 1))


def test_the_payment_end_follows_the_agreement_under_option_4():
    option_4 = terms(payment_option=PaymentOption.OTHER, payment_other_text="Efter dialog")
    contract = final_contract(draft=drafted(contract_terms=option_4))
    notice(contract)
    contract.agree_payment_end(D(2025, 4, 10), agreement_ref="Aftale", actor=OPERATOR)

    assert D(2025, 4, 10) == only(contract, DeadlineKind.PAYMENT_END).due_on


def test_a_place_filled_on_the_notice_day_ends_payment_the_day_before_without_a_later_trigger():
    """Payment ends before the notice that ended it: the row triggers on its due day."""
    contract = final_contract()
    notice(contract)
    contract.record_reoccupation(NOTICE_ON, actor=OPERATOR)

    row = only(contract, DeadlineKind.PAYMENT_END)

    assert (NOTICE_ON - DAY, NOTICE_ON - DAY) == (row.trigger_on, row.due_on)


def test_a_rescission_without_notice_ends_payment_the_day_before_it_takes_effect():
    contract = bound(final_contract())
    contract.report_non_delivery(
        by=Party.PROVIDER,
        reported_on=D(2025, 7, 1),
        cause="Lukket",
        citizen_related=False,
        actor=OPERATOR,
    )
    contract.rescind_without_notice(
        by=Party.BUYER,
        effective_on=D(2025, 8, 1),
        ground=RescissionGround.NON_DELIVERY,
        actor=OPERATOR,
    )

    row = only(contract, DeadlineKind.PAYMENT_END)

    assert (D(2025, 7, 31), D(2025, 7, 31), True) == (row.trigger_on, row.due_on, row.milestone)
    assert [OPEN, MET] == on_days(row, D(2025, 7, 31), D(2025, 8, 1))
    assert [] == of_kind(contract, DeadlineKind.NOTICE_PERIOD_END)


@pytest.mark.parametrize("kind", [DeadlineKind.NOTICE_PERIOD_END, DeadlineKind.PAYMENT_END])
def test_a_milestone_is_never_missed_or_overdue(kind):
    """A date that passes: open up to and including its day, met on every day after."""
    contract = final_contract()
    notice(contract)
    row = only(contract, kind)

    for offset in range(-100, 800):
        today = row.due_on + dt.timedelta(days=offset)
        assert (OPEN if today <= row.due_on else MET) == row.status(today), today


# --- rammeaftale notice (pkt. 4) ------------------------------------------------------


def test_an_unsigned_contract_has_no_rammeaftale_schedule():
    contract = final_contract()
    contract.sign(Party.PROVIDER, SIGNED, actor=OPERATOR)

    assert FrameworkSchedule.from_contract(contract) is None


def test_a_contract_with_only_agreed_prices_is_outside_the_rammeaftale():
    """Særforanstaltninger with prices agreed in the contract have no pkt. 4 deadlines."""
    contract = bound(final_contract(draft=drafted(agreed_line())))

    assert FrameworkSchedule.from_contract(contract) is None


def test_one_tariff_sheet_line_brings_the_contract_under_the_rammeaftale():
    contract = bound(final_contract(draft=drafted(agreed_line(), line_104())))

    assert FrameworkSchedule.from_contract(contract) is not None


def test_an_open_ended_contract_owes_a_rammeaftale_notice_deadline_every_year():
    contract = bound(final_contract())

    schedule = schedule_of(contract)
    rows = schedule.deadlines(schedule.years(2028))

    assert (2025, None) == (schedule.first_year, schedule.last_year)
    assert range(2025, 2029) == schedule.years(2028)
    assert [
        Deadline(
            key=f"framework:{year}",
            kind=DeadlineKind.FRAMEWORK_NOTICE,
            party=Party.PROVIDER,
            trigger_on=trigger_on,
            due_on=D(year, 12, 1),
            done_on=None,
            clause="Bilag 1 pkt. 4",
        )
        for year, trigger_on in [
            (2025, SIGNED),  # the first year starts when the contract binds
            (2026, D(2026, 1, 1)),
            (2027, D(2027, 1, 1)),
            (2028, D(2028, 1, 1)),
        ]
    ] == rows


def test_the_later_signature_starts_the_rammeaftale_schedule():
    contract = final_contract()
    contract.sign(Party.BUYER, D(2025, 1, 5), actor=OPERATOR)
    contract.sign(Party.PROVIDER, D(2026, 2, 3), actor=OPERATOR)

    schedule = schedule_of(contract)

    assert 2026 == schedule.first_year
    assert D(2026, 2, 3) == framework_row(contract, 2026).trigger_on
    assert [] == schedule.deadlines([2025])


def test_a_contract_bound_after_1_december_owes_nothing_that_year():
    contract = bound(final_contract(), D(2025, 12, 2))

    assert range(2026, 2028) == schedule_of(contract).years(2027)


def test_a_contract_bound_on_1_december_owes_that_years_notice_the_same_day():
    contract = bound(final_contract(), D(2025, 12, 1))

    row = framework_row(contract, 2025)

    assert (D(2025, 12, 1), D(2025, 12, 1)) == (row.trigger_on, row.due_on)


def test_notice_ends_the_rammeaftale_schedule_in_the_year_of_the_last_day_of_notice():
    contract = bound(final_contract())
    assert D(2027, 1, 15) == notice(contract, D(2026, 10, 15))

    schedule = schedule_of(contract)

    assert 2027 == schedule.last_year
    assert range(2025, 2028) == schedule.years(2030)
    assert range(2025, 2027) == schedule.years(2026)
    assert ["framework:2025", "framework:2026", "framework:2027"] == [
        row.key for row in schedule.deadlines(range(2020, 2035))
    ]


def test_the_last_day_of_delivery_not_of_payment_ends_the_rammeaftale_schedule():
    """Payment may stop earlier (option 1, G14); the contract stays in force to its last day."""
    contract = bound(final_contract())
    notice(contract, D(2026, 10, 15))
    contract.record_reoccupation(D(2026, 11, 1), actor=OPERATOR)
    assert D(2026, 10, 31) == contract.payment_end

    assert 2027 == schedule_of(contract).last_year


def test_rescission_ends_the_rammeaftale_schedule_with_the_last_day_of_delivery():
    contract = bound(final_contract())
    contract.declare_force_majeure(
        by=Party.PROVIDER, declared_on=D(2026, 12, 20), description="Brand", actor=OPERATOR
    )
    contract.rescind_without_notice(
        by=Party.PROVIDER,
        effective_on=D(2027, 1, 1),
        ground=RescissionGround.FORCE_MAJEURE,
        actor=OPERATOR,
    )

    assert 2026 == schedule_of(contract).last_year


def test_an_unnotified_rammeaftale_is_open_on_1_december_and_overdue_on_2_december():
    contract = bound(final_contract())

    row = framework_row(contract, 2025)

    assert [OPEN, OPEN, OVERDUE] == on_days(row, SIGNED, D(2025, 12, 1), D(2025, 12, 2))


def test_a_rammeaftale_notice_on_1_december_meets_the_deadline():
    contract = bound(final_contract())
    framework_notice(contract, D(2025, 12, 1))

    row = framework_row(contract, 2025)

    assert [OPEN, MET] == on_days(row, D(2025, 11, 30), D(2025, 12, 1))
    assert D(2025, 12, 1) == row.met_on(D(2026, 1, 1))


def test_a_rammeaftale_notice_on_2_december_misses_the_deadline():
    contract = bound(final_contract())
    framework_notice(contract, D(2025, 12, 2))

    row = framework_row(contract, 2025)

    assert [OPEN, MISSED] == on_days(row, D(2025, 12, 1), D(2025, 12, 2))
    assert row.met_on(D(2026, 1, 1)) is None


def test_a_notice_counts_for_its_adoption_year_only():
    contract = bound(final_contract())
    framework_notice(contract, D(2025, 11, 1), year=2025)

    rows = schedule_of(contract).deadlines([2025, 2026])

    assert [MET, OVERDUE] == [row.status(D(2026, 12, 2)) for row in rows]


def test_the_earliest_notice_of_a_year_counts():
    """A late notice recorded first does not hide an earlier one recorded afterwards."""
    contract = bound(final_contract())
    framework_notice(contract, D(2025, 12, 5))
    framework_notice(contract, D(2025, 11, 20))
    framework_notice(contract, D(2024, 11, 1), year=2024)

    schedule = schedule_of(contract)

    assert ((2024, D(2024, 11, 1)), (2025, D(2025, 11, 20))) == schedule.notices
    assert MET == framework_row(contract, 2025).status(D(2025, 12, 2))
    assert [] == schedule.deadlines([2024])  # adopted before the contract bound


def test_years_are_given_once_and_in_order():
    contract = bound(final_contract())

    rows = schedule_of(contract).deadlines([2027, 2025, 2027, 2024])

    assert ["framework:2025", "framework:2027"] == [row.key for row in rows]


def test_the_rammeaftale_series_is_not_among_the_contract_deadlines():
    contract = bound(final_contract())
    framework_notice(contract, D(2025, 11, 1))

    assert DeadlineKind.FRAMEWORK_NOTICE not in {row.kind for row in contract_deadlines(contract)}


# --- all kinds together ------------------------------------------------------------


def busy(contract: Contract) -> Contract:
    """``contract`` bound, with a request, an absence, follow-ups and notice."""
    bound(contract)
    answer(contract, request(contract), RECEIVED + DAY)
    request(contract, by=Party.BUYER, line_id="2", received_on=D(2025, 3, 1))
    absent(contract)
    contract.hold_follow_up("1", D(2025, 3, 31), actor=OPERATOR)
    notice(contract, D(2026, 2, 1))
    return contract


def test_contract_deadlines_are_sorted_by_due_day_then_key_with_unique_keys():
    rows = contract_deadlines(busy(final_contract()))

    keys = [row.key for row in rows]
    assert len(keys) == len(set(keys))
    assert sorted(rows, key=lambda row: (row.due_on, row.key)) == rows
    assert {
        "renegotiation:R1",
        "renegotiation:R2",
        "absence:A1",
        "follow-up:1:1",
        "follow-up:1:2",
        "follow-up:2:1",
        "notice-end",
        "payment-end",
    } == set(keys)
    assert all(row.trigger_on <= row.due_on for row in rows)


def test_deadlines_are_the_same_after_the_contract_is_stored_and_reloaded():
    """Stored events replayed give the rows the live aggregate gave: keys are stable."""
    live = busy(final_contract())
    ledger = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=FixedClock.at_local(START))
    try:
        contract_id = placed_contract(ledger)
        for party in (Party.BUYER, Party.PROVIDER):
            ledger.sign(contract_id, party, SIGNED, actor=OPERATOR)
        request_id = ledger.request_renegotiation(
            contract_id,
            "1",
            requested_by=Party.PROVIDER,
            received_on=RECEIVED,
            nature=RequestNature.LASTING,
            description="Varigt ændret behov",
            proposed_step="4",
            actor=OPERATOR,
        )
        ledger.answer_renegotiation(
            contract_id,
            request_id,
            answered_by=Party.BUYER,
            answered_on=RECEIVED + DAY,
            approved=False,
            actor=OPERATOR,
        )
        ledger.request_renegotiation(
            contract_id,
            "2",
            requested_by=Party.BUYER,
            received_on=D(2025, 3, 1),
            nature=RequestNature.LASTING,
            description="Varigt ændret behov",
            proposed_step="2:3",
            actor=OPERATOR,
        )
        ledger.start_absence(contract_id, AbsenceKind.HOSPITAL, ABSENT_FROM, actor=OPERATOR)
        ledger.hold_follow_up(contract_id, "1", D(2025, 3, 31), actor=OPERATOR)
        ledger.give_notice(
            contract_id, given_by=Party.BUYER, given_on=D(2026, 2, 1), actor=OPERATOR
        )
        stored = ledger.get_contract(contract_id)
    finally:
        ledger.close()

    assert contract_deadlines(live) == contract_deadlines(stored)
    assert FrameworkSchedule.from_contract(live) == FrameworkSchedule.from_contract(stored)


def test_a_row_keeps_its_key_when_its_act_is_done():
    """Holding the open follow-up fills in its row and opens the next under a new key."""
    contract = bound(final_contract())
    contract.hold_follow_up("2", D(2025, 3, 20), actor=OPERATOR)
    before = {row.key: row for row in contract_deadlines(contract)}

    contract.hold_follow_up("2", D(2026, 3, 1), actor=OPERATOR)
    after = {row.key: row for row in contract_deadlines(contract)}

    assert {*before, "follow-up:2:3"} == set(after)
    assert before["follow-up:2:2"].done_on is None
    assert D(2026, 3, 1) == after["follow-up:2:2"].done_on
    assert before["follow-up:2:2"].due_on == after["follow-up:2:2"].due_on
    unchanged = set(before) - {"follow-up:2:2"}
    assert {key: before[key] for key in unchanged} == {key: after[key] for key in unchanged}
