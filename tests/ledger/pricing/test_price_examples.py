"""Worked examples of the price function, with amounts computed by hand.

The sheets come from ``examples.sheet_prices``: fixed components cost
``base / 2`` a day and a per-step component ``base + index × increment``,
where ``index`` is the step's position in its model. With base 100 and
increment 10:

* §85 step "3" (index 3): basis 50 + service 130 = 180 a day;
* §85 step "4": 50 + 140 = 190; step "5": 50 + 150 = 200;
* §104 step "2:2" (index 5): basis 50 + service 150 + night 50 = 250 a day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger.contract import Contract
from ledger.errors import TariffSheetNotFound
from ledger.pricing import (
    NoSheets,
    accrued,
    amount,
    contract_daily_total,
    daily_price,
    price_timeline,
    round_oere,
)
from ledger.tariff_sheet import TariffSheet, price
from ledger.values import ComponentPrice, IndexSource, Party, RequestNature
from tests.ledger.examples import (
    OPERATOR,
    PROVIDER,
    START,
    agreed_line,
    drafted,
    final_contract,
    line_85,
    line_104,
    placed,
    sheet_prices,
)
from tests.ledger.given_when_then import fact, given

OFFER = PROVIDER.offer
D = dt.date


class Sheets:
    """A sheet source over a few published sheets (the pure function's only input)."""

    def __init__(self, *sheets: TariffSheet) -> None:
        self._by_key = {(s.offer, s.year): s for s in sheets}

    def sheet(self, offer: str, year: int) -> TariffSheet | None:
        return self._by_key.get((offer, year))


def sheet(year: int, base: int = 100, increment: int = 10) -> TariffSheet:
    """The offer's sheet for ``year`` built by ``examples.sheet_prices``."""
    return TariffSheet.publish(
        offer=OFFER,
        year=year,
        prices=sheet_prices(base=Decimal(base), step_increment=Decimal(increment)),
        source=f"Takstblad {year}",
        actor=OPERATOR,
    )


SHEETS_2025 = Sheets(sheet(2025))


def dailies(
    contract: Contract, line_id: str, *days: dt.date, sheets: Sheets = SHEETS_2025
) -> list[Decimal | None]:
    """The daily price of a line on each of ``days`` (None where not billable)."""
    prices = [daily_price(contract, line_id, day, sheets) for day in days]
    return [p.daily if p is not None else None for p in prices]


# --- a §85 + §104 contract on the 2025 sheet ----------------------------------


def test_a_sheet_priced_line_costs_the_sum_of_its_components_every_day():
    """§85 step 3 is 50 + 130 = 180 a day, §104 step 2:2 is 50 + 150 + 50 = 250."""
    contract = final_contract()

    section_85 = daily_price(contract, "1", D(2025, 1, 15), SHEETS_2025)
    section_104 = daily_price(contract, "2", D(2025, 1, 15), SHEETS_2025)

    assert section_85 is not None
    assert section_104 is not None
    assert (ComponentPrice("basis", Decimal(50)), ComponentPrice("service", Decimal(130))) == (
        section_85.components
    )
    assert Decimal(180) == section_85.daily
    assert (
        ComponentPrice("basis", Decimal(50)),
        ComponentPrice("service", Decimal(150)),
        ComponentPrice("night", Decimal(50)),
    ) == section_104.components
    assert Decimal(250) == section_104.daily
    assert 2025 == section_85.sheet_year


def test_a_month_is_billed_as_its_days_times_the_daily_price():
    """January: §85 31 × 180 = 5580.00, §104 31 × 250 = 7750.00; the contract 430 a day."""
    contract = final_contract()

    assert Decimal("5580.00") == amount(contract, "1", D(2025, 1, 1), D(2025, 1, 31), SHEETS_2025)
    assert Decimal("7750.00") == amount(contract, "2", D(2025, 1, 1), D(2025, 1, 31), SHEETS_2025)
    assert Decimal(430) == contract_daily_total(contract, D(2025, 1, 31), SHEETS_2025)


def test_no_day_before_the_line_starts_is_priced():
    """A line starting on 10 March has no price on 9 March and no period before it."""
    contract = given(
        Contract,
        drafted(line_85(start=D(2025, 3, 10)), line_104(start=D(2025, 3, 10))),
        *placed(D(2025, 3, 10)),
    )

    periods = price_timeline(contract, "1", SHEETS_2025, start=D(2025, 3, 1), end=D(2025, 3, 31))

    assert [None, Decimal(180)] == dailies(contract, "1", D(2025, 3, 9), D(2025, 3, 10))
    assert [(D(2025, 3, 10), D(2025, 3, 31))] == [(p.start, p.end) for p in periods]
    assert Decimal("3960.00") == amount(contract, "1", D(2025, 3, 1), D(2025, 3, 31), SHEETS_2025)


def test_a_step_change_in_mid_month_splits_the_month_into_two_periods():
    """Step 3 → 5 from 16 March: 15 × 180 + 16 × 200 = 5900.00 for March."""
    contract = final_contract(
        fact(
            Contract.StepChanged,
            line_id="1",
            step="5",
            effective_from=D(2025, 3, 16),
            agreed_on=D(2025, 3, 1),
            agreement_ref="Aftale 2025-17",
            actor=OPERATOR,
        )
    )

    periods = price_timeline(contract, "1", SHEETS_2025, start=D(2025, 3, 1), end=D(2025, 3, 31))

    assert [
        (D(2025, 3, 1), D(2025, 3, 15), "3", Decimal(180), "Drafted"),
        (D(2025, 3, 16), D(2025, 3, 31), "5", Decimal(200), "StepChanged"),
    ] == [(p.start, p.end, p.step, p.daily, p.cause) for p in periods]
    assert Decimal("5900.00") == amount(contract, "1", D(2025, 3, 1), D(2025, 3, 31), SHEETS_2025)


def test_an_approved_renegotiation_takes_effect_from_the_day_the_description_was_received():
    """Received 10 April, approved 28 April: April = 9 × 180 + 21 × 190 = 5610.00."""
    contract = final_contract()
    request_id = contract.request_renegotiation(
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 4, 10),
        nature=RequestNature.LASTING,
        description="Borgeren har brug for støtte til flere daglige opgaver",
        actor=OPERATOR,
        proposed_step="4",
    )
    before = amount(contract, "1", D(2025, 4, 1), D(2025, 4, 30), SHEETS_2025)

    contract.answer_renegotiation(
        request_id,
        answered_by=Party.BUYER,
        answered_on=D(2025, 4, 28),
        approved=True,
        actor=OPERATOR,
        agreement_ref="Aftale 2025-21",
    )

    assert Decimal("5400.00") == before
    assert [Decimal(180), Decimal(190)] == dailies(contract, "1", D(2025, 4, 9), D(2025, 4, 10))
    assert Decimal("5610.00") == amount(contract, "1", D(2025, 4, 1), D(2025, 4, 30), SHEETS_2025)


