"""Read models: price timeline, deadlines, billing feed, pending adjustments and invoices.

Each read first waits until its view includes every event the caller's key
has written (``sees_own_writes``, ADR 0015), so a read straight after a
command sees it, also on PostgreSQL with separate projection workers. The
reads about invoices (pending adjustments, issuing, the list) wait for the
view to include every event recorded so far.

Who sees what:

- Contract-scoped reads (price timeline, billing feed) follow the contract:
  parties see it, anyone else gets a 404.
- Deadlines are scoped to the caller's side, as the contract list is: a buyer
  administrator sees the deadlines of its contracts as buyer, a provider
  administrator those of its contracts as provider, an auditor either, each
  item saying which party must act. The operator (system administrator) is
  no contract party and sees none (an empty list), as in the contract list.
- Invoices and pending adjustments belong to a buyer EAN. The operator sees
  every EAN; a buyer administrator or auditor sees the EANs of its own CVR.
  A provider administrator sees none: an invoice mixes the buyer's contracts
  with every provider, and a provider follows its own amounts in the billing
  feed of its contracts. An EAN the caller may not see is a 404, exactly as
  an unknown one, and it is absent from lists.
- Only the operator issues invoices (the ledger refuses anyone else, 403).

Invoices and adjustments carry the pseudonymous ``citizen_id``, never a CPR
number or name. Amounts are decimal strings, rounded half-up to øre per line
as the ledger billed them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from api.auth import Authenticated, Caller, Ctx, require_role, visible_contract
from api.context import Context
from api.http import idempotent, sees_own_writes
from api.routes.history import ActorOut, actor_out
from api.schemas import Body
from ledger import errors
from ledger.contract import Contract
from ledger.deadlines import DeadlineKind, DeadlineStatus
from ledger.history import recorded_days
from ledger.identifiers import validate_ean
from ledger.invoice import AdjustmentLine, Invoice, InvoiceLine, PriceSegment, invoice_id
from ledger.pricing import line_timeline
from ledger.values import ComponentPrice, Party, Role, add_months

router = APIRouter(prefix="/v1", tags=["read models"])

Money = Decimal
ContractIdPath = Annotated[uuid.UUID, Path(description="The contract's id")]
MONTH_PATTERN = r"^\d{4}-\d{2}(-\d{2})?$"
MONTH_DESCRIPTION = "A month, `YYYY-MM` (or any day of it, `YYYY-MM-DD`)"
NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such contract, or not visible to the caller"}
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid input (problem names the field)"}
}


# --- shared helpers ---------------------------------------------------------------------


def parse_month(value: str, field: str) -> dt.date:
    """The first day of the month ``value`` names; a 422 naming ``field`` when it names none."""
    text = value.strip()
    try:
        day = dt.date.fromisoformat(text if len(text) > len("YYYY-MM") else f"{text}-01")
    except ValueError:
        msg = f"{field} must be a month YYYY-MM or a date YYYY-MM-DD, not {value!r}"
        raise errors.InvalidValue(msg, field=field) from None
    return day.replace(day=1)


def month_text(month: dt.date) -> str:
    """A month as ``YYYY-MM``."""
    return f"{month:%Y-%m}"


def _components(components: tuple[ComponentPrice, ...]) -> dict[str, Decimal]:
    return {c.component: c.daily for c in components}


def _sees_buyer(caller: Caller, buyer_cvr: str) -> bool:
    """Whether the caller sees the invoices and adjustments of a buyer (module docstring)."""
    if caller.role is Role.OPERATOR:
        return True
    if caller.role in {Role.BUYER_ADMIN, Role.AUDITOR}:
        return caller.organisation == buyer_cvr
    return False


def _visible_buyer_ean(ctx: Context, caller: Caller, buyer_ean: str, field: str) -> str:
    """The EAN if the caller sees its buyer; otherwise 404, as for an unknown EAN."""
    ean = validate_ean(buyer_ean, field=field)
    buyer = next((b for b in ctx.views.billing.buyers() if b.ean == ean), None)
    if buyer is None or not _sees_buyer(caller, buyer.cvr):
        msg = f"no buyer with EAN {ean} is billed in the ledger"
        raise errors.BuyerNotFound(msg, field=field)
    return ean


# --- price timeline -----------------------------------------------------------------------


class TimelinePeriodOut(BaseModel):
    """Consecutive days of a line at one daily price (prisperiode)."""

    start: dt.date = Field(description="First day of the period", examples=["2025-04-10"])
    end: dt.date | None = Field(
        description="Last day; null while the line runs with no end (open-ended)",
        examples=["2025-12-31"],
    )
    step: str = Field(description="The step priced (takstniveau)", examples=["4"])
    daily: Money = Field(description="DKK per day (døgnpris)", examples=["1084.00"])
    components: dict[str, Money] = Field(
        description="Daily price per component (takstkomponent)",
        examples=[{"basis": "300.00", "service": "590.00"}],
    )
    cause: str = Field(
        description="The contract event that set this price", examples=["RenegotiationAnswered"]
    )
    cause_version: int = Field(description="The contract version of that event", examples=[8])
    sheet_year: int | None = Field(
        description="Year of the tariff sheet (takstblad) used; null for agreed prices",
        examples=[2025],
    )
    recorded_on: dt.date | None = Field(
        description="The day the cause was recorded", examples=["2025-05-03"]
    )
    retroactive: bool = Field(
        description=(
            "Recorded after the period began (tilbagevirkende kraft): invoices already sent "
            "for these days are corrected by adjustments"
        ),
        examples=[True],
    )


class TimelineLineOut(BaseModel):
    """The price periods of one service line (indsats)."""

    line_id: str = Field(description="The service line", examples=["1"])
    periods: list[TimelinePeriodOut] = Field(description="Price periods in date order")


class PriceTimelineOut(BaseModel):
    """A contract's price timeline (prisforløb), now or as known at a time."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["2f492832-1fe7-40ed-aac7-81b9846c9e5c"]
    )
    known_at: dt.datetime | None = Field(
        description="As recorded at this instant; null: as known now",
        examples=["2025-05-02T12:00:00+02:00"],
    )
    lines: list[TimelineLineOut] = Field(description="One entry per service line")
    price_error: str | None = Field(
        None,
        description="Why prices are missing, e.g. no tariff sheet for the year yet",
        examples=[None],
    )


