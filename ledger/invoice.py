"""The invoice aggregate: what was billed to one buyer EAN for one month.

Bilag 1 pkt. 6: "Køber faktureres elektronisk via købers EAN-nummer"; the
invoice must name the citizen, the CPR number and the paragraph(s). G12 adds
the period, contract, line, step, daily prices and components, and any
retroactive adjustment of an earlier month (architecture section 7).

One invoice per buyer EAN and billing month; its id is derived from both, so
issuing the same invoice twice finds the first. Issuing records the lines
exactly as billed and nothing is ever changed afterwards: the aggregate has
one event. A correction of an invoiced month appears as an adjustment line on
a later invoice.

Personal data never goes into the events: a line carries the pseudonymous
``citizen_id``; name and CPR are looked up in the citizen register when the
invoice is rendered.

Amounts follow G4: each segment accrues ``daily × days`` unrounded; a line's
amount is their sum rounded half-up to øre once; the invoice totals are exact
sums of those rounded amounts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.clock import recording_time
from ledger.errors import InvalidValue
from ledger.pricing import round_oere
from ledger.values import ZERO, Actor, ComponentPrice, Municipality

INVOICE_NAMESPACE = uuid.UUID("3b0c5e0e-2f4d-4a53-9a3e-6d8c1f7b2e41")
ONE_DAY = dt.timedelta(days=1)


def month_start(value: dt.date) -> dt.date:
    """The first day of ``value``'s month."""
    return value.replace(day=1)