def test_a_buyers_request_approved_without_a_date_takes_effect_no_earlier_than_its_receipt():
    """Buyer asks on 10 March for step 2 "from 1 February": no day before 10 March changes.

    Retroactive effective dates never precede the receipt (pkt. 16, G13); an
    agreed ``effective_from`` of 1 February is refused, so the requested one
    must not slip through either.
    """
    contract = final_contract()
    request_id = contract.request_renegotiation(
        "1",
        requested_by=Party.BUYER,
        received_on=D(2025, 3, 10),
        nature=RequestNature.LASTING,
        description="Borgeren klarer flere opgaver selv",
        actor=OPERATOR,
        proposed_step="2",
        requested_effective_from=D(2025, 2, 1),
    )

    contract.answer_renegotiation(
        request_id,
        answered_by=Party.PROVIDER,
        answered_on=D(2025, 3, 20),
        approved=True,
        actor=OPERATOR,
        agreement_ref="Aftale 2025-30",
    )

    # Step 2 is 50 + 120 = 170 a day; step 3 stays until the receipt.
    assert [Decimal(180), Decimal(180), Decimal(170)] == dailies(
        contract, "1", D(2025, 2, 1), D(2025, 3, 9), D(2025, 3, 10)
    )


def test_a_tariff_sheet_regulation_recorded_later_applies_from_1_january():
    """Regulated to the 2026 sheet (base 110): 195 a day from 1 January, 180 the day before."""
    sheets = Sheets(sheet(2025), sheet(2026, base=110))
    contract = final_contract()
    contract.regulate_by_tariff_sheet(2026, actor=OPERATOR)

    last_of_2025 = daily_price(contract, "1", D(2025, 12, 31), sheets)
    first_of_2026 = daily_price(contract, "1", D(2026, 1, 1), sheets)

    assert last_of_2025 is not None
    assert first_of_2026 is not None
    assert (Decimal(180), 2025) == (last_of_2025.daily, last_of_2025.sheet_year)
    # 2026: basis 55 + service 110 + 3 × 10 = 195; §104 2:2: 55 + 160 + 55 = 270.
    assert (Decimal(195), 2026, "RegulatedByTariffSheet") == (
        first_of_2026.daily,
        first_of_2026.sheet_year,
        first_of_2026.cause,
    )
    assert [Decimal(250), Decimal(270)] == dailies(
        contract, "2", D(2025, 12, 31), D(2026, 1, 1), sheets=sheets
    )