@router.get(
    "/contracts/{contract_id}/price-timeline",
    response_model=PriceTimelineOut,
    responses={**NOT_VISIBLE, **INVALID},
    summary="Price timeline of a contract (prisforløb)",
)
def price_timeline(
    contract_id: ContractIdPath,
    caller: Authenticated,
    ctx: Ctx,
    line_id: Annotated[str | None, Query(description="Only this service line")] = None,
    known_at: Annotated[
        dt.datetime | None,
        Query(description="As recorded at this instant (auditors' record time), with timezone"),
    ] = None,
) -> PriceTimelineOut:
    """Each line's price periods and the event that set each; with `known_at`, as known then.

    A renegotiation approved under pkt. 16 takes effect from the day the
    description was received, so after the approval the timeline shows the
    new price from that day, while `known_at` before the approval shows the
    old one.
    """
    contract = visible_contract(ctx, caller, contract_id, known_at)
    if line_id is not None and line_id not in contract.lines:
        msg = f"the contract has no service line {line_id}"
        raise errors.UnknownServiceLine(msg, field="query.line_id")
    line_ids = [line_id] if line_id is not None else list(contract.lines)
    if known_at is not None:
        return _timeline_known_at(ctx, contract, line_ids, known_at)
    sees_own_writes(ctx, caller, "price_timeline")
    periods: dict[str, list[TimelinePeriodOut]] = defaultdict(list)
    for p in ctx.views.timeline.periods(contract_id, line_id):
        periods[p.line_id].append(
            TimelinePeriodOut(
                start=p.start,
                end=p.end,
                step=p.step,
                daily=p.daily,
                components=_components(p.components),
                cause=p.cause,
                cause_version=p.cause_version,
                sheet_year=p.sheet_year,
                recorded_on=p.recorded_on,
                retroactive=p.retroactive,
            )
        )
    return PriceTimelineOut(
        contract_id=contract_id,
        known_at=None,
        lines=[TimelineLineOut(line_id=i, periods=periods.get(i, [])) for i in line_ids],
        price_error=ctx.views.timeline.price_error(contract_id),
    )


