"""Prices as a pure function of a contract's events and the tariff sheets.

For a service line and a day, the daily price is the sum of the line's
components in force that day (architecture section 4):

* tariff-sheet lines: each component of the line's tariff model from the
  offer's sheet for the *priced year*: the line's start year, moved to a later
  year only when the contract records that year's regulation (pkt. 8), which
  then applies from 1 January even when recorded later;
* agreed lines (særforanstaltninger): the agreed component prices, indexed by
  each recorded index regulation of a later year, rounded half-up to øre
  per component (G23);
* plus any allonge delta in force that day (G6).

A day is billable from the line's start to the earliest of its end date and
the contract's payment end (pkt. 9, G14, G22). The amount of a period is the
sum of its daily prices, rounded half-up to øre per line (G4).

"As known at T" is not this module's concern: the caller passes the contract
and a sheet source as they were known at T. Nothing here reads a clock or a
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from ledger.contract import Allonge, Contract, PriceFact, ServiceLine
from ledger.errors import TariffSheetNotFound
from ledger.tariff_sheet import TariffSheet
from ledger.tariffs import get_model
from ledger.values import OERE, ZERO, ComponentPrice, Pricing

ONE_DAY = dt.timedelta(days=1)


class SheetSource(Protocol):
    """Finds an offer's tariff sheet for a year (as known at some time)."""

    def sheet(self, offer: str, year: int) -> TariffSheet | None:
        """The sheet, or None if the offer has none for ``year``."""
        ...


class NoSheets:
    """A sheet source with no sheets: enough for contracts with agreed prices only."""

    def sheet(self, offer: str, year: int) -> TariffSheet | None:  # noqa: ARG002 - protocol
        """Return no sheet."""
        return None


@dataclass(frozen=True)
class PricePeriod:
    """Consecutive days of one line with the same daily price and components.

    ``cause`` names the contract event that set the period (with its
    ``cause_version``); ``sheet_year`` the tariff sheet year used, if any.
    """

    line_id: str
    start: dt.date
    end: dt.date  # inclusive
    step: str
    components: tuple[ComponentPrice, ...]
    daily: Decimal
    cause: str
    cause_version: int
    sheet_year: int | None

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def accrued(self) -> Decimal:
        """The unrounded amount of the period."""
        return self.daily * self.days


def round_oere(amount: Decimal) -> Decimal:
    """Round half-up to øre: the one rounding billing applies, per line."""
    return amount.quantize(OERE, rounding=ROUND_HALF_UP)


def billable_until(contract: Contract, line: ServiceLine) -> dt.date | None:
    """The line's last billable day, or None while it runs open-ended."""
    ends = [d for d in (line.spec.end, contract.payment_end) if d is not None]
    return min(ends) if ends else None


def price_timeline(
    contract: Contract,
    line_id: str,
    sheets: SheetSource,
    *,
    start: dt.date | None = None,
    end: dt.date,
) -> list[PricePeriod]:
    """The line's price periods between ``start`` (default: line start) and ``end``.

    Only billable days appear: the periods stop at the payment end and the
    line's end date, and never begin before the line's start.
    """
    line = contract.lines[line_id]
    first = max(start or line.spec.start, line.spec.start)
    last = end
    until = billable_until(contract, line)
    if until is not None:
        last = min(last, until)
    if last < first:
        return []
    periods: list[PricePeriod] = []
    indexes = _SheetIndexes(contract.provider.offer, sheets)
    points = _change_points(contract, line, first, last)
    for index, day in enumerate(points):
        segment_end = points[index + 1] - ONE_DAY if index + 1 < len(points) else last
        period = _period(contract, line, indexes, day, segment_end)
        previous = periods[-1] if periods else None
        if previous is not None and _same_price(previous, period):
            periods[-1] = PricePeriod(
                previous.line_id,
                previous.start,
                period.end,
                previous.step,
                previous.components,
                previous.daily,
                previous.cause,
                previous.cause_version,
                previous.sheet_year,
            )
        else:
            periods.append(period)
    return periods


@dataclass(frozen=True)
class LineTimeline:
    """All of a line's price periods as known now.

    When ``open_ended`` is true the line has no billable end yet and the
    last period's price holds for every later day: nothing the contract has
    recorded changes the price after its last change point.
    """

    line_id: str
    periods: tuple[PricePeriod, ...]
    open_ended: bool


def line_timeline(contract: Contract, line_id: str, sheets: SheetSource) -> LineTimeline:
    """The line's whole timeline: from its start to its billable end, or open-ended."""
    line = contract.lines[line_id]
    until = billable_until(contract, line)
    end = until if until is not None else _last_change_point(contract, line)
    periods = price_timeline(contract, line_id, sheets, end=end)
    return LineTimeline(line_id, tuple(periods), open_ended=until is None)


def _last_change_point(contract: Contract, line: ServiceLine) -> dt.date:
    """The last day on which anything recorded can change the line's price."""
    points = [line.spec.start]
    points.extend(fact.effective_from for fact in line.facts)
    points.extend(dt.date(r.year, 1, 1) for r in contract.regulations)
    points.extend(a.valid_to + ONE_DAY for a in _allonges(contract, line.line_id))
    return max(points)


def daily_price(
    contract: Contract, line_id: str, day: dt.date, sheets: SheetSource
) -> PricePeriod | None:
    """The price of one line on one day, or None if the day is not billable."""
    periods = price_timeline(contract, line_id, sheets, start=day, end=day)
    if not periods or periods[0].start != day:
        return None
    return periods[0]


