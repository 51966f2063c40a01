"""Rammeaftale notices and annual regulation (Bilag 1 pkt. 4 and 8; G3, G23)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger import errors
from ledger.contract import Contract, FrameworkNotice, Regulation
from ledger.values import IndexSource
from tests.ledger.examples import (
    OPERATOR,
    REGIONAL_PROVIDER,
    agreed_line,
    drafted,
    final_contract,
    line_85,
    line_104,
)
from tests.ledger.given_when_then import Fact, fact, given, then_rejected, when

EDITION = "KL's PL-skøn, juni 2025"
PL = Decimal("2.4")
OVERHEAD = Decimal("0.3")


def framework_notice(received_on: dt.date, version: str = "Rammeaftale 2026"):
    """The command: the provider notifies a rammeaftale adopted in 2025."""
    return lambda c: c.notify_framework_change(
        received_on=received_on, framework_version=version, adoption_year=2025, actor=OPERATOR
    )


def by_index(year: int = 2026, **changes: Any):
    """The command: index agreed prices from 1 January ``year`` by KL's estimate."""
    arguments: dict[str, Any] = {
        "pl_percentage": PL,
        "overhead_percentage": OVERHEAD,
        "source": IndexSource.KL,
        "edition": EDITION,
        "actor": OPERATOR,
        **changes,
    }
    return lambda c: c.regulate_by_index(year, **arguments)


def index_payload(**changes: Any) -> dict[str, Any]:
    """The payload of a KL indexation of 2026 without anything beyond the index."""
    return {
        "year": 2026,
        "pl_percentage": PL,
        "overhead_percentage": OVERHEAD,
        "beyond_index_percentage": Decimal(0),
        "source": IndexSource.KL,
        "edition": EDITION,
        "buyer_acceptance_ref": None,
        "actor": OPERATOR,
        **changes,
    }


def indexed(year: int = 2026) -> Fact:
    """The fact that agreed prices were indexed for ``year``."""
    return fact(Contract.RegulatedByIndex, **index_payload(year=year))


def sheet_regulated(year: int = 2026) -> Fact:
    """The fact that tariff-sheet lines moved to ``year``'s sheet."""
    return fact(Contract.RegulatedByTariffSheet, year=year, actor=OPERATOR)


def agreed_contract(*more: Fact, provider=None) -> Contract:
    """A final contract with one agreed-price line."""
    if provider is None:
        return final_contract(*more, draft=drafted(agreed_line()))
    return final_contract(*more, draft=drafted(agreed_line(), provider=provider))


# --- notify_framework_change (pkt. 4) -------------------------------------------


def test_a_framework_notice_received_on_1_december_is_in_time():
    """Pkt. 4: "senest den 1. december i året for rammeaftalens vedtagelse"."""
    contract = final_contract()
    day = dt.date(2025, 12, 1)

    events = when(contract, framework_notice(day))

    assert [
        (
            Contract.FrameworkChangeNotified,
            {
                "received_on": day,
                "framework_version": "Rammeaftale 2026",
                "adoption_year": 2025,
                "in_time": True,
                "actor": OPERATOR,
            },
        )
    ] == events
    assert (FrameworkNotice(day, "Rammeaftale 2026", 2025, in_time=True),) == (
        contract.framework_notices
    )


def test_a_framework_notice_received_on_2_december_is_not_in_time():
    """A later notice is recorded but marked not in time; the terms stay."""
    contract = final_contract()
    day = dt.date(2025, 12, 2)
    terms_before = contract.terms

    events = when(contract, framework_notice(day))

    assert [
        (
            Contract.FrameworkChangeNotified,
            {
                "received_on": day,
                "framework_version": "Rammeaftale 2026",
                "adoption_year": 2025,
                "in_time": False,
                "actor": OPERATOR,
            },
        )
    ] == events
    assert terms_before == contract.terms


@pytest.mark.parametrize("version", ["", "   "])
def test_a_framework_notice_without_a_version_is_rejected(version):
    """The rammeaftale version must be named."""
    contract = final_contract()

    error = then_rejected(
        contract, framework_notice(dt.date(2025, 11, 1), version), errors.InvalidValue
    )
    assert "framework_version" == error.field