def _timeline_known_at(
    ctx: Context, contract: Contract, line_ids: list[str], known_at: dt.datetime
) -> PriceTimelineOut:
    """The timeline of the contract and tariff sheets as they were recorded at ``known_at``."""
    recorded = recorded_days(ctx.ledger.events.get(contract.id, lte=contract.version))
    sheets = ctx.ledger.sheets(known_at=known_at)
    lines: list[TimelineLineOut] = []
    try:
        timelines = [line_timeline(contract, i, sheets) for i in line_ids]
    except errors.LedgerError as error:  # e.g. no tariff sheet for the year yet (G3)
        empty = [TimelineLineOut(line_id=i, periods=[]) for i in line_ids]
        return PriceTimelineOut(
            contract_id=contract.id, known_at=known_at, lines=empty, price_error=str(error)
        )
    for timeline in timelines:
        last = len(timeline.periods) - 1
        periods = []
        for index, p in enumerate(timeline.periods):
            recorded_on = recorded.get(p.cause_version)
            periods.append(
                TimelinePeriodOut(
                    start=p.start,
                    end=None if timeline.open_ended and index == last else p.end,
                    step=p.step,
                    daily=p.daily,
                    components=_components(p.components),
                    cause=p.cause,
                    cause_version=p.cause_version,
                    sheet_year=p.sheet_year,
                    recorded_on=recorded_on,
                    retroactive=recorded_on is not None and recorded_on > p.start,
                )
            )
        lines.append(TimelineLineOut(line_id=timeline.line_id, periods=periods))
    return PriceTimelineOut(contract_id=contract.id, known_at=known_at, lines=lines)


# --- deadlines -------------------------------------------------------------------------------


