"""Properties of the price function that hold for every contract history.

Contracts are built from facts and then driven by the aggregate's own
commands (so every history is one the rules allow); hypothesis chooses the
dates, steps, parties and options.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import settings
from hypothesis import strategies as st

from ledger.contract import Contract
from ledger.pricing import PricePeriod, accrued, daily_price, price_timeline
from ledger.tariff_sheet import TariffSheet
from ledger.tariffs import get_model
from ledger.values import (
    IndexSource,
    NoticePeriod,
    Party,
    PaymentOption,
    RequestNature,
    RescissionGround,
    ServiceLineSpec,
    Terms,
)
from tests.ledger.examples import (
    OPERATOR,
    PROVIDER,
    START,
    agreed_line,
    drafted,
    line_85,
    line_104,
    placed,
    sheet_prices,
    terms,
)
from tests.ledger.given_when_then import given

ONE_DAY = dt.timedelta(days=1)
HORIZON = dt.date(2027, 12, 31)
SETTINGS = settings(max_examples=60, deadline=None)


class Sheets:
    """A sheet source over a few published sheets."""

    def __init__(self, *sheets: TariffSheet) -> None:
        self._by_key = {(s.offer, s.year): s for s in sheets}

    def sheet(self, offer: str, year: int) -> TariffSheet | None:
        return self._by_key.get((offer, year))


SHEETS = Sheets(
    *(
        TariffSheet.publish(
            offer=PROVIDER.offer,
            year=year,
            prices=sheet_prices(base=Decimal(base), step_increment=Decimal(increment)),
            source=f"Takstblad {year}",
            actor=OPERATOR,
        )
        for year, base, increment in ((2025, 100, 10), (2026, 110, 11), (2027, 121, 13))
    )
)
STEPS_85 = get_model("slotsvaenget-85").step_codes


def dates(first: dt.date = START, last: dt.date = HORIZON) -> st.SearchStrategy[dt.date]:
    """Days between ``first`` and ``last`` inclusive."""
    return st.dates(min_value=first, max_value=last)


def contract_with(*lines: ServiceLineSpec, contract_terms: Terms | None = None) -> Contract:
    """A final contract with ``lines`` (default §85 step 3 + §104 2:2)."""
    draft = (
        drafted(*lines)
        if contract_terms is None
        else drafted(*lines, contract_terms=contract_terms)
    )
    return given(Contract, draft, *placed())


def timeline(
    contract: Contract, line_id: str, *, end: dt.date = HORIZON, start: dt.date | None = None
) -> list[PricePeriod]:
    return price_timeline(contract, line_id, SHEETS, start=start, end=end)


@st.composite
def priced_histories(draw: st.DrawFn) -> Contract:
    """A §85 + §104 contract with some step changes, allonges, regulations and an end."""
    contract = contract_with()
    for _ in range(draw(st.integers(0, 3))):
        effective = draw(dates())
        step = draw(st.sampled_from(STEPS_85))
        if contract.lines["1"].step_on(effective) != step:
            contract.change_step(
                "1",
                step,
                effective_from=effective,
                agreed_on=effective,
                agreement_ref="Aftale",
                actor=OPERATOR,
            )
    for _ in range(draw(st.integers(0, 2))):
        valid_from = draw(dates())
        valid_to = valid_from + dt.timedelta(days=draw(st.integers(0, 90)))
        delta = draw(st.decimals(min_value=-50, max_value=150, places=2))
        contract.add_allonge(
            draw(st.sampled_from(["1", "2"])),
            valid_from=valid_from,
            valid_to=valid_to,
            daily_delta=delta,
            description="Midlertidig ændring",
            agreement_ref="Allonge",
            buyer_accepted=True,
            actor=OPERATOR,
        )
    for year in draw(st.sets(st.sampled_from([2026, 2027]))):
        contract.regulate_by_tariff_sheet(year, actor=OPERATOR)
    if draw(st.booleans()):
        given_on = draw(dates())
        contract.give_notice(given_by=Party.BUYER, given_on=given_on, actor=OPERATOR)
        if draw(st.booleans()):
            later = dt.timedelta(days=draw(st.integers(0, 200)))
            contract.record_reoccupation(given_on + later, actor=OPERATOR)
    return contract


# --- (a) periods add up -------------------------------------------------------


@SETTINGS
@for_all(
    priced_histories(),
    st.sampled_from(["1", "2"]),
    st.lists(dates(dt.date(2024, 12, 1)), min_size=3, max_size=3),
)
def test_accrual_over_a_period_equals_the_sum_over_any_split_of_it(contract, line_id, days):
    """accrued(a..b) == accrued(a..m) + accrued(m+1..b), exactly, for any a ≤ m < b."""
    a, m, b = sorted(days)
    if m == b:
        m = b - ONE_DAY

    whole = accrued(contract, line_id, a, b, SHEETS)
    left = accrued(contract, line_id, a, m, SHEETS) if a <= m else Decimal(0)
    right = accrued(contract, line_id, m + ONE_DAY, b, SHEETS)

    assert whole == left + right


@SETTINGS
@for_all(priced_histories(), st.sampled_from(["1", "2"]), dates(), st.integers(0, 75))
def test_accrual_equals_the_sum_of_the_daily_prices(contract, line_id, first, length):
    """The accrued amount of a period is the sum of its billable days' daily prices."""
    last = first + dt.timedelta(days=length)
    days = [first + dt.timedelta(days=n) for n in range(length + 1)]

    prices = [daily_price(contract, line_id, day, SHEETS) for day in days]

    assert sum((p.daily for p in prices if p is not None), Decimal(0)) == accrued(
        contract, line_id, first, last, SHEETS
    )


