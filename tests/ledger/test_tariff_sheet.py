"""The tariff sheet aggregate: publishing and correcting an offer's prices for a year."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ledger.errors import (
    IncompleteTariffSheet,
    InvalidValue,
    NonPositivePrice,
    UnknownStep,
    UnknownTariffModel,
)
from ledger.tariff_sheet import (
    SheetPrice,
    TariffSheet,
    daily_from_annual,
    price,
    sheet_id,
    validate_prices,
)
from ledger.tariffs import UnknownComponent
from tests.ledger.examples import OPERATOR, PROVIDER, PROVIDER_ADMIN, sheet_prices
from tests.ledger.given_when_then import ENVELOPE, then_rejected, when

OFFER = PROVIDER.offer


def publish(prices=None, **changes) -> TariffSheet:
    """Publish the offer's 2025 sheet (the example prices unless given)."""
    arguments = {
        "offer": OFFER,
        "year": 2025,
        "prices": sheet_prices() if prices is None else prices,
        "source": "Takstblad 2025, LTK",
        "actor": PROVIDER_ADMIN,
        **changes,
    }
    return TariffSheet.publish(**arguments)


def without(prices: list[SheetPrice], model: str, component: str, step: str | None):
    """``prices`` minus one price."""
    return [p for p in prices if p.key != (model, component, step)]


# --- publish ---------------------------------------------------------------------


def test_publishing_records_one_published_event_with_the_prices_and_who_published():
    """The event carries offer, year, 1 January, the prices, the source and the actor."""
    prices = sheet_prices()

    sheet = publish(prices)

    events = sheet.collect_events()
    assert [TariffSheet.Published] == [type(e) for e in events]
    payload = {k: v for k, v in vars(events[0]).items() if k not in ENVELOPE}
    assert {
        "offer": OFFER,
        "year": 2025,
        "valid_from": dt.date(2025, 1, 1),
        "prices": tuple(prices),
        "source": "Takstblad 2025, LTK",
        "actor": PROVIDER_ADMIN,
    } == payload
    assert sheet_id(OFFER, 2025) == sheet.id
    assert ("slotsvaenget-85", "slotsvaenget-104") == sheet.models
    assert 0 == sheet.corrections


def test_a_sheet_may_take_effect_later_in_its_own_year():
    """valid_from 1 March 2025 is kept on a 2025 sheet."""
    sheet = publish(valid_from=dt.date(2025, 3, 1))

    assert dt.date(2025, 3, 1) == sheet.valid_from


def test_the_sheet_id_depends_on_offer_and_year_only():
    """Two publications of the same offer and year get the same id (one sheet per year)."""
    assert publish().id == publish().id
    assert publish().id != publish(year=2026).id
    assert publish().id != publish(offer="another-offer").id


def test_a_sheet_looks_up_a_component_price_by_model_component_and_step():
    """§85 service step 3 costs 130; a fixed component has no step; a missing key is None."""
    sheet = publish()

    assert Decimal(130) == sheet.lookup("slotsvaenget-85", "service", "3")
    assert Decimal(50) == sheet.lookup("slotsvaenget-104", "night", None)
    assert sheet.lookup("slotsvaenget-104", "night", "1:1") is None


def test_publishing_refuses_a_sheet_that_misses_a_step():
    """§85 service without step 8 is incomplete, and the message names the step."""
    prices = without(sheet_prices(), "slotsvaenget-85", "service", "8")

    with pytest.raises(IncompleteTariffSheet) as raised:
        publish(prices)

    assert "8" in raised.value.message


def test_publishing_refuses_a_sheet_that_misses_a_fixed_component():
    """§104 without its night cover is incomplete (the night cover cannot be opted out)."""
    prices = without(sheet_prices(), "slotsvaenget-104", "night", None)

    with pytest.raises(IncompleteTariffSheet) as raised:
        publish(prices)

    assert "night" in raised.value.message