class DeadlineOut(BaseModel):
    """A deadline (frist): who must act, by when, and whether they did."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["2f492832-1fe7-40ed-aac7-81b9846c9e5c"]
    )
    key: str = Field(
        description="Stable id of the deadline within its contract", examples=["renegotiation:R1"]
    )
    kind: DeadlineKind = Field(
        description=(
            "renegotiation-answer (svar på genforhandling, pkt. 16), absence-notice "
            "(underretning, pkt. 14), framework-notice (rammeaftale, pkt. 4), follow-up "
            "(opfølgning), notice-period-end (opsigelsesvarslets udløb, pkt. 9), payment-end "
            "(betalingsforpligtelsens ophør, pkt. 9)"
        ),
        examples=["renegotiation-answer"],
    )
    party: Party = Field(
        description="The party that must act (køber or leverandør)", examples=["buyer"]
    )
    organisation: str = Field(
        description="CVR or P-number of the organisation that must act", examples=["29189919"]
    )
    line_id: str | None = Field(description="The service line, for follow-ups", examples=["1"])
    trigger_on: dt.date = Field(
        description="The day the deadline started to run", examples=["2025-04-10"]
    )
    due_on: dt.date = Field(
        description="The last day to act (calendar days, G1)", examples=["2025-05-10"]
    )
    status: DeadlineStatus = Field(
        description="open, met (overholdt), missed (overskredet) or overdue, on `as_of`",
        examples=["open"],
    )
    done_on: dt.date | None = Field(
        description="The day the act was done, if done by `as_of`", examples=["2025-05-03"]
    )
    met_on: dt.date | None = Field(
        description="The day the deadline was met, if it is met", examples=["2025-05-03"]
    )
    milestone: bool = Field(
        description="A date that passes (end of notice or payment), not an act anyone can miss",
        examples=[False],
    )
    clause: str = Field(description="The clause it comes from", examples=["Bilag 1 pkt. 16"])


class DeadlinesOut(BaseModel):
    """The deadlines matching every filter, by due day."""

    as_of: dt.date = Field(description="The day statuses are judged on", examples=["2025-03-03"])
    items: list[DeadlineOut] = Field(description="Deadlines by due day")
    next_cursor: str | None = Field(
        None,
        description="Pass as `after` for the next page; null on the last page",
        examples=["2025-04-10|2f492832-1fe7-40ed-aac7-81b9846c9e5c|renegotiation-answer:R1"],
    )


@router.get(
    "/deadlines",
    response_model=DeadlinesOut,
    responses=INVALID,
    summary="Deadlines (frister) of the caller's contracts",
)
def deadlines(
    caller: Authenticated,
    ctx: Ctx,
    status: Annotated[
        DeadlineStatus | None, Query(description="open, met, missed or overdue on `as_of`")
    ] = None,
    party: Annotated[Party | None, Query(description="Only those this party must act on")] = None,
    kind: Annotated[DeadlineKind | None, Query(description="Only this kind")] = None,
    contract_id: Annotated[uuid.UUID | None, Query(description="Only this contract")] = None,
    due_from: Annotated[dt.date | None, Query(description="Due on or after this day")] = None,
    due_to: Annotated[dt.date | None, Query(description="Due on or before this day")] = None,
    within: Annotated[
        int | None,
        Query(ge=0, le=3660, description="Due from `as_of` to this many days after it"),
    ] = None,
    as_of: Annotated[
        dt.date | None, Query(description="Judge statuses on this day (default: today)")
    ] = None,
    after: Annotated[
        str | None, Query(description="Cursor: the `next_cursor` of the page before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most deadlines on a page")] = 200,
) -> DeadlinesOut:
    """Who must act by when on the caller's contracts, and whether they did.

    A buyer administrator sees the deadlines of its contracts as buyer, a
    provider administrator those as provider, an auditor either; `party`
    narrows them to what one side must do. "What is due in the next 14 days":
    `status=open&within=14`.
    """
    day = as_of or ctx.ledger.today()
    if within is not None:
        if due_from is not None or due_to is not None:
            msg = "give either within or due_from/due_to, not both"
            raise errors.InvalidValue(msg, field="query.within")
        due_from, due_to = day, day + dt.timedelta(days=within)
    if due_from is not None and due_to is not None and due_to < due_from:
        msg = f"due_to ({due_to}) is before due_from ({due_from})"
        raise errors.InvalidValue(msg, field="query.due_to")
    sees_own_writes(ctx, caller, "deadlines")
    rows = ctx.views.deadlines.deadlines(
        today=day,
        party=party,
        status=status,
        due_from=due_from,
        due_to=due_to,
        contract_id=contract_id,
        kind=kind,
        scope=caller.scope,
    )
    order = [
        (row.deadline.due_on.isoformat(), str(row.contract_id), row.deadline.key) for row in rows
    ]
    start = 0
    if after is not None:
        last = _deadline_cursor(after)
        start = next((i for i, key in enumerate(order) if key > last), len(order))
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    items = []
    for row in page:
        d = row.deadline
        done = d.done_on if d.done_on is not None and d.done_on <= day else None
        items.append(
            DeadlineOut(
                contract_id=row.contract_id,
                key=d.key,
                kind=d.kind,
                party=d.party,
                organisation=row.buyer_cvr if d.party is Party.BUYER else row.provider_registration,
                line_id=d.line_id,
                trigger_on=d.trigger_on,
                due_on=d.due_on,
                status=row.status,
                done_on=done,
                met_on=row.met_on,
                milestone=d.milestone,
                clause=d.clause,
            )
        )
    next_cursor = "|".join(order[start + limit - 1]) if more else None
    return DeadlinesOut(as_of=day, items=items, next_cursor=next_cursor)


def _deadline_cursor(after: str) -> tuple[str, str, str]:
    """``due_on|contract_id|key`` from a ``next_cursor``; 422 when it is not one."""
    parts = after.split("|", 2)
    try:
        due_on, contract_id, key = parts
        return dt.date.fromisoformat(due_on).isoformat(), str(uuid.UUID(contract_id)), key
    except ValueError:
        msg = "after must be a next_cursor of this list (due_on|contract_id|key)"
        raise errors.InvalidValue(msg, field="query.after") from None


# --- billing feed ----------------------------------------------------------------------------


class FeedRowOut(BaseModel):
    """Consecutive billable days of a line at one daily price, as currently known."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    start: dt.date = Field(description="First billable day", examples=["2025-02-01"])
    end: dt.date | None = Field(
        description="Last billable day; null while the line runs", examples=["2025-12-31"]
    )
    daily: Money = Field(description="DKK per day (døgnpris)", examples=["895.00"])
    step: str = Field(description="The step priced (takstniveau)", examples=["3"])
    components: dict[str, Money] = Field(
        description="Daily price per component (takstkomponent)",
        examples=[{"basis": "300.00", "service": "420.00"}],
    )
    cause: str = Field(description="The event that set the price", examples=["Signed"])
    cause_version: int = Field(description="The contract version of that event", examples=[5])
    granted_per_year: Decimal | None = Field(
        description="Respite døgn granted per year (aflastning), when billed on granted days",
        examples=[None],
    )


