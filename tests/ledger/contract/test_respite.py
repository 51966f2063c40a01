"""Respite døgn used in a month (Bilag 1 pkt. 5, settlement on used days)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ledger import errors
from ledger.contract import Contract
from ledger.values import RespiteBasis
from tests.ledger.examples import PROVIDER_ADMIN, agreed_line, drafted, final_contract, terms
from tests.ledger.given_when_then import Fact, fact, then_rejected, when

D = dt.date
MARCH = D(2025, 3, 1)


def respite_contract(*more: Fact) -> Contract:
    """Line 1 a særforanstaltning, line 2 respite settled on used days."""
    respite = dataclasses.replace(agreed_line(), respite=True, end=D(2025, 3, 20))
    draft = drafted(
        agreed_line(),
        respite,
        contract_terms=terms(respite_basis=RespiteBasis.USED_DAYS),
    )
    return final_contract(*more, draft=draft)


def used(month: dt.date, *days: dt.date) -> Fact:
    return fact(Contract.RespiteDaysUsed, line_id="2", month=month, days=days, actor=PROVIDER_ADMIN)


def test_used_days_are_recorded_sorted_on_the_line():
    contract = respite_contract()
    events = when(
        contract,
        lambda c: c.record_respite_used(
            "2", MARCH, (D(2025, 3, 9), D(2025, 3, 2)), actor=PROVIDER_ADMIN
        ),
    )
    assert [
        (
            Contract.RespiteDaysUsed,
            {
                "line_id": "2",
                "month": MARCH,
                "days": (D(2025, 3, 2), D(2025, 3, 9)),
                "actor": PROVIDER_ADMIN,
            },
        )
    ] == events
    assert (D(2025, 3, 2), D(2025, 3, 9)) == contract.lines["2"].respite_used


def test_a_later_record_replaces_only_its_own_month():
    contract = respite_contract(
        used(D(2025, 2, 1), D(2025, 2, 5)), used(MARCH, D(2025, 3, 2), D(2025, 3, 3))
    )
    contract.record_respite_used("2", MARCH, (D(2025, 3, 4),), actor=PROVIDER_ADMIN)
    assert (D(2025, 2, 5), D(2025, 3, 4)) == contract.lines["2"].respite_used


def test_only_respite_lines_record_used_days():
    then_rejected(
        respite_contract(),
        lambda c: c.record_respite_used("1", MARCH, (D(2025, 3, 2),), actor=PROVIDER_ADMIN),
        errors.NotARespiteLine,
    )


def test_the_month_is_given_by_its_first_day():
    error = then_rejected(
        respite_contract(),
        lambda c: c.record_respite_used("2", D(2025, 3, 2), (), actor=PROVIDER_ADMIN),
        errors.InvalidValue,
    )
    assert error.field == "month"


def test_a_day_outside_the_month_is_refused():
    error = then_rejected(
        respite_contract(),
        lambda c: c.record_respite_used("2", MARCH, (D(2025, 4, 1),), actor=PROVIDER_ADMIN),
        errors.InvalidValue,
    )
    assert error.field == "days"


def test_a_day_listed_twice_is_refused():
    then_rejected(
        respite_contract(),
        lambda c: c.record_respite_used(
            "2", MARCH, (D(2025, 3, 2), D(2025, 3, 2)), actor=PROVIDER_ADMIN
        ),
        errors.InvalidValue,
    )


def test_a_day_after_the_line_ends_is_refused():
    then_rejected(
        respite_contract(),
        lambda c: c.record_respite_used("2", MARCH, (D(2025, 3, 21),), actor=PROVIDER_ADMIN),
        errors.DateOutOfOrder,
    )