def accrued(
    contract: Contract, line_id: str, start: dt.date, end: dt.date, sheets: SheetSource
) -> Decimal:
    """The unrounded sum of daily prices of a line over ``start``..``end`` inclusive."""
    periods = price_timeline(contract, line_id, sheets, start=start, end=end)
    return sum((p.accrued for p in periods), ZERO)


def amount(
    contract: Contract, line_id: str, start: dt.date, end: dt.date, sheets: SheetSource
) -> Decimal:
    """The billable amount of a line over a period, rounded half-up to øre."""
    return round_oere(accrued(contract, line_id, start, end, sheets))


def contract_daily_total(contract: Contract, day: dt.date, sheets: SheetSource) -> Decimal:
    """The daily price of all the contract's lines on ``day``."""
    total = ZERO
    for line_id in contract.lines:
        price = daily_price(contract, line_id, day, sheets)
        if price is not None:
            total += price.daily
    return total


# --- internals ----------------------------------------------------------------


def _change_points(
    contract: Contract, line: ServiceLine, first: dt.date, last: dt.date
) -> list[dt.date]:
    """Every day in ``first..last`` on which the line's price may change."""
    candidates: set[dt.date] = {first}
    candidates.update(fact.effective_from for fact in line.facts)
    candidates.update(dt.date(year, 1, 1) for year in range(first.year, last.year + 1))
    for allonge in _allonges(contract, line.line_id):
        candidates.add(allonge.valid_from)
        candidates.add(allonge.valid_to + ONE_DAY)
    return sorted(day for day in candidates if first <= day <= last)


def _allonges(contract: Contract, line_id: str) -> Iterator[Allonge]:
    return (a for a in contract.allonges if a.line_id == line_id)


class _SheetIndexes:
    """Each sheet year's prices as a dict, built once per timeline."""

    def __init__(self, offer: str, sheets: SheetSource) -> None:
        self.offer = offer
        self.sheets = sheets
        self.by_year: dict[int, dict[tuple[str, str, str | None], Decimal]] = {}

    def prices(self, year: int) -> dict[tuple[str, str, str | None], Decimal]:
        index = self.by_year.get(year)
        if index is None:
            sheet = self.sheets.sheet(self.offer, year)
            if sheet is None:
                msg = f"offer {self.offer} has no tariff sheet for {year}"
                raise TariffSheetNotFound(msg, field="year")
            index = {item.key: item.daily for item in sheet.prices}
            self.by_year[year] = index
        return index


def _period(
    contract: Contract,
    line: ServiceLine,
    indexes: _SheetIndexes,
    day: dt.date,
    end: dt.date,
) -> PricePeriod:
    fact = line.fact_on(day) or line.facts[0]
    cause, version = fact.cause, fact.cause_version
    sheet_year: int | None = None
    if line.spec.pricing is Pricing.TARIFF_SHEET:
        sheet_year, regulation_version = _priced_year(contract, line, day)
        components = _sheet_components(line, fact.step, indexes, sheet_year)
        if regulation_version > version:
            cause, version = "RegulatedByTariffSheet", regulation_version
    else:
        components, regulation_version = _indexed(contract, fact.agreed_prices, fact, day)
        if regulation_version > version:
            cause, version = "RegulatedByIndex", regulation_version
    for allonge in _allonges(contract, line.line_id):
        if allonge.valid_from <= day <= allonge.valid_to:
            components = (*components, ComponentPrice("allonge", allonge.daily_delta))
            if allonge.cause_version > version:
                cause, version = "AllongeAdded", allonge.cause_version
    daily = sum((c.daily for c in components), ZERO)
    return PricePeriod(
        line.line_id, day, end, fact.step, components, daily, cause, version, sheet_year
    )


def _priced_year(contract: Contract, line: ServiceLine, day: dt.date) -> tuple[int, int]:
    """The sheet year that prices ``day`` and the version of the regulation that chose it."""
    year, version = line.spec.start.year, 0
    for regulation in contract.regulations:
        if regulation.basis == "tariff-sheet" and year < regulation.year <= day.year:
            year, version = regulation.year, regulation.cause_version
    return year, version


def _sheet_components(
    line: ServiceLine,
    step: str,
    indexes: _SheetIndexes,
    year: int,
) -> tuple[ComponentPrice, ...]:
    model = get_model(line.spec.tariff_model)
    index = indexes.prices(year)
    components = []
    for component in model.components:
        key = (model.code, component.code, step if component.per_step else None)
        daily = index.get(key)
        if daily is None:
            msg = (
                f"the {year} sheet of {indexes.offer} has no {component.code} price "
                f"for {model.code}"
            )
            raise TariffSheetNotFound(msg, field="year")
        components.append(ComponentPrice(component.code, daily))
    return tuple(components)


def _indexed(
    contract: Contract,
    prices: Iterable[ComponentPrice],
    fact: PriceFact,
    day: dt.date,
) -> tuple[tuple[ComponentPrice, ...], int]:
    """Agreed prices after each index regulation later than the fact's year (pkt. 8)."""
    from_year = fact.effective_from.year
    result = tuple(prices)
    version = 0
    for regulation in sorted(contract.regulations, key=lambda r: r.year):
        if regulation.basis == "index" and from_year < regulation.year <= day.year:
            result = tuple(
                ComponentPrice(
                    c.component,
                    (c.daily * regulation.factor).quantize(OERE, rounding=ROUND_HALF_UP),
                )
                for c in result
            )
            version = max(version, regulation.cause_version)
    return result, version


def _same_price(a: PricePeriod, b: PricePeriod) -> bool:
    return (
        a.end + ONE_DAY == b.start
        and a.step == b.step
        and a.components == b.components
        and a.cause_version == b.cause_version
        and a.sheet_year == b.sheet_year
    )