class BillingFeedOut(BaseModel):
    """What the contract bills per line and period, as currently known (faktureringsgrundlag)."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["2f492832-1fe7-40ed-aac7-81b9846c9e5c"]
    )
    rows: list[FeedRowOut] = Field(description="Rows in line and date order")


@router.get(
    "/contracts/{contract_id}/billing-feed",
    response_model=BillingFeedOut,
    responses=NOT_VISIBLE,
    summary="Billing feed of a contract (faktureringsgrundlag)",
)
def billing_feed(contract_id: ContractIdPath, caller: Authenticated, ctx: Ctx) -> BillingFeedOut:
    """The billable days of each line at their daily prices, as invoices will cut them."""
    visible_contract(ctx, caller, contract_id)
    sees_own_writes(ctx, caller, "billing")
    rows = [
        FeedRowOut(
            line_id=r.line_id,
            start=r.start,
            end=r.end,
            daily=r.daily,
            step=r.step,
            components=_components(r.components),
            cause=r.cause,
            cause_version=r.cause_version,
            granted_per_year=r.granted_per_year,
        )
        for r in ctx.views.billing.feed(contract_id)
    ]
    return BillingFeedOut(contract_id=contract_id, rows=rows)


# --- adjustments --------------------------------------------------------------------------


class LineOfContractOut(BaseModel):
    """Which contract line, and whose, an amount is for (invoice lines, adjustments)."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["2f492832-1fe7-40ed-aac7-81b9846c9e5c"]
    )
    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    citizen_id: uuid.UUID = Field(
        description="Pseudonymous citizen id (never the CPR number)",
        examples=["8c1e3f52-5d0a-4b7e-9f61-0d2b7a4c9e13"],
    )
    paragraph: str = Field(description="Legal basis (paragraf)", examples=["SEL §85"])


class AdjustmentOut(LineOfContractOut):
    """A correction of an earlier invoiced month (efterregulering)."""

    month: str = Field(description="The corrected month (YYYY-MM)", examples=["2025-04"])
    period_start: dt.date | None = Field(
        description="First billable day of it now", examples=["2026-01-01"]
    )
    period_end: dt.date | None = Field(
        description="Last billable day of it now", examples=["2026-01-31"]
    )
    days_before: Decimal = Field(description="Days billed so far", examples=["30"])
    days_now: Decimal = Field(description="Billable days as now known", examples=["30"])
    daily_before: list[Money] = Field(
        description="Daily prices billed so far (døgnpris)", examples=[["895.00"]]
    )
    daily_now: list[Money] = Field(
        description="Daily prices as now known", examples=[["895.00", "1065.00"]]
    )
    amount_before: Money = Field(description="Amount billed so far (DKK)", examples=["26850.00"])
    amount_now: Money = Field(description="Amount as now known (DKK)", examples=["30420.00"])
    difference: Money = Field(
        description="What this adjustment adds (negative: a credit)", examples=["3570.00"]
    )
    causes: list[str] = Field(
        description="The events that changed the amount", examples=[["RenegotiationAnswered v8"]]
    )


def adjustment_out(item: AdjustmentLine) -> AdjustmentOut:
    """The response body of an adjustment line."""
    return AdjustmentOut(
        contract_id=item.contract_id,
        line_id=item.line_id,
        citizen_id=item.citizen_id,
        paragraph=item.paragraph,
        month=month_text(item.month),
        period_start=item.period_start,
        period_end=item.period_end,
        days_before=item.days_before,
        days_now=item.days_now,
        daily_before=list(item.daily_before),
        daily_now=list(item.daily_now),
        amount_before=item.amount_before,
        amount_now=item.amount_now,
        difference=item.difference,
        causes=list(item.causes),
    )


class AdjustmentsOut(BaseModel):
    """The corrections pending for a buyer before its next invoice."""

    buyer_ean: str = Field(description="The buyer's EAN (EAN-nummer)", examples=["5798000000018"])
    month: str = Field(
        description="The invoice they would go on (YYYY-MM); months before it are compared",
        examples=["2025-05"],
    )
    adjustments: list[AdjustmentOut] = Field(description="One per contract line and month")
    total_difference: Money = Field(
        description="Their sum (DKK; negative: a net credit)", examples=["3570.00"]
    )