def test_a_contract_without_regulation_keeps_last_years_sheet_in_the_new_year():
    """No 2026 regulation: 2026 days are priced from the 2025 sheet though a 2026 sheet exists."""
    sheets = Sheets(sheet(2025), sheet(2026, base=110))
    contract = final_contract()

    march_2026 = daily_price(contract, "1", D(2026, 3, 1), sheets)

    assert march_2026 is not None
    assert (Decimal(180), 2025) == (march_2026.daily, march_2026.sheet_year)


def test_index_regulation_multiplies_each_agreed_component_and_rounds_it_half_up_to_oere():
    """PL 3 % + overhead 1 % (G23): ×1.04, then each component to øre, half-up.

    412.37 × 1.04 = 428.8648 → 428.86; 100.0625 × 1.04 = 104.065 → 104.07.
    """
    contract = given(Contract, drafted(agreed_line(basis="412.37", service="100.0625")), *placed())
    contract.regulate_by_index(
        2026,
        pl_percentage=Decimal(3),
        overhead_percentage=Decimal(1),
        source=IndexSource.KL,
        edition="KL's skøn juni 2025",
        actor=OPERATOR,
    )

    before = daily_price(contract, "1", D(2025, 12, 31), NoSheets())
    after = daily_price(contract, "1", D(2026, 1, 1), NoSheets())

    assert before is not None
    assert after is not None
    assert Decimal("512.4325") == before.daily
    assert (
        ComponentPrice("basis", Decimal("428.86")),
        ComponentPrice("service", Decimal("104.07")),
    ) == after.components
    assert (Decimal("532.93"), "RegulatedByIndex") == (after.daily, after.cause)


def test_a_second_index_regulation_compounds_on_the_rounded_prices():
    """2027 at 2 %: 428.86 × 1.02 = 437.4372 → 437.44; 104.07 × 1.02 = 106.1514 → 106.15."""
    contract = given(Contract, drafted(agreed_line(basis="412.37", service="100.0625")), *placed())
    for year, pl in ((2026, Decimal(3)), (2027, Decimal(2))):
        contract.regulate_by_index(
            year,
            pl_percentage=pl,
            overhead_percentage=Decimal(1) if year == 2026 else Decimal(0),
            source=IndexSource.KL,
            edition=f"KL's skøn juni {year - 1}",
            actor=OPERATOR,
        )

    in_2027 = daily_price(contract, "1", D(2027, 6, 1), NoSheets())

    assert in_2027 is not None
    assert (
        ComponentPrice("basis", Decimal("437.44")),
        ComponentPrice("service", Decimal("106.15")),
    ) == in_2027.components


def test_an_allonge_adds_its_delta_only_inside_its_window():
    """+25 a day from 10 to 12 March: March = 31 × 180 + 3 × 25 = 5655.00."""
    contract = final_contract()
    contract.add_allonge(
        "1",
        valid_from=D(2025, 3, 10),
        valid_to=D(2025, 3, 12),
        daily_delta=Decimal(25),
        description="Midlertidig ekstra støtte efter indlæggelse",
        agreement_ref="Allonge 1",
        buyer_accepted=True,
        actor=OPERATOR,
    )

    assert [Decimal(180), Decimal(205), Decimal(205), Decimal(180)] == dailies(
        contract, "1", D(2025, 3, 9), D(2025, 3, 10), D(2025, 3, 12), D(2025, 3, 13)
    )
    assert Decimal("5655.00") == amount(contract, "1", D(2025, 3, 1), D(2025, 3, 31), SHEETS_2025)
    assert [Decimal(250), Decimal(250)] == dailies(contract, "2", D(2025, 3, 9), D(2025, 3, 10))