# --- regulate_by_tariff_sheet (pkt. 8 rule 1) ----------------------------------


def test_tariff_sheet_lines_move_to_the_new_years_sheet():
    """The new sheet applies from 1 January of the regulated year (G3)."""
    contract = final_contract()

    events = when(contract, lambda c: c.regulate_by_tariff_sheet(2026, actor=OPERATOR))

    assert [(Contract.RegulatedByTariffSheet, {"year": 2026, "actor": OPERATOR})] == events
    [regulation] = contract.regulations
    assert Regulation(2026, "tariff-sheet", cause_version=contract.version) == regulation
    assert dt.date(2026, 1, 1) == regulation.effective_from


def test_a_mixed_contract_can_be_regulated_by_tariff_sheet():
    """One tariff-sheet line is enough."""
    contract = final_contract(draft=drafted(line_85(), line_104(), agreed_line()))

    events = when(contract, lambda c: c.regulate_by_tariff_sheet(2026, actor=OPERATOR))

    assert [(Contract.RegulatedByTariffSheet, {"year": 2026, "actor": OPERATOR})] == events


def test_a_contract_with_only_agreed_lines_is_not_regulated_by_tariff_sheet():
    """Særforanstaltninger are indexed instead."""
    contract = agreed_contract()

    error = then_rejected(
        contract,
        lambda c: c.regulate_by_tariff_sheet(2026, actor=OPERATOR),
        errors.RegulationNotApplicable,
    )
    assert "basis" == error.field
    assert "Bilag 1 pkt. 8" == error.clause


def test_the_same_year_is_not_regulated_by_tariff_sheet_twice():
    """A year's regulation is recorded once."""
    contract = final_contract(sheet_regulated(2026))

    error = then_rejected(
        contract,
        lambda c: c.regulate_by_tariff_sheet(2026, actor=OPERATOR),
        errors.RegulationAlreadyApplied,
    )
    assert "year" == error.field


def test_the_next_year_is_regulated_after_the_last():
    """Each year gets its own regulation."""
    contract = final_contract(sheet_regulated(2026))

    events = when(contract, lambda c: c.regulate_by_tariff_sheet(2027, actor=OPERATOR))

    assert [(Contract.RegulatedByTariffSheet, {"year": 2027, "actor": OPERATOR})] == events


@pytest.mark.parametrize("year", [2024, 2025])
def test_regulation_is_not_applicable_in_or_before_the_start_year(year):
    """Regulation applies from the year after the contract starts (2025)."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.regulate_by_tariff_sheet(year, actor=OPERATOR),
        errors.RegulationNotApplicable,
    )
    assert "year" == error.field


# --- regulate_by_index (pkt. 8 rules 2 and 3) ------------------------------------


def test_agreed_prices_of_a_municipal_offer_are_indexed_by_kl():
    """A municipal offer uses KL's estimate; the edition is stored (G23)."""
    contract = agreed_contract()

    events = when(contract, by_index())

    assert [(Contract.RegulatedByIndex, index_payload())] == events
    [regulation] = contract.regulations
    assert Decimal("1.027") == regulation.factor
    assert dt.date(2026, 1, 1) == regulation.effective_from
    assert contract.version == regulation.cause_version


def test_agreed_prices_of_a_regional_offer_are_indexed_by_danske_regioner():
    """A regional offer uses Danske Regioner's estimate."""
    contract = agreed_contract(provider=REGIONAL_PROVIDER)

    events = when(contract, by_index(source=IndexSource.DANSKE_REGIONER))

    assert [
        (Contract.RegulatedByIndex, index_payload(source=IndexSource.DANSKE_REGIONER))
    ] == events


def test_a_municipal_offer_indexed_by_danske_regioner_is_rejected():
    """KL's estimate for municipal offers."""
    contract = agreed_contract()

    error = then_rejected(
        contract, by_index(source=IndexSource.DANSKE_REGIONER), errors.WrongIndexSource
    )
    assert "source" == error.field
    assert "wrong-index-source" == error.rule