@router.get(
    "/adjustments",
    response_model=AdjustmentsOut,
    responses={404: {"description": "No buyer with this EAN visible to the caller"}, **INVALID},
    summary="Pending adjustments (efterreguleringer) of a buyer",
)
def adjustments(
    caller: Authenticated,
    ctx: Ctx,
    buyer_ean: Annotated[
        str, Query(description="The buyer's EAN (EAN-nummer)", examples=["5798000000018"])
    ],
    month: Annotated[
        str | None,
        Query(
            pattern=MONTH_PATTERN,
            description=f"The next invoice's month. {MONTH_DESCRIPTION}. Default: the month "
            "after the buyer's last invoice (this month if it has none)",
            examples=["2025-05"],
        ),
    ] = None,
) -> AdjustmentsOut:
    """Earlier invoiced months whose amount as now known differs from what was billed.

    These are the adjustment lines the next invoice would carry, e.g. after a
    renegotiation approved with effect from before the last invoice (pkt. 16).
    """
    ctx.views.wait(names=["billing"])  # the next invoice: everything recorded
    ean = _visible_buyer_ean(ctx, caller, buyer_ean, "query.buyer_ean")
    if month is not None:
        first = parse_month(month, "query.month")
    else:
        invoiced = ctx.views.billing.invoiced_months(ean)
        first = add_months(invoiced[-1], 1) if invoiced else ctx.ledger.today().replace(day=1)
    found = ctx.views.billing.adjustments(ean, first)
    return AdjustmentsOut(
        buyer_ean=ean,
        month=month_text(first),
        adjustments=[adjustment_out(a) for a in found],
        total_difference=sum((a.difference for a in found), Decimal(0)),
    )


# --- invoices ----------------------------------------------------------------------------------


class SegmentOut(BaseModel):
    """Consecutive days of an invoice line at one daily price."""

    start: dt.date = Field(description="First day", examples=["2025-03-01"])
    end: dt.date = Field(description="Last day", examples=["2025-03-31"])
    days: Decimal = Field(description="Billable days (døgn)", examples=["30"])
    daily: Money = Field(description="DKK per day (døgnpris)", examples=["895.00"])
    step: str = Field(description="The step priced (takstniveau)", examples=["3"])
    components: dict[str, Money] = Field(
        description="Daily price per component (takstkomponent)",
        examples=[{"basis": "300.00", "service": "420.00"}],
    )
    cause: str = Field(description="The event that set the price", examples=["Signed v5"])


def _segment(segment: PriceSegment) -> SegmentOut:
    return SegmentOut(
        start=segment.start,
        end=segment.end,
        days=segment.days,
        daily=segment.daily,
        step=segment.step,
        components=_components(segment.components),
        cause=f"{segment.cause} v{segment.cause_version}",
    )


class InvoiceLineOut(LineOfContractOut):
    """One contract line of the month (fakturalinje, pkt. 6)."""

    period_start: dt.date = Field(description="First billed day", examples=["2025-03-01"])
    period_end: dt.date = Field(description="Last billed day", examples=["2025-03-31"])
    days: Decimal = Field(description="Billed days (døgn)", examples=["31"])
    daily_prices: list[Money] = Field(
        description="The daily prices that applied, in order", examples=[["895.00"]]
    )
    amount: Money = Field(
        description="DKK: the segments' sum, rounded half-up to øre once (G4)",
        examples=["27745.00"],
    )
    segments: list[SegmentOut] = Field(description="The line's days at each daily price")


def _line(line: InvoiceLine) -> InvoiceLineOut:
    return InvoiceLineOut(
        contract_id=line.contract_id,
        line_id=line.line_id,
        citizen_id=line.citizen_id,
        paragraph=line.paragraph,
        period_start=line.period_start,
        period_end=line.period_end,
        days=line.days,
        daily_prices=list(line.daily_prices),
        amount=line.amount,
        segments=[_segment(s) for s in line.segments],
    )


class BuyerOut(BaseModel):
    """The invoiced buyer (handlekommune)."""

    name: str = Field(description="Name (navn)", examples=["Demo Nord Kommune"])
    cvr: str = Field(description="CVR number (CVR-nummer)", examples=["29189919"])
    ean: str = Field(description="EAN location number (EAN-nummer)", examples=["5798000000018"])