def test_payment_ends_the_day_before_the_place_is_reoccupied_under_option_1():
    """Notice 1 May (3 months), re-occupied 15 June: billed to 14 June, nothing after."""
    contract = final_contract()
    contract.give_notice(given_by=Party.BUYER, given_on=D(2025, 5, 1), actor=OPERATOR)
    contract.record_reoccupation(D(2025, 6, 15), actor=OPERATOR)

    periods = price_timeline(contract, "1", SHEETS_2025, end=D(2025, 12, 31))

    assert D(2025, 6, 14) == contract.payment_end
    assert [(START, D(2025, 6, 14))] == [(p.start, p.end) for p in periods]
    assert [Decimal(180), None] == dailies(contract, "1", D(2025, 6, 14), D(2025, 6, 15))
    # June: 14 days of 180.
    assert Decimal("2520.00") == amount(contract, "1", D(2025, 6, 1), D(2025, 6, 30), SHEETS_2025)


def test_payment_runs_to_the_end_of_notice_when_the_place_is_not_reoccupied():
    """Notice 1 May (3 months) and no re-occupation: billed to 1 August (G14)."""
    contract = final_contract()
    contract.give_notice(given_by=Party.BUYER, given_on=D(2025, 5, 1), actor=OPERATOR)

    assert D(2025, 8, 1) == contract.payment_end
    assert [Decimal(250), None] == dailies(contract, "2", D(2025, 8, 1), D(2025, 8, 2))


def test_february_in_a_leap_year_is_billed_for_29_days():
    """February 2028: §85 29 × 180 = 5220.00 (29 February is billable, G4)."""
    leap = D(2028, 1, 1)
    contract = given(Contract, drafted(line_85(start=leap), line_104(start=leap)), *placed(leap))
    sheets = Sheets(sheet(2028))

    assert Decimal("5220.00") == amount(contract, "1", D(2028, 2, 1), D(2028, 2, 29), sheets)
    assert [Decimal(180)] == dailies(contract, "1", D(2028, 2, 29), sheets=sheets)


def test_an_annual_tariff_is_accrued_at_its_exact_day_rate_and_rounded_once_per_line():
    """Annual 100000 → 273.972603 a day; 31 days = 8493.150693 → 8493.15 (G4)."""
    prices = [
        price("slotsvaenget-85", "basis", annual=Decimal(100000)),
        *[
            price("slotsvaenget-85", "service", step, daily=Decimal(1))
            for step in ("0", "1", "2", "3", "4", "5", "6", "7", "8")
        ],
        *[p for p in sheet_prices() if p.model == "slotsvaenget-104"],
    ]
    annual_sheet = TariffSheet.publish(
        offer=OFFER, year=2025, prices=prices, source="Takstblad 2025", actor=OPERATOR
    )
    contract = final_contract()
    sheets = Sheets(annual_sheet)

    exact = accrued(contract, "1", D(2025, 1, 1), D(2025, 1, 31), sheets)

    assert Decimal("8493.150693") == exact - 31 * Decimal(1)
    assert Decimal("8524.15") == amount(contract, "1", D(2025, 1, 1), D(2025, 1, 31), sheets)


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("0.0049"), Decimal("0.00")),
        (Decimal("2.675"), Decimal("2.68")),
        (Decimal("104.065"), Decimal("104.07")),
        (Decimal("1.004999"), Decimal("1.00")),
    ],
)
def test_round_oere_rounds_half_up(exact, rounded):
    """Billing rounds half-up to øre: 0.005 → 0.01, never to even."""
    assert rounded == round_oere(exact)


def test_a_day_whose_sheet_year_has_no_sheet_raises_tariff_sheet_not_found():
    """A 2025 line priced without a 2025 sheet names the missing year."""
    contract = final_contract()

    with pytest.raises(TariffSheetNotFound) as raised:
        daily_price(contract, "1", D(2025, 2, 1), Sheets(sheet(2026)))

    assert "year" == raised.value.field
    assert "2025" in raised.value.message


def test_a_regulated_year_without_its_sheet_raises_tariff_sheet_not_found():
    """Regulated to 2026 but the source has only 2025: pricing 2026 fails, 2025 still works."""
    contract = final_contract()
    contract.regulate_by_tariff_sheet(2026, actor=OPERATOR)

    with pytest.raises(TariffSheetNotFound):
        daily_price(contract, "1", D(2026, 1, 1), SHEETS_2025)
    assert [Decimal(180)] == dailies(contract, "1", D(2025, 12, 31))


def test_agreed_lines_need_no_sheet():
    """A særforanstaltning is priced from the contract alone (NoSheets)."""
    contract = given(Contract, drafted(agreed_line()), *placed())

    assert Decimal("1000.00") == amount(contract, "1", D(2025, 1, 1), D(2025, 1, 1), NoSheets())