@SETTINGS
@for_all(priced_histories(), st.sampled_from(["1", "2"]))
def test_the_timeline_covers_consecutive_days_without_gaps_or_overlaps(contract, line_id):
    """Each period starts the day after the previous one ends."""
    periods = timeline(contract, line_id)

    assert all(p.start <= p.end for p in periods)
    assert all(b.start == a.end + ONE_DAY for a, b in itertools.pairwise(periods))
    assert [START] == [p.start for p in periods[:1]] or contract.payment_end < START


# --- (b) renegotiation is retroactive only to the receipt --------------------


@st.composite
def renegotiations(draw: st.DrawFn) -> dict[str, Any]:
    """A pkt. 16 request on the §85 line: receipt, proposal, wished-for date, answer."""
    received_on = draw(dates(dt.date(2025, 3, 1), dt.date(2026, 12, 31)))
    offset = draw(st.none() | st.integers(-60, -1) | st.integers(0, 60))
    return {
        "received_on": received_on,
        "proposed_step": draw(st.sampled_from([s for s in STEPS_85 if s != "3"])),
        "requested_effective_from": (
            None if offset is None else max(START, received_on + dt.timedelta(days=offset))
        ),
        "answered_on": received_on + dt.timedelta(days=draw(st.integers(0, 60))),
        "agreed_days_after_receipt": draw(st.integers(0, 60)),
    }


@pytest.mark.parametrize("with_agreed_date", [False, True], ids=["default-date", "agreed-date"])
@pytest.mark.parametrize("requested_by", [Party.PROVIDER, Party.BUYER], ids=lambda p: p.value)
@settings(max_examples=50, deadline=None)
@for_all(contract=priced_histories(), case=renegotiations())
def test_an_approved_renegotiation_changes_no_day_before_its_received_date(
    requested_by, with_agreed_date, contract, case
):
    """Retroactive effective dates never precede the receipt of the description (pkt. 16)."""
    received_on = case["received_on"]
    if contract.lines["1"].step_on(received_on) == case["proposed_step"]:
        return  # the request would change nothing and is refused
    request_id = contract.request_renegotiation(
        "1",
        requested_by=requested_by,
        received_on=received_on,
        nature=RequestNature.LASTING,
        description="Ændret behov, jf. bilag 3",
        actor=OPERATOR,
        proposed_step=case["proposed_step"],
        requested_effective_from=case["requested_effective_from"],
    )
    day_before = received_on - ONE_DAY
    before = timeline(contract, "1", end=day_before)

    contract.answer_renegotiation(
        request_id,
        answered_by=requested_by.other,
        answered_on=case["answered_on"],
        approved=True,
        actor=OPERATOR,
        agreement_ref="Aftale",
        effective_from=(
            received_on + dt.timedelta(days=case["agreed_days_after_receipt"])
            if with_agreed_date
            else None
        ),
    )

    assert before == timeline(contract, "1", end=day_before)
    effective = contract.renegotiations[request_id].effective_from
    assert effective is not None
    assert received_on <= effective
    assert case["proposed_step"] == contract.lines["1"].step_on(effective)


# --- (c) annual regulation starts on 1 January --------------------------------


@st.composite
def mixed_contracts(draw: st.DrawFn) -> Contract:
    """A contract with tariff-sheet lines and an agreed line, maybe already regulated."""
    basis = draw(st.decimals(min_value=1, max_value=2000, places=4))
    service = draw(st.decimals(min_value=1, max_value=2000, places=4))
    contract = contract_with(
        line_85(), line_104(), agreed_line(basis=str(basis), service=str(service))
    )
    if draw(st.booleans()):
        contract.regulate_by_tariff_sheet(2026, actor=OPERATOR)
    if draw(st.booleans()):
        index_2026(contract, draw(st.decimals(min_value=-5, max_value=10, places=2)))
    return contract


def index_2026(contract: Contract, pl: Decimal, year: int = 2026) -> None:
    contract.regulate_by_index(
        year,
        pl_percentage=pl,
        overhead_percentage=Decimal(1),
        source=IndexSource.KL,
        edition=f"KL's skøn juni {year - 1}",
        actor=OPERATOR,
    )