class InvoiceSummaryOut(BaseModel):
    """An invoice's head and totals."""

    invoice_id: uuid.UUID = Field(
        description="Derived from the EAN and the month",
        examples=["6f0d9b1e-2c4a-5e8f-9a37-1b5c7d9e0f24"],
    )
    buyer: BuyerOut = Field(description="The invoiced buyer")
    month: str = Field(description="The billing month (YYYY-MM)", examples=["2025-03"])
    issued_on: dt.date = Field(
        description="The day it was issued (fakturadato)", examples=["2025-03-03"]
    )
    lines_count: int = Field(description="Number of invoice lines", examples=[2])
    adjustments_count: int = Field(description="Number of adjustment lines", examples=[0])
    lines_total: Money = Field(description="Sum of the month's lines (DKK)", examples=["55490.00"])
    adjustments_total: Money = Field(
        description="Sum of the adjustments (DKK; negative: a credit)", examples=["0.00"]
    )
    total: Money = Field(description="What the buyer is asked to pay (DKK)", examples=["55490.00"])
    href: str = Field(
        description="Where to read it", examples=["/v1/invoices/5798000000018/2025-03"]
    )


class InvoiceOut(InvoiceSummaryOut):
    """An invoice (faktura) as issued: never changed afterwards."""

    known_at: int = Field(
        description="Position in the event log of the billing view it was computed from",
        examples=[42],
    )
    issued_by: ActorOut = Field(description="Who issued it")
    lines: list[InvoiceLineOut] = Field(description="The month's lines")
    adjustments: list[AdjustmentOut] = Field(
        description="Corrections of earlier months (efterreguleringer)"
    )


def _summary(invoice: Invoice) -> dict[str, Any]:
    month = month_text(invoice.month)
    return {
        "invoice_id": invoice.id,
        "buyer": BuyerOut(name=invoice.buyer.name, cvr=invoice.buyer.cvr, ean=invoice.buyer.ean),
        "month": month,
        "issued_on": invoice.issued_on,
        "lines_count": len(invoice.lines),
        "adjustments_count": len(invoice.adjustments),
        "lines_total": invoice.lines_total,
        "adjustments_total": invoice.adjustments_total,
        "total": invoice.total,
        "href": f"/v1/invoices/{invoice.buyer.ean}/{month}",
    }