def test_a_regional_offer_indexed_by_kl_is_rejected():
    """Danske Regioner's estimate for regional offers."""
    contract = agreed_contract(provider=REGIONAL_PROVIDER)

    error = then_rejected(contract, by_index(source=IndexSource.KL), errors.WrongIndexSource)
    assert "source" == error.field


def test_a_change_beyond_the_index_without_buyer_acceptance_is_rejected():
    """Pkt. 8: "Ændringer af taksten ud over pris- og lønfremskrivning kræver købers accept"."""
    contract = agreed_contract()

    error = then_rejected(
        contract,
        by_index(beyond_index_percentage=Decimal("1.5")),
        errors.BuyerAcceptanceRequired,
    )
    assert "buyer_acceptance_ref" == error.field


def test_a_change_beyond_the_index_with_a_blank_acceptance_is_rejected():
    """An acceptance reference of blanks is no acceptance."""
    contract = agreed_contract()

    then_rejected(
        contract,
        by_index(beyond_index_percentage=Decimal("1.5"), buyer_acceptance_ref="  "),
        errors.BuyerAcceptanceRequired,
    )


def test_a_change_beyond_the_index_with_buyer_acceptance_is_recorded():
    """With the buyer's acceptance the extra percentage is part of the regulation."""
    contract = agreed_contract()

    events = when(
        contract,
        by_index(beyond_index_percentage=Decimal("1.5"), buyer_acceptance_ref="Accept 2025-11"),
    )

    assert [
        (
            Contract.RegulatedByIndex,
            index_payload(
                beyond_index_percentage=Decimal("1.5"), buyer_acceptance_ref="Accept 2025-11"
            ),
        )
    ] == events
    assert Decimal("1.042") == contract.regulations[0].factor


@pytest.mark.parametrize("edition", ["", "   "])
def test_an_indexation_without_the_estimates_edition_is_rejected(edition):
    """G23: the estimate's edition must be named."""
    contract = agreed_contract()

    error = then_rejected(contract, by_index(edition=edition), errors.InvalidValue)
    assert "edition" == error.field


def test_a_contract_with_only_tariff_sheet_lines_is_not_indexed():
    """Tariff-sheet lines follow the new sheet instead."""
    contract = final_contract()

    error = then_rejected(contract, by_index(), errors.RegulationNotApplicable)
    assert "basis" == error.field


def test_an_indexation_that_makes_prices_non_positive_is_rejected():
    """An index of -100 % or less would leave no price."""
    contract = agreed_contract()

    error = then_rejected(
        contract,
        by_index(pl_percentage=Decimal(-100), overhead_percentage=Decimal(0)),
        errors.NonPositivePrice,
    )
    assert "pl_percentage" == error.field


def test_a_negative_index_above_minus_100_percent_is_accepted():
    """Deflation is indexation too."""
    contract = agreed_contract()

    events = when(contract, by_index(pl_percentage=Decimal("-1.2")))

    assert [(Contract.RegulatedByIndex, index_payload(pl_percentage=Decimal("-1.2")))] == events


def test_the_same_year_is_not_indexed_twice():
    """A year's indexation is recorded once."""
    contract = agreed_contract(indexed(2026))

    then_rejected(contract, by_index(2026), errors.RegulationAlreadyApplied)


def test_indexing_in_the_start_year_is_not_applicable():
    """Indexation applies from the year after the contract starts."""
    contract = agreed_contract()

    error = then_rejected(contract, by_index(2025), errors.RegulationNotApplicable)
    assert "year" == error.field


def test_a_mixed_contract_is_regulated_both_ways_in_the_same_year():
    """Sheet and index regulation of one year are separate facts."""
    contract = given(
        Contract,
        drafted(line_104(), agreed_line()),
        sheet_regulated(2026),
    )

    events = when(contract, by_index(2026))

    assert [(Contract.RegulatedByIndex, index_payload())] == events
    assert ["tariff-sheet", "index"] == [r.basis for r in contract.regulations]