@SETTINGS
@for_all(
    mixed_contracts(),
    st.sampled_from(["tariff-sheet", "index"]),
    st.sampled_from([2026, 2027]),
    st.decimals(min_value=-5, max_value=10, places=2),
)
def test_an_annual_regulation_changes_no_day_before_1_january_of_its_year(
    contract, basis, year, pl
):
    """Regulating year Y (recorded whenever) leaves every day before 1 January Y as it was."""
    if any(r.year == year and r.basis == basis for r in contract.regulations):
        return  # already regulated: the command is refused
    last_day = dt.date(year - 1, 12, 31)
    before = {line_id: timeline(contract, line_id, end=last_day) for line_id in contract.lines}

    if basis == "tariff-sheet":
        contract.regulate_by_tariff_sheet(year, actor=OPERATOR)
    else:
        index_2026(contract, pl, year)

    assert before == {
        line_id: timeline(contract, line_id, end=last_day) for line_id in contract.lines
    }
    first = dt.date(year, 1, 1)
    sheet_day = daily_price(contract, "1", first, SHEETS)
    agreed_day = daily_price(contract, "3", first, SHEETS)
    assert sheet_day is not None
    assert agreed_day is not None
    if basis == "tariff-sheet":
        assert year == sheet_day.sheet_year
    else:
        assert ("RegulatedByIndex", contract.version) == (
            agreed_day.cause,
            agreed_day.cause_version,
        )


# --- (d) nothing is billed after the payment end --------------------------------


@st.composite
def terminated(draw: st.DrawFn) -> tuple[Contract, dt.date]:
    """A contract ended by notice (any pkt. 9 option) or by rescission, with its payment end."""
    option = draw(st.sampled_from(list(PaymentOption)))
    days_after = draw(st.integers(0, 60))
    contract_terms = terms(
        payment_option=option,
        notice_period=NoticePeriod(months=draw(st.integers(0, 6)), days=draw(st.integers(1, 30))),
        payment_days_after_reoccupation=days_after,
        payment_other_text="Betaling efter aftale" if option is PaymentOption.OTHER else None,
    )
    contract = contract_with(line_85(), line_104(), contract_terms=contract_terms)
    if draw(st.booleans()):
        reported = draw(dates(START, dt.date(2027, 6, 30)))
        effective = reported + dt.timedelta(days=draw(st.integers(0, 60)))
        contract.report_non_delivery(
            by=Party.BUYER,
            reported_on=reported,
            cause="Tilbuddet kan ikke levere",
            citizen_related=False,
            actor=OPERATOR,
        )
        contract.rescind_without_notice(
            by=Party.BUYER,
            effective_on=effective,
            ground=RescissionGround.NON_DELIVERY,
            actor=OPERATOR,
        )
        return contract, effective - ONE_DAY
    given_on = draw(dates(dt.date(2025, 1, 2), dt.date(2027, 6, 30)))
    last = contract.give_notice(
        given_by=draw(st.sampled_from(list(Party))), given_on=given_on, actor=OPERATOR
    )
    expected = last
    reoccupied = draw(st.none() | st.integers(0, 250))
    if reoccupied is not None:
        filled = given_on + dt.timedelta(days=reoccupied)
        contract.record_reoccupation(filled, actor=OPERATOR)
        if option is PaymentOption.ENDS_WHEN_REOCCUPIED:
            expected = min(last, filled - ONE_DAY)
        elif option is PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED:
            expected = min(last, filled - ONE_DAY + dt.timedelta(days=days_after))
    if option is PaymentOption.OTHER and draw(st.booleans()):
        agreed = given_on + dt.timedelta(days=draw(st.integers(0, 300)))
        contract.agree_payment_end(agreed, agreement_ref="Aftale om betaling", actor=OPERATOR)
        expected = agreed
    return contract, expected


@SETTINGS
@for_all(terminated(), st.sampled_from(["1", "2"]), st.integers(1, 400))
def test_nothing_is_billed_after_the_payment_end(case, line_id, days_after):
    """Every day up to the payment end is billable and no day after it (pkt. 9, G14, G22)."""
    contract, payment_end = case
    if payment_end < START:
        payment_end = START - ONE_DAY  # ended before the line started: nothing billable
    periods = timeline(contract, line_id, end=dt.date(2029, 12, 31))

    assert payment_end == max(contract.payment_end, START - ONE_DAY)
    assert daily_price(contract, line_id, payment_end + dt.timedelta(days_after), SHEETS) is None
    assert Decimal(0) == accrued(
        contract, line_id, payment_end + ONE_DAY, dt.date(2029, 12, 31), SHEETS
    )
    if payment_end >= START:
        assert payment_end == periods[-1].end
        assert daily_price(contract, line_id, payment_end, SHEETS) is not None
    else:
        assert [] == periods
