"""Follow-ups on service lines (Takstmodel 4.5; G20)."""

from __future__ import annotations

import datetime as dt

from ledger import errors
from ledger.contract import Contract
from tests.ledger.examples import OPERATOR, START, drafted, final_contract, line_104
from tests.ledger.given_when_then import fact, given, then_rejected, when

DAY = dt.timedelta(days=1)
HELD = dt.date(2025, 4, 1)


def held(line_id: str, day: dt.date):
    """The fact that a follow-up on ``line_id`` was held on ``day``."""
    return fact(Contract.FollowUpHeld, line_id=line_id, held_on=day, actor=OPERATOR)


def test_a_follow_up_is_recorded_on_its_line():
    """The follow-up date is kept on the line."""
    contract = final_contract()

    events = when(contract, lambda c: c.hold_follow_up("1", HELD, actor=OPERATOR))

    assert [(Contract.FollowUpHeld, {"line_id": "1", "held_on": HELD, "actor": OPERATOR})] == events
    assert (HELD,) == contract.lines["1"].follow_ups
    assert () == contract.lines["2"].follow_ups


def test_follow_ups_are_appended_in_order():
    """Each follow-up adds to the line's list; earlier ones stay."""
    contract = final_contract(held("1", HELD))
    later = dt.date(2026, 3, 1)

    contract.hold_follow_up("1", later, actor=OPERATOR)

    assert (HELD, later) == contract.lines["1"].follow_ups


def test_a_follow_up_leaves_the_price_facts_alone():
    """A follow-up changes no step."""
    contract = final_contract()
    facts_before = contract.lines["1"].facts

    contract.hold_follow_up("1", HELD, actor=OPERATOR)

    assert facts_before == contract.lines["1"].facts


def test_a_follow_up_on_the_line_start_is_accepted():
    """The first day of the line is a valid follow-up day."""
    contract = final_contract()

    events = when(contract, lambda c: c.hold_follow_up("2", START, actor=OPERATOR))

    assert START == events[0][1]["held_on"]


def test_a_follow_up_may_be_held_on_a_draft():
    """Follow-ups do not wait for the placement to be final."""
    contract = given(Contract, drafted())

    events = when(contract, lambda c: c.hold_follow_up("1", HELD, actor=OPERATOR))

    assert [(Contract.FollowUpHeld, {"line_id": "1", "held_on": HELD, "actor": OPERATOR})] == events


def test_a_follow_up_before_the_line_starts_is_rejected():
    """A line is not followed up before it starts."""
    contract = final_contract(draft=drafted(line_104(start=dt.date(2025, 3, 1))))

    error = then_rejected(
        contract,
        lambda c: c.hold_follow_up("1", dt.date(2025, 3, 1) - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "held_on" == error.field


def test_a_follow_up_on_an_unknown_line_is_rejected():
    """The line must exist."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.hold_follow_up("3", HELD, actor=OPERATOR),
        errors.UnknownServiceLine,
    )
    assert "line_id" == error.field