class InvoiceIssueIn(Body):
    """Issue the month's invoices (fakturering), for every buyer or one."""

    month: str = Field(
        pattern=MONTH_PATTERN,
        description=f"The billing month. {MONTH_DESCRIPTION}",
        examples=["2025-03"],
    )
    buyer_ean: str | None = Field(
        None,
        description="Only this buyer's EAN (EAN-nummer); default: every buyer",
        examples=["5798000000018"],
    )

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        try:
            return month_text(parse_month(value, "month"))
        except errors.InvalidValue as error:
            raise ValueError(error.message) from None

    @field_validator("buyer_ean")
    @classmethod
    def _ean(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_ean(value)
        except errors.LedgerError as error:
            raise ValueError(error.message) from None


class IssuedOut(BaseModel):
    """The invoices of the month: those issued now and those issued before."""

    month: str = Field(description="The billing month (YYYY-MM)", examples=["2025-03"])
    invoices: list[InvoiceSummaryOut] = Field(description="One per buyer EAN with anything due")
    newly_issued: list[str] = Field(
        description="EANs whose invoice this request issued; empty when all existed already",
        examples=[["5798000000018"]],
    )


@router.post(
    "/invoices",
    response_model=IssuedOut,
    status_code=201,
    responses={
        200: {"description": "Every invoice existed already; nothing was recorded"},
        403: {"description": "Only the operator (system administrator) issues invoices"},
        404: {"description": "No contract is billed to this EAN"},
        409: {"description": "Too far ahead, or a later month is already invoiced (G12)"},
        **INVALID,
    },
    summary="Issue the month's invoices (fakturering)",
    tags=["invoices"],
)
def issue_invoices(
    body: InvoiceIssueIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Issue each buyer's invoice for the month: its lines and adjustments of earlier months.

    Issuing a (buyer, month) again returns the invoice already issued and
    records nothing (200 when nothing new was issued). Months are invoiced in
    order per buyer, at most one month ahead (G12).
    """
    require_role(caller, Role.OPERATOR)
    month = parse_month(body.month, "body.month")

    def produce() -> Response:
        ctx.views.wait(names=["billing"])  # must include every event recorded
        before = ctx.views.billing.invoiced(body.buyer_ean)
        issued = ctx.ledger.issue_invoices(
            month, ctx.views.billing, actor=caller.actor, buyer_ean=body.buyer_ean
        )
        new = [i.buyer.ean for i in issued if i.month not in before.get(i.buyer.ean, [])]
        out = IssuedOut(
            month=month_text(month),
            invoices=[InvoiceSummaryOut(**_summary(i)) for i in issued],
            newly_issued=new,
        )
        return JSONResponse(out.model_dump(mode="json"), status_code=201 if new else 200)

    return idempotent(ctx, caller, request, body, produce)


class InvoiceRefOut(BaseModel):
    """An issued invoice in a list."""

    invoice_id: uuid.UUID = Field(
        description="Derived from the EAN and the month",
        examples=["6f0d9b1e-2c4a-5e8f-9a37-1b5c7d9e0f24"],
    )
    buyer_ean: str = Field(description="EAN-nummer", examples=["5798000000018"])
    buyer_cvr: str = Field(description="CVR-nummer", examples=["29189919"])
    month: str = Field(description="The billing month (YYYY-MM)", examples=["2025-03"])
    href: str = Field(
        description="Where to read it", examples=["/v1/invoices/5798000000018/2025-03"]
    )


class InvoiceListOut(BaseModel):
    """The issued invoices the caller may see."""

    items: list[InvoiceRefOut] = Field(description="By EAN, then month")


@router.get(
    "/invoices",
    response_model=InvoiceListOut,
    responses=INVALID,
    summary="List invoices (fakturaer)",
    tags=["invoices"],
)
def list_invoices(
    caller: Authenticated,
    ctx: Ctx,
    buyer_ean: Annotated[
        str | None, Query(description="Only this buyer's EAN (EAN-nummer)")
    ] = None,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description=f"Only this month. {MONTH_DESCRIPTION}"),
    ] = None,
) -> InvoiceListOut:
    """The invoices issued to the buyers the caller sees, by EAN and month."""
    ean = None if buyer_ean is None else validate_ean(buyer_ean, field="query.buyer_ean")
    first = None if month is None else parse_month(month, "query.month")
    ctx.views.wait(names=["billing"])  # issued by the operator, not the caller
    cvrs = {b.ean: b.cvr for b in ctx.views.billing.buyers()}
    items = [
        InvoiceRefOut(
            invoice_id=invoice_id(found_ean, invoiced),
            buyer_ean=found_ean,
            buyer_cvr=cvrs[found_ean],
            month=month_text(invoiced),
            href=f"/v1/invoices/{found_ean}/{month_text(invoiced)}",
        )
        for found_ean, months in sorted(ctx.views.billing.invoiced(ean).items())
        if found_ean in cvrs and _sees_buyer(caller, cvrs[found_ean])
        for invoiced in months
        if first is None or invoiced == first
    ]
    return InvoiceListOut(items=items)


@router.get(
    "/invoices/{buyer_ean}/{month}",
    response_model=InvoiceOut,
    responses={404: {"description": "No such invoice, or not visible to the caller"}, **INVALID},
    summary="Read an invoice (faktura)",
    tags=["invoices"],
)
def read_invoice(
    buyer_ean: Annotated[str, Path(description="The buyer's EAN (EAN-nummer)")],
    month: Annotated[
        str, Path(pattern=MONTH_PATTERN, description=f"The billing month. {MONTH_DESCRIPTION}")
    ],
    caller: Authenticated,
    ctx: Ctx,
) -> InvoiceOut:
    """The invoice as issued: its lines and adjustment lines, amounts in DKK as decimal strings."""
    ean = validate_ean(buyer_ean, field="path.buyer_ean")
    first = parse_month(month, "path.month")
    invoice = ctx.ledger.get_invoice(ean, first)
    if not _sees_buyer(caller, invoice.buyer.cvr):
        msg = f"no invoice for EAN {ean} and {first:%Y-%m}"
        raise errors.InvoiceNotFound(msg, field="month")
    return InvoiceOut(
        **_summary(invoice),
        known_at=invoice.known_at,
        issued_by=actor_out(invoice.issued_by),
        lines=[_line(line) for line in invoice.lines],
        adjustments=[adjustment_out(a) for a in invoice.adjustments],
    )
