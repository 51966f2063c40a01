"""Hospitalisation, imprisonment and custody (Bilag 1 pkt. 14; G1, G15, G16)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import errors
from ledger.contract import Absence, Contract
from ledger.values import AbsenceKind, Party, RescissionGround
from tests.ledger.examples import OPERATOR, final_contract
from tests.ledger.given_when_then import Fact, fact, then_rejected, when

DAY = dt.timedelta(days=1)
STARTED = dt.date(2025, 5, 5)
ENDED = dt.date(2025, 6, 2)


def started(absence_id: str = "A1", day: dt.date = STARTED) -> Fact:
    """The fact that a hospital stay began on ``day``."""
    return fact(
        Contract.AbsenceStarted,
        absence_id=absence_id,
        kind=AbsenceKind.HOSPITAL,
        started_on=day,
        actor=OPERATOR,
    )


def notified(absence_id: str = "A1", day: dt.date = STARTED + DAY) -> Fact:
    """The fact that the provider notified the absence on ``day``."""
    return fact(
        Contract.AbsenceNotified, absence_id=absence_id, notified_on=day, late=False, actor=OPERATOR
    )


def ended(absence_id: str = "A1", day: dt.date = ENDED) -> Fact:
    """The fact that the absence ended on ``day``."""
    return fact(Contract.AbsenceEnded, absence_id=absence_id, ended_on=day, actor=OPERATOR)


# --- start_absence ----------------------------------------------------------


@pytest.mark.parametrize("kind", list(AbsenceKind))
def test_an_absence_starts_without_notice(kind):
    """Pkt. 14 names hospital, prison and custody; each is recorded when it starts."""
    contract = final_contract()

    events = when(contract, lambda c: c.start_absence(kind, STARTED, actor=OPERATOR))

    assert [
        (
            Contract.AbsenceStarted,
            {"absence_id": "A1", "kind": kind, "started_on": STARTED, "actor": OPERATOR},
        )
    ] == events
    assert Absence("A1", kind, STARTED) == contract.current_absence


def test_an_absence_started_with_its_notice_records_two_events():
    """A start reported together with its notice records both facts."""
    contract = final_contract()
    on = STARTED + 2 * DAY

    events = when(
        contract,
        lambda c: c.start_absence(AbsenceKind.PRISON, STARTED, actor=OPERATOR, notified_on=on),
    )

    assert [
        (
            Contract.AbsenceStarted,
            {
                "absence_id": "A1",
                "kind": AbsenceKind.PRISON,
                "started_on": STARTED,
                "actor": OPERATOR,
            },
        ),
        (
            Contract.AbsenceNotified,
            {"absence_id": "A1", "notified_on": on, "late": False, "actor": OPERATOR},
        ),
    ] == events


def test_starting_an_absence_returns_its_id_numbered_after_earlier_ones():
    """Absence ids are A1, A2, ..."""
    contract = final_contract(started(), ended())

    assert "A2" == contract.start_absence(AbsenceKind.CUSTODY, ENDED + DAY, actor=OPERATOR)


def test_a_second_absence_while_one_is_open_is_rejected():
    """One absence at a time: the first must end before the next begins."""
    contract = final_contract(started())

    error = then_rejected(
        contract,
        lambda c: c.start_absence(AbsenceKind.PRISON, STARTED + DAY, actor=OPERATOR),
        errors.AbsenceAlreadyOpen,
    )
    assert "Bilag 1 pkt. 14" == error.clause


def test_an_absence_started_with_a_notice_before_it_is_rejected():
    """The notice cannot precede the absence; nothing is recorded."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.start_absence(
            AbsenceKind.HOSPITAL, STARTED, actor=OPERATOR, notified_on=STARTED - DAY
        ),
        errors.DateOutOfOrder,
    )
    assert "notified_on" == error.field


def test_an_absence_adds_no_price_fact():
    """G15: "Køber er forpligtet til at betale den aftalte pris"; no automatic reduction."""
    contract = final_contract()
    lines_before = dict(contract.lines)

    contract.start_absence(AbsenceKind.HOSPITAL, STARTED, actor=OPERATOR, notified_on=STARTED)
    contract.end_absence("A1", ENDED, actor=OPERATOR)

    assert lines_before == contract.lines