def test_publishing_refuses_an_empty_sheet():
    """A sheet needs at least one price."""
    with pytest.raises(IncompleteTariffSheet):
        publish([])


def test_publishing_refuses_a_per_step_price_without_a_step():
    """The service price is per step: a service price with no step is refused."""
    complete = sheet_prices()

    with pytest.raises(IncompleteTariffSheet) as raised:
        publish([*complete, SheetPrice("slotsvaenget-85", "service", None, Decimal(1))])

    assert f"prices[{len(complete)}].step" == raised.value.field


@pytest.mark.parametrize("daily", [Decimal(0), Decimal("-0.01")])
def test_publishing_refuses_a_price_that_is_not_positive(daily):
    """A zero or negative daily price is refused and the offending price is named."""
    prices = sheet_prices()
    prices[0] = dataclasses.replace(prices[0], daily=daily)

    with pytest.raises(NonPositivePrice) as raised:
        publish(prices)

    assert "prices[0].daily" == raised.value.field


def test_publishing_refuses_an_unknown_tariff_model():
    """A price for a model the ledger does not know is refused."""
    prices = [*sheet_prices(), SheetPrice("no-such-model", "basis", None, Decimal(1))]

    with pytest.raises(UnknownTariffModel):
        publish(prices)


def test_publishing_refuses_an_unknown_component_or_step():
    """§85 has no night component and no step 9."""
    with pytest.raises(UnknownComponent):
        publish([*sheet_prices(), SheetPrice("slotsvaenget-85", "night", None, Decimal(1))])
    with pytest.raises(UnknownStep):
        publish([*sheet_prices(), SheetPrice("slotsvaenget-85", "service", "9", Decimal(1))])


def test_publishing_refuses_a_price_given_twice():
    """The same model, component and step may be priced once only."""
    prices = sheet_prices()
    duplicate = dataclasses.replace(prices[0], daily=Decimal(99))

    with pytest.raises(InvalidValue) as raised:
        publish([*prices, duplicate])

    assert InvalidValue is type(raised.value)
    assert f"prices[{len(prices)}]" == raised.value.field


def test_publishing_refuses_a_step_on_a_fixed_component():
    """The basis price is the same for all steps: naming a step is refused."""
    prices = sheet_prices()
    prices[0] = dataclasses.replace(prices[0], step="3")
    assert ("slotsvaenget-85", "basis") == (prices[0].model, prices[0].component)

    with pytest.raises(UnknownStep) as raised:
        publish(prices)

    assert "prices[0].step" == raised.value.field


@pytest.mark.parametrize("source", ["", "   "])
def test_publishing_refuses_a_blank_source(source):
    """The sheet must say where its prices come from."""
    with pytest.raises(InvalidValue) as raised:
        publish(source=source)

    assert "source" == raised.value.field


@pytest.mark.parametrize("valid_from", [dt.date(2024, 12, 31), dt.date(2026, 1, 1)])
def test_publishing_refuses_a_valid_from_in_another_year(valid_from):
    """A 2025 sheet must take effect in 2025."""
    with pytest.raises(InvalidValue) as raised:
        publish(valid_from=valid_from)

    assert "valid_from" == raised.value.field


def test_validation_returns_the_models_a_price_list_covers_in_order():
    """The §104-only list covers one model."""
    prices = tuple(sheet_prices(models=("slotsvaenget-104",)))

    assert ("slotsvaenget-104",) == validate_prices(prices)


# --- G4: annual to daily ------------------------------------------------------------


@pytest.mark.parametrize(
    ("annual", "daily"),
    [
        (Decimal(365000), Decimal("1000.000000")),
        (Decimal(100000), Decimal("273.972603")),
        (Decimal(1), Decimal("0.002740")),
        (Decimal("0.0001824"), Decimal("0.000000")),
        (Decimal("0.0001825"), Decimal("0.000001")),
    ],
)
def test_an_annual_tariff_becomes_a_day_rate_of_annual_over_365_to_six_decimals(annual, daily):
    """G4: day rate = annual / 365, rounded half-up to 1e-6 DKK."""
    result = daily_from_annual(annual)

    assert daily == result
    assert daily.as_tuple().exponent == result.as_tuple().exponent