def month_end(value: dt.date) -> dt.date:
    """The last day of ``value``'s month."""
    following = (value.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - ONE_DAY


def invoice_id(buyer_ean: str, month: dt.date) -> uuid.UUID:
    """The id of the buyer's invoice for a month; any day of the month gives the same id."""
    return uuid.uuid5(INVOICE_NAMESPACE, f"{buyer_ean}:{month_start(month).isoformat()}")


@dataclass(frozen=True)
class PriceSegment:
    """Consecutive days of one invoice line at one daily price.

    ``days`` is the number of billable days: whole days, or a fraction for
    respite billed on granted days; it is at most the days the segment spans.
    ``cause`` names the contract event that set the price (with its
    ``cause_version``), so an auditor can trace every amount.
    """

    start: dt.date
    end: dt.date  # inclusive
    days: Decimal
    daily: Decimal
    step: str
    components: tuple[ComponentPrice, ...]
    cause: str
    cause_version: int

    @property
    def accrued(self) -> Decimal:
        """The unrounded amount: daily price × billable days (G4)."""
        return self.daily * self.days

    @property
    def calendar_days(self) -> int:
        """The number of calendar days from ``start`` to ``end`` inclusive."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class InvoiceLine:
    """One contract line for the invoice month (Bilag 1 pkt. 6, G12).

    ``segments`` are non-empty, in date order, without overlap and inside the
    month; ``amount`` is their accrued sum rounded half-up to øre.
    """

    contract_id: uuid.UUID
    line_id: str
    citizen_id: uuid.UUID
    paragraph: str
    segments: tuple[PriceSegment, ...]
    amount: Decimal

    @property
    def period_start(self) -> dt.date:
        """The first billed day."""
        return self.segments[0].start

    @property
    def period_end(self) -> dt.date:
        """The last billed day."""
        return self.segments[-1].end

    @property
    def days(self) -> Decimal:
        """The billable days of the line."""
        return sum((s.days for s in self.segments), ZERO)

    @property
    def daily_prices(self) -> tuple[Decimal, ...]:
        """The distinct daily prices, in the order they applied."""
        return tuple(dict.fromkeys(s.daily for s in self.segments))

    @property
    def accrued(self) -> Decimal:
        """The unrounded sum of the segments."""
        return sum((s.accrued for s in self.segments), ZERO)


@dataclass(frozen=True)
class AdjustmentLine:
    """A correction of an earlier invoiced month (architecture section 7).

    ``amount_before`` is what was invoiced for that month so far (its line
    plus earlier adjustments); ``amount_now`` the amount as now known.
    ``causes`` name the contract events that changed it, e.g.
    ``("RenegotiationAnswered v7",)``.
    """

    contract_id: uuid.UUID
    line_id: str
    citizen_id: uuid.UUID
    paragraph: str
    month: dt.date  # first day of the corrected month
    period_start: dt.date | None  # None if nothing of that month is billable now
    period_end: dt.date | None
    days_before: Decimal
    days_now: Decimal
    daily_before: tuple[Decimal, ...]
    daily_now: tuple[Decimal, ...]
    amount_before: Decimal
    amount_now: Decimal
    causes: tuple[str, ...]

    @property
    def difference(self) -> Decimal:
        """What this invoice adds (positive) or credits (negative) for that month."""
        return self.amount_now - self.amount_before


INVOICE_VALUE_TYPES: list[type[Any]] = [PriceSegment, InvoiceLine, AdjustmentLine]


class Invoice(Aggregate):
    """What one buyer EAN was billed for one month; never changed once issued."""

    class Event(Aggregate.Event):
        """Base of invoice events: stamped with the injected recording clock."""

        create_timestamp = staticmethod(recording_time)

    class Issued(Event, Aggregate.Created):
        """The invoice was issued with these lines and adjustments.

        ``known_at`` is the notification position of the billing read model
        the lines were computed from.
        """

        buyer: Municipality
        month: dt.date
        issued_on: dt.date
        lines: tuple[InvoiceLine, ...]
        adjustments: tuple[AdjustmentLine, ...]
        known_at: int
        actor: Actor

    @staticmethod
    def create_id(buyer: Municipality, month: dt.date, **_: object) -> uuid.UUID:
        """One invoice per buyer EAN and month: the id is derived from both."""
        return invoice_id(buyer.ean, month)

    @classmethod
    def issue(
        cls,
        *,
        buyer: Municipality,
        month: dt.date,
        issued_on: dt.date,
        lines: Sequence[InvoiceLine],
        adjustments: Sequence[AdjustmentLine],
        known_at: int,
        actor: Actor,
    ) -> Invoice:
        """Issue the buyer's invoice for ``month`` (its first day); checks every line first."""
        items = tuple(lines)
        corrections = tuple(adjustments)
        _check_month(month, issued_on)
        if not items and not corrections:
            msg = "an invoice needs at least one line or adjustment"
            raise InvalidValue(msg, field="lines")
        if known_at < 0:
            msg = "known_at is a notification position and cannot be negative"
            raise InvalidValue(msg, field="known_at")
        _check_lines(month, items)
        _check_adjustments(month, corrections)
        return cls(
            buyer=buyer,
            month=month,
            issued_on=issued_on,
            lines=items,
            adjustments=corrections,
            known_at=known_at,
            actor=actor,
        )

    @event(Issued)
    def __init__(
        self,
        *,
        buyer: Municipality,
        month: dt.date,
        issued_on: dt.date,
        lines: tuple[InvoiceLine, ...],
        adjustments: tuple[AdjustmentLine, ...],
        known_at: int,
        actor: Actor,
    ) -> None:
        """Apply Issued: the invoice as billed."""
        self.buyer = buyer
        self.month = month
        self.issued_on = issued_on
        # Stored JSON gives lists back; keep the tuples the invoice was issued with.
        self.lines: tuple[InvoiceLine, ...] = tuple(lines)
        self.adjustments: tuple[AdjustmentLine, ...] = tuple(adjustments)
        self.known_at = known_at
        self.issued_by = actor

    @property
    def lines_total(self) -> Decimal:
        """The sum of the month's line amounts."""
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def adjustments_total(self) -> Decimal:
        """The sum of the adjustment differences (negative for a net credit)."""
        return sum((item.difference for item in self.adjustments), ZERO)

    @property
    def total(self) -> Decimal:
        """What the invoice asks the buyer to pay."""
        return self.lines_total + self.adjustments_total


# --- validation ------------------------------------------------------------------


def _check_month(month: dt.date, issued_on: dt.date) -> None:
    """The month is given by its first day; issuing at most one month in advance."""
    if month != month_start(month):
        msg = f"the invoice month is given by its first day, not {month.isoformat()}"
        raise InvalidValue(msg, field="month")
    earliest = month_start(month - ONE_DAY)
    if issued_on < earliest:
        msg = (
            f"an invoice for {month:%Y-%m} can be issued from {earliest.isoformat()}"
            " (at most one month in advance)"
        )
        raise InvalidValue(msg, field="issued_on")


def _check_whole_oere(amount: Decimal, field: str) -> None:
    if amount != round_oere(amount):
        msg = f"{amount} is not a whole number of øre"
        raise InvalidValue(msg, field=field)


def _check_lines(month: dt.date, lines: tuple[InvoiceLine, ...]) -> None:
    seen: set[tuple[uuid.UUID, str]] = set()
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        key = (line.contract_id, line.line_id)
        if key in seen:
            msg = f"contract {line.contract_id} line {line.line_id} is on the invoice twice"
            raise InvalidValue(msg, field=where)
        seen.add(key)
        _check_segments(month, tuple(line.segments), where)
        expected = round_oere(line.accrued)
        if line.amount != expected:
            msg = f"the line's amount is {line.amount}, its segments add up to {expected}"
            raise InvalidValue(msg, field=f"{where}.amount")


def _check_segments(month: dt.date, segments: tuple[PriceSegment, ...], where: str) -> None:
    if not segments:
        msg = "an invoice line needs at least one price segment"
        raise InvalidValue(msg, field=f"{where}.segments")
    first, last = month, month_end(month)
    previous: PriceSegment | None = None
    for index, segment in enumerate(segments):
        field = f"{where}.segments[{index}]"
        if segment.end < segment.start:
            msg = f"a segment cannot end ({segment.end}) before it starts ({segment.start})"
            raise InvalidValue(msg, field=f"{field}.end")
        if segment.start < first or segment.end > last:
            msg = f"segment {segment.start}..{segment.end} is outside {month:%Y-%m}"
            raise InvalidValue(msg, field=field)
        if previous is not None and segment.start <= previous.end:
            msg = (
                f"segment {segment.start}..{segment.end} overlaps or precedes"
                f" {previous.start}..{previous.end}; segments are in date order"
            )
            raise InvalidValue(msg, field=field)
        if not ZERO < segment.days <= segment.calendar_days:
            msg = (
                f"a segment of {segment.calendar_days} days bills {segment.days} days;"
                " it must bill more than 0 and at most the days it spans"
            )
            raise InvalidValue(msg, field=f"{field}.days")
        previous = segment


def _check_adjustments(month: dt.date, adjustments: tuple[AdjustmentLine, ...]) -> None:
    seen: set[tuple[uuid.UUID, str, dt.date]] = set()
    for index, item in enumerate(adjustments):
        where = f"adjustments[{index}]"
        if item.month != month_start(item.month):
            msg = f"the corrected month is given by its first day, not {item.month.isoformat()}"
            raise InvalidValue(msg, field=f"{where}.month")
        if item.month >= month:
            msg = f"an adjustment corrects an earlier month than {month:%Y-%m}"
            raise InvalidValue(msg, field=f"{where}.month")
        key = (item.contract_id, item.line_id, item.month)
        if key in seen:
            msg = (
                f"contract {item.contract_id} line {item.line_id} is adjusted twice"
                f" for {item.month:%Y-%m}"
            )
            raise InvalidValue(msg, field=where)
        seen.add(key)
        _check_adjustment_period(item, where)
        _check_whole_oere(item.amount_before, f"{where}.amount_before")
        _check_whole_oere(item.amount_now, f"{where}.amount_now")
        if item.difference == ZERO:
            msg = "an adjustment that changes nothing does not belong on an invoice"
            raise InvalidValue(msg, field=f"{where}.amount_now")


def _check_adjustment_period(item: AdjustmentLine, where: str) -> None:
    start, end = item.period_start, item.period_end
    if start is None and end is None:
        return
    if start is None or end is None:
        msg = "give both ends of the corrected period, or neither"
        raise InvalidValue(msg, field=f"{where}.period_start")
    if end < start:
        msg = f"the corrected period cannot end ({end}) before it starts ({start})"
        raise InvalidValue(msg, field=f"{where}.period_end")
    if start < item.month or end > month_end(item.month):
        msg = f"the corrected period {start}..{end} is outside {item.month:%Y-%m}"
        raise InvalidValue(msg, field=f"{where}.period_start")