def test_starting_an_absence_on_a_rescinded_contract_is_rejected():
    """An ended contract records no new absences."""
    contract = final_contract(
        fact(
            Contract.ForceMajeureDeclared,
            by=Party.BUYER,
            declared_on=STARTED,
            description="Brand",
            actor=OPERATOR,
        ),
        fact(
            Contract.RescindedWithoutNotice,
            by=Party.BUYER,
            effective_on=STARTED,
            ground=RescissionGround.FORCE_MAJEURE,
            actor=OPERATOR,
        ),
    )

    then_rejected(
        contract,
        lambda c: c.start_absence(AbsenceKind.HOSPITAL, STARTED, actor=OPERATOR),
        errors.ContractEnded,
    )


# --- notify_absence (7 calendar days, G1) ------------------------------------


@pytest.mark.parametrize("days", [0, 1, 7])
def test_a_notice_within_7_days_is_in_time(days):
    """Pkt. 14 "senest 7 dage efter": day 7 is still in time (calendar days, G1)."""
    contract = final_contract(started())
    on = STARTED + dt.timedelta(days=days)

    events = when(contract, lambda c: c.notify_absence("A1", on, actor=OPERATOR))

    assert [
        (
            Contract.AbsenceNotified,
            {"absence_id": "A1", "notified_on": on, "late": False, "actor": OPERATOR},
        )
    ] == events
    assert not contract.absences["A1"].notified_late


def test_a_notice_on_day_8_is_late():
    """Day 8 is after the deadline; the notice is recorded and marked late."""
    contract = final_contract(started())
    on = STARTED + dt.timedelta(days=8)

    events = when(contract, lambda c: c.notify_absence("A1", on, actor=OPERATOR))

    assert [
        (
            Contract.AbsenceNotified,
            {"absence_id": "A1", "notified_on": on, "late": True, "actor": OPERATOR},
        )
    ] == events
    assert contract.absences["A1"].notified_late
    assert STARTED + dt.timedelta(days=7) == contract.absences["A1"].notice_due_on


def test_notifying_an_absence_twice_is_rejected():
    """An absence is notified once."""
    contract = final_contract(started(), notified())

    then_rejected(
        contract,
        lambda c: c.notify_absence("A1", STARTED + 2 * DAY, actor=OPERATOR),
        errors.AbsenceAlreadyNotified,
    )


def test_a_notice_before_the_absence_started_is_rejected():
    """The notice cannot precede the absence."""
    contract = final_contract(started())

    error = then_rejected(
        contract,
        lambda c: c.notify_absence("A1", STARTED - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "notified_on" == error.field


def test_notifying_an_unknown_absence_is_rejected():
    """The absence must exist."""
    contract = final_contract(started())

    error = then_rejected(
        contract,
        lambda c: c.notify_absence("A9", STARTED, actor=OPERATOR),
        errors.UnknownAbsence,
    )
    assert "absence_id" == error.field


# --- end_absence -------------------------------------------------------------


def test_an_absence_ends():
    """The end closes the absence, so a new one may start."""
    contract = final_contract(started(), notified())

    events = when(contract, lambda c: c.end_absence("A1", ENDED, actor=OPERATOR))

    assert [
        (Contract.AbsenceEnded, {"absence_id": "A1", "ended_on": ENDED, "actor": OPERATOR})
    ] == events
    assert contract.current_absence is None
    assert ENDED == contract.absences["A1"].ended_on


def test_an_absence_may_end_on_the_day_it_started():
    """A one-day absence is an absence."""
    contract = final_contract(started())

    events = when(contract, lambda c: c.end_absence("A1", STARTED, actor=OPERATOR))

    assert STARTED == events[0][1]["ended_on"]


def test_ending_an_absence_twice_is_rejected():
    """An absence ends once."""
    contract = final_contract(started(), ended())

    then_rejected(
        contract,
        lambda c: c.end_absence("A1", ENDED + DAY, actor=OPERATOR),
        errors.AbsenceAlreadyEnded,
    )


def test_an_absence_ending_before_it_started_is_rejected():
    """The end cannot precede the start."""
    contract = final_contract(started())

    error = then_rejected(
        contract,
        lambda c: c.end_absence("A1", STARTED - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "ended_on" == error.field


def test_ending_an_unknown_absence_is_rejected():
    """The absence must exist."""
    contract = final_contract()

    then_rejected(
        contract, lambda c: c.end_absence("A1", ENDED, actor=OPERATOR), errors.UnknownAbsence
    )


def test_a_new_absence_may_start_once_the_last_one_ended():
    """After the end, the next absence is welcome."""
    contract = final_contract(started(), ended())

    events = when(
        contract, lambda c: c.start_absence(AbsenceKind.CUSTODY, ENDED + DAY, actor=OPERATOR)
    )

    assert "A2" == events[0][1]["absence_id"]