def test_a_price_built_from_an_annual_amount_keeps_the_annual_amount_for_audit():
    """price(annual=365000) is 1000 a day and remembers 365000."""
    item = price("slotsvaenget-104", "night", annual=Decimal(365000))

    assert (
        SheetPrice("slotsvaenget-104", "night", None, Decimal("1000.000000"), Decimal(365000))
        == item
    )


def test_a_price_built_from_a_daily_amount_has_no_annual_amount():
    """price(daily=...) keeps the daily amount as given."""
    assert SheetPrice("slotsvaenget-85", "service", "3", Decimal("130.50")) == price(
        "slotsvaenget-85", "service", "3", daily=Decimal("130.50")
    )


@pytest.mark.parametrize(
    "amounts", [{}, {"daily": Decimal(1), "annual": Decimal(365)}], ids=["neither", "both"]
)
def test_a_price_needs_exactly_one_of_a_daily_and_an_annual_amount(amounts):
    """Neither or both amounts is refused."""
    with pytest.raises(InvalidValue):
        price("slotsvaenget-85", "basis", **amounts)


# --- correct -----------------------------------------------------------------------


def published() -> TariffSheet:
    """A published sheet whose creation event has been collected (as if stored)."""
    sheet = publish()
    sheet.collect_events()
    return sheet


def test_a_correction_records_the_new_prices_the_reason_and_who_corrected():
    """Correcting replaces the prices, keeps the old ones in the history and counts."""
    sheet = published()
    new_prices = tuple(sheet_prices(base=Decimal(120)))

    events = when(
        sheet,
        lambda s: s.correct(prices=new_prices, reason="Trykfejl i takstbladet", actor=OPERATOR),
    )

    assert [
        (
            TariffSheet.Corrected,
            {"prices": new_prices, "reason": "Trykfejl i takstbladet", "actor": OPERATOR},
        )
    ] == events
    assert new_prices == sheet.prices
    assert 1 == sheet.corrections
    assert Decimal(60) == sheet.lookup("slotsvaenget-85", "basis", None)


def test_each_correction_increments_the_count():
    """Two corrections: corrections == 2 and version 3."""
    sheet = published()

    sheet.correct(prices=sheet_prices(base=Decimal(120)), reason="Første", actor=OPERATOR)
    sheet.correct(prices=sheet_prices(base=Decimal(130)), reason="Anden", actor=OPERATOR)

    assert (2, 3) == (sheet.corrections, sheet.version)


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_correction_needs_a_reason(reason):
    """No reason: refused, nothing recorded, state unchanged."""
    sheet = published()

    error = then_rejected(
        sheet,
        lambda s: s.correct(prices=sheet_prices(base=Decimal(120)), reason=reason, actor=OPERATOR),
        InvalidValue,
    )

    assert "reason" == error.field


def test_a_correction_that_changes_no_price_is_refused():
    """The same prices, even in another order, are no correction."""
    sheet = published()

    error = then_rejected(
        sheet,
        lambda s: s.correct(
            prices=list(reversed(sheet_prices())), reason="Ingen ændring", actor=OPERATOR
        ),
        InvalidValue,
    )

    assert "prices" == error.field


def test_a_correction_with_an_incomplete_price_list_records_nothing():
    """A correction is validated like a publication: a missing step is refused."""
    sheet = published()
    prices = without(sheet_prices(base=Decimal(120)), "slotsvaenget-104", "service", "4:4")

    then_rejected(
        sheet,
        lambda s: s.correct(prices=prices, reason="Nye priser", actor=OPERATOR),
        IncompleteTariffSheet,
    )
