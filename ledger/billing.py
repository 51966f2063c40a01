"""What billing charges for: feed rows per contract line, cut into months.

The billing feed (architecture section 7) is computed here, as a pure
function of a contract and the tariff sheets, and stored by the billing
projection. A feed row is a run of days of one line at one daily price; the
last row of a line that has no billable end yet is open-ended. Cutting the
rows at month boundaries gives the invoice line of a month: its segments,
billable days and amount, rounded half-up to øre once per line (G4).

Rules:

* Only a binding contract (signed by both parties, pkt. 18) is billed. Its
  lines are billed from their start to the payment end (pkt. 9, G14, G22),
  also for days before the signing: those appear as adjustments when their
  months were already invoiced.
* Respite lines (pkt. 5) follow the contract's settlement basis:
  on *used* days, each recorded døgn is one billable day at that day's
  price; on *granted* days, the line's grant of ``quantity`` døgn per year is
  billed evenly over the year: each calendar day bills ``quantity / days in
  the year`` døgn, a segment the running total to its end less the running
  total before its start (each to 4 decimals), so a whole year bills exactly
  the grant.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from ledger.contract import Contract, ServiceLine
from ledger.invoice import AdjustmentLine, InvoiceLine, PriceSegment
from ledger.pricing import LineTimeline, PricePeriod, SheetSource, line_timeline, round_oere
from ledger.values import ZERO, ComponentPrice, Municipality, RespiteBasis

DAYS_PRECISION = Decimal("0.0001")


@dataclass(frozen=True)
class FeedRow:
    """Consecutive billable days of one line at one daily price.

    ``end`` is None for the open-ended last row of a line still running.
    ``granted_per_year`` is set on respite lines billed on granted days.
    """

    line_id: str
    start: dt.date
    end: dt.date | None
    daily: Decimal
    step: str
    components: tuple[ComponentPrice, ...]
    cause: str
    cause_version: int
    granted_per_year: Decimal | None = None


class BillingSource(Protocol):
    """What issuing invoices reads: the billing feed and what was billed, as of a position.

    Each query answers for every buyer at once (or for the one named), so a
    month's invoices for all buyers take a handful of queries.
    """

    def position(self) -> int:
        """The notification id of the last event the source includes."""
        ...

    def buyers(self) -> list[Municipality]:
        """Every buyer with a binding contract, or invoiced before."""
        ...

    def invoiced(self, buyer_ean: str | None = None) -> dict[str, list[dt.date]]:
        """The months already invoiced, per buyer EAN, in order."""
        ...

    def invoice_lines(
        self, month: dt.date, buyer_ean: str | None = None
    ) -> dict[str, list[InvoiceLine]]:
        """The invoice lines of ``month`` as currently known, per buyer EAN."""
        ...

    def pending_adjustments(
        self, month: dt.date, buyer_ean: str | None = None
    ) -> dict[str, list[AdjustmentLine]]:
        """Corrections of months before ``month`` that were invoiced differently, per buyer EAN."""
        ...


def feed_rows(contract: Contract, sheets: SheetSource) -> list[FeedRow]:
    """Every billable row of the contract, by line and date."""
    if not contract.is_binding:
        return []
    rows: list[FeedRow] = []
    for line_id, line in contract.lines.items():
        timeline = line_timeline(contract, line_id, sheets)
        if line.spec.respite and contract.terms.respite_basis is RespiteBasis.USED_DAYS:
            rows.extend(_used_day_rows(line, timeline))
        else:
            granted = line.spec.quantity if line.spec.respite else None
            rows.extend(_period_rows(timeline, granted))
    return rows


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``month``'s calendar month."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_segments(rows: Iterable[FeedRow], month: dt.date) -> list[PriceSegment]:
    """The rows of one line cut to ``month``: the segments of its invoice line."""
    first, last = month_bounds(month)
    segments: list[PriceSegment] = []
    for row in sorted(rows, key=lambda r: r.start):
        start = max(row.start, first)
        end = min(row.end or last, last)
        if end < start:
            continue
        days = Decimal((end - start).days + 1)
        if row.granted_per_year is not None:
            days = _granted_days(row.granted_per_year, start, end)
        segments.append(
            PriceSegment(
                start=start,
                end=end,
                days=days,
                daily=row.daily,
                step=row.step,
                components=row.components,
                cause=row.cause,
                cause_version=row.cause_version,
            )
        )
    return segments


def segments_amount(segments: Iterable[PriceSegment]) -> Decimal:
    """The amount of an invoice line: its segments summed, rounded half-up to øre."""
    return round_oere(sum((s.daily * s.days for s in segments), ZERO))


def _granted_days(per_year: Decimal, start: dt.date, end: dt.date) -> Decimal:
    """The granted døgn billed for ``start``..``end`` (within one year).

    The grant accrued from 1 January through ``end`` less the grant accrued
    before ``start``, each rounded to 4 decimals: the rounding never drifts,
    so the months (and segments) of a whole year add up to the grant exactly.
    """
    in_year = 366 if calendar.isleap(start.year) else 365

    def accrued(elapsed: int) -> Decimal:
        return (per_year * elapsed / in_year).quantize(DAYS_PRECISION, rounding=ROUND_HALF_UP)

    return accrued(end.timetuple().tm_yday) - accrued(start.timetuple().tm_yday - 1)


def _period_rows(timeline: LineTimeline, granted: Decimal | None) -> list[FeedRow]:
    rows = []
    last = len(timeline.periods) - 1
    for index, period in enumerate(timeline.periods):
        end = None if timeline.open_ended and index == last else period.end
        rows.append(_row(period, period.start, end, granted))
    return rows


def _used_day_rows(line: ServiceLine, timeline: LineTimeline) -> list[FeedRow]:
    rows = []
    for day in line.respite_used:
        period = _period_on(timeline, day)
        if period is not None:
            rows.append(_row(period, day, day, None))
    return rows


def _period_on(timeline: LineTimeline, day: dt.date) -> PricePeriod | None:
    for index, period in enumerate(timeline.periods):
        open_tail = timeline.open_ended and index == len(timeline.periods) - 1
        if period.start <= day and (day <= period.end or open_tail):
            return period
    return None


def _row(
    period: PricePeriod, start: dt.date, end: dt.date | None, granted: Decimal | None
) -> FeedRow:
    return FeedRow(
        line_id=period.line_id,
        start=start,
        end=end,
        daily=period.daily,
        step=period.step,
        components=period.components,
        cause=period.cause,
        cause_version=period.cause_version,
        granted_per_year=granted,
    )
