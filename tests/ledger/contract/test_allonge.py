"""Allonges: time-boxed amendments for temporary changes (Gentofte, G6; pkt. 8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger import errors
from ledger.contract import Allonge, Contract
from ledger.values import Party, RescissionGround
from tests.ledger.examples import OPERATOR, START, agreed_line, drafted, final_contract
from tests.ledger.given_when_then import Fact, fact, given, then_rejected, when

DAY = dt.timedelta(days=1)
VALID_FROM = dt.date(2025, 4, 1)
VALID_TO = dt.date(2025, 6, 30)
DELTA = Decimal("150.00")
DESCRIPTION = "Midlertidig nattevagt efter hospitalsophold"
REF = "Allonge 1"


def add(**changes: Any):
    """The command: an allonge on line 1 with a daily delta the buyer accepted."""
    arguments: dict[str, Any] = {
        "valid_from": VALID_FROM,
        "valid_to": VALID_TO,
        "daily_delta": DELTA,
        "description": DESCRIPTION,
        "agreement_ref": REF,
        "buyer_accepted": True,
        "actor": OPERATOR,
        **changes,
    }
    line_id = arguments.pop("line_id", "1")
    return lambda c: c.add_allonge(line_id, **arguments)


def gentofte_contract(*more: Fact) -> Contract:
    """A final contract with one Gentofte botilbud line."""
    return final_contract(*more, draft=drafted(agreed_line()))


def test_an_accepted_allonge_with_a_price_delta_is_recorded():
    """G6: a time-boxed amendment with the buyer's acceptance is recorded."""
    contract = gentofte_contract()

    events = when(contract, add())

    assert [
        (
            Contract.AllongeAdded,
            {
                "line_id": "1",
                "valid_from": VALID_FROM,
                "valid_to": VALID_TO,
                "daily_delta": DELTA,
                "description": DESCRIPTION,
                "agreement_ref": REF,
                "buyer_accepted": True,
                "actor": OPERATOR,
            },
        )
    ] == events
    assert (
        Allonge("1", VALID_FROM, VALID_TO, DELTA, DESCRIPTION, REF, contract.version),
    ) == contract.allonges


def test_an_allonge_leaves_the_line_price_facts_alone():
    """The delta is kept beside the line; the step and agreed prices do not change."""
    contract = gentofte_contract()
    lines_before = dict(contract.lines)

    add()(contract)

    assert lines_before == contract.lines


def test_an_allonge_without_a_price_delta_needs_no_buyer_acceptance():
    """Only a price change needs the buyer's acceptance (pkt. 8)."""
    contract = gentofte_contract()

    events = when(contract, add(daily_delta=Decimal(0), buyer_accepted=False))

    assert Decimal(0) == events[0][1]["daily_delta"]


def test_a_one_day_allonge_is_accepted():
    """valid_to may equal valid_from."""
    contract = gentofte_contract()

    events = when(contract, add(valid_to=VALID_FROM))

    assert (VALID_FROM, VALID_FROM) == (events[0][1]["valid_from"], events[0][1]["valid_to"])


def test_a_negative_delta_with_acceptance_is_accepted():
    """A temporary reduction is a price change like any other."""
    contract = gentofte_contract()

    events = when(contract, add(daily_delta=Decimal(-50)))

    assert Decimal(-50) == events[0][1]["daily_delta"]


@pytest.mark.parametrize("delta", [DELTA, Decimal(-50)])
def test_a_price_delta_without_buyer_acceptance_is_rejected(delta):
    """Pkt. 8: "Ændringer af taksten ud over pris- og lønfremskrivning kræver købers accept"."""
    contract = gentofte_contract()

    error = then_rejected(
        contract, add(daily_delta=delta, buyer_accepted=False), errors.BuyerAcceptanceRequired
    )
    assert "buyer_accepted" == error.field
    assert "Bilag 1 pkt. 8" == error.clause


def test_an_allonge_ending_before_it_starts_is_rejected():
    """The validity is a period: valid_to is on or after valid_from."""
    contract = gentofte_contract()

    error = then_rejected(contract, add(valid_to=VALID_FROM - DAY), errors.DateOutOfOrder)
    assert "valid_to" == error.field


def test_an_allonge_before_the_line_starts_is_rejected():
    """An amendment cannot apply before its line starts."""
    contract = gentofte_contract()

    error = then_rejected(contract, add(valid_from=START - DAY), errors.DateOutOfOrder)
    assert "valid_from" == error.field


@pytest.mark.parametrize("ref", ["", "   "])
def test_an_allonge_without_a_written_reference_is_rejected(ref):
    """An allonge is a written amendment."""
    contract = gentofte_contract()

    error = then_rejected(contract, add(agreement_ref=ref), errors.WrittenAgreementRequired)
    assert "agreement_ref" == error.field


def test_an_allonge_before_the_placement_is_final_is_rejected():
    """Amendments follow a final placement."""
    contract = given(Contract, drafted(agreed_line()))

    then_rejected(contract, add(), errors.PlacementNotFinal)


def test_an_allonge_on_an_unknown_line_is_rejected():
    """The line must exist."""
    contract = gentofte_contract()

    then_rejected(contract, add(line_id="2"), errors.UnknownServiceLine)


def test_an_allonge_on_a_rescinded_contract_is_rejected():
    """An ended contract takes no amendments."""
    contract = gentofte_contract(
        fact(
            Contract.ForceMajeureDeclared,
            by=Party.BUYER,
            declared_on=START,
            description="Brand",
            actor=OPERATOR,
        ),
        fact(
            Contract.RescindedWithoutNotice,
            by=Party.BUYER,
            effective_on=START,
            ground=RescissionGround.FORCE_MAJEURE,
            actor=OPERATOR,
        ),
    )

    then_rejected(contract, add(), errors.ContractEnded)
