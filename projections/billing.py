"""Billing: the feed invoices are cut from, what was billed, and pending corrections.

The feed holds :func:`ledger.billing.feed_rows` of every contract: per line,
the billable days at their daily prices as currently known (the last row of a
running line open-ended). A month's invoice line is the feed cut to the month
(:func:`ledger.billing.month_segments`).

The view also follows the issued invoices: per contract line and month it
keeps what has been billed so far (the invoice line plus later adjustments).
:meth:`BillingQueries.adjustments` compares the two for every month since
the buyer's first invoice: "what corrections are pending for buyer X" before
the next invoice is cut. Only contracts whose feed changed after the buyer's
last invoice can differ from what was billed, so only those are compared.

Prices that cannot be computed (a tariff sheet not yet published) never
remove a contract's feed: the old rows stay and the error is recorded, so a
missing sheet cannot turn into a credit note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ledger.billing import FeedRow, feed_rows, month_bounds, month_segments, segments_amount
from ledger.errors import LedgerError
from ledger.invoice import AdjustmentLine, Invoice, InvoiceLine, PriceSegment
from ledger.values import ZERO, ComponentPrice, Municipality, add_months
from projections.base import Folded, LedgerProjection
from projections.sql import (
    PostgresView,
    Row,
    SQLiteView,
    SqlView,
    Writes,
    as_date,
    as_decimal,
    as_optional_date,
    as_uuid,
)


class BillingQueries(SqlView):
    """Queries of the billing view; also the source invoices are issued from."""

    view_name: ClassVar[str] = "billing"
    tables: ClassVar[tuple[str, ...]] = (
        "billing_feed",
        "billing_contract",
        "billing_billed",
        "billing_invoice",
    )
    versions_table: ClassVar[str | None] = "billing_contract"

    # --- the feed -------------------------------------------------------------------

    def feed(self, contract_id: uuid.UUID) -> list[FeedRow]:
        """The contract's feed rows in line and date order."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT * FROM billing_feed WHERE contract_id = %(id)s ORDER BY line_id, start_on",
                {"id": contract_id},
            )
            return [_feed_row(row) for row in cursor.all()]

    def month_lines(self, buyer_ean: str, month: dt.date) -> list[InvoiceLine]:
        """The buyer's invoice lines of ``month``, as currently known."""
        return self.invoice_lines(month, buyer_ean).get(buyer_ean, [])

    def invoice_lines(
        self, month: dt.date, buyer_ean: str | None = None
    ) -> dict[str, list[InvoiceLine]]:
        """Every buyer's (or one buyer's) invoice lines of ``month``, in one query."""
        first, last = month_bounds(month)
        params: dict[str, object] = {"first": first, "last": last}
        where = ""
        if buyer_ean is not None:
            where, params["ean"] = "c.buyer_ean = %(ean)s AND ", buyer_ean
        with self.reading() as cursor:
            cursor.execute(
                "SELECT f.*, c.buyer_ean, c.citizen_id, c.lines FROM billing_feed f "  # noqa: S608 - constant
                f"JOIN billing_contract c ON c.contract_id = f.contract_id WHERE {where}"
                "f.start_on <= %(last)s AND (f.end_on IS NULL OR f.end_on >= %(first)s)",
                params,
            )
            rows = cursor.all()
        grouped: dict[tuple[uuid.UUID, str], list[Row]] = defaultdict(list)
        for row in rows:
            grouped[as_uuid(row["contract_id"]), row["line_id"]].append(row)
        found: dict[str, list[InvoiceLine]] = defaultdict(list)
        for (contract_id, line_id), group in sorted(grouped.items(), key=_line_order):
            segments = _billable(month_segments([_feed_row(r) for r in group], first))
            if not segments:
                continue
            found[group[0]["buyer_ean"]].append(
                InvoiceLine(
                    contract_id=contract_id,
                    line_id=line_id,
                    citizen_id=as_uuid(group[0]["citizen_id"]),
                    paragraph=json.loads(group[0]["lines"])[line_id],
                    segments=tuple(segments),
                    amount=segments_amount(segments),
                )
            )
        return dict(found)

    # --- invoices and adjustments ---------------------------------------------------

    def buyers(self) -> list[Municipality]:
        """Every buyer with something in the feed, or invoiced before (a credit may be due)."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT DISTINCT buyer_ean, buyer_cvr, buyer_name FROM billing_contract c "
                "WHERE EXISTS (SELECT 1 FROM billing_feed f WHERE f.contract_id = c.contract_id) "
                "OR EXISTS (SELECT 1 FROM billing_invoice i WHERE i.buyer_ean = c.buyer_ean) "
                "ORDER BY buyer_ean"
            )
            return [
                Municipality(name=r["buyer_name"], cvr=r["buyer_cvr"], ean=r["buyer_ean"])
                for r in cursor.all()
            ]

    def invoiced_months(self, buyer_ean: str) -> list[dt.date]:
        """The months invoiced to the buyer, in order."""
        return self.invoiced(buyer_ean).get(buyer_ean, [])

    def invoiced(self, buyer_ean: str | None = None) -> dict[str, list[dt.date]]:
        """The months invoiced to every buyer (or one), in order."""
        found: dict[str, list[dt.date]] = defaultdict(list)
        for row in self._invoices(buyer_ean):
            found[row["buyer_ean"]].append(as_date(row["month"]))
        return {ean: sorted(months) for ean, months in found.items()}

    def adjustments(self, buyer_ean: str, month: dt.date) -> list[AdjustmentLine]:
        """Pending corrections: earlier months whose amount now differs from what was billed."""
        return self.pending_adjustments(month, buyer_ean).get(buyer_ean, [])

    def pending_adjustments(
        self, month: dt.date, buyer_ean: str | None = None
    ) -> dict[str, list[AdjustmentLine]]:
        """Every buyer's (or one buyer's) pending corrections of months before ``month``.

        Only contracts whose feed changed after the buyer's last invoice
        (``changed_at`` above its largest ``known_at``) can differ from what
        was billed, so only those are compared.
        """
        month = month.replace(day=1)
        invoices = self._invoices(buyer_ean)
        first: dict[str, dt.date] = {}
        for row in invoices:
            invoiced = as_date(row["month"])
            if invoiced < month:
                ean = row["buyer_ean"]
                first[ean] = min(first.get(ean, invoiced), invoiced)
        if not first:
            return {}
        params: dict[str, object] = {"month": month, "first": min(first.values())}
        where = ""
        if buyer_ean is not None:
            where, params["ean"] = "c.buyer_ean = %(ean)s AND ", buyer_ean
        changed = (
            f"SELECT c.contract_id FROM billing_contract c WHERE {where}"  # noqa: S608 - constant
            "c.changed_at > (SELECT MAX(i.known_at) FROM billing_invoice i "
            "WHERE i.buyer_ean = c.buyer_ean)"
        )
        with self.reading() as cursor:
            cursor.execute(
                f"SELECT * FROM billing_contract WHERE contract_id IN ({changed})",  # noqa: S608
                params,
            )
            contracts = {as_uuid(r["contract_id"]): r for r in cursor.all()}
            if not contracts:
                return {}
            cursor.execute(f"SELECT * FROM billing_feed WHERE contract_id IN ({changed})", params)  # noqa: S608
            feed = cursor.all()
            cursor.execute(
                f"SELECT * FROM billing_billed WHERE contract_id IN ({changed}) "  # noqa: S608
                "AND month >= %(first)s AND month < %(month)s",
                params,
            )
            billed = cursor.all()
        return _adjustments_by_buyer(contracts, feed, billed, first, month)

    def _invoices(self, buyer_ean: str | None) -> list[Row]:
        with self.reading() as cursor:
            if buyer_ean is None:
                cursor.execute("SELECT buyer_ean, month, known_at FROM billing_invoice")
            else:
                cursor.execute(
                    "SELECT buyer_ean, month, known_at FROM billing_invoice "
                    "WHERE buyer_ean = %(ean)s",
                    {"ean": buyer_ean},
                )
            return cursor.all()

    def stored_feeds(
        self, contract_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, int, str]]:
        """Per contract held: feed digest, and the position and event of its last change."""
        found: dict[uuid.UUID, tuple[str, int, str]] = {}
        with self.reading() as cursor:
            for chunk in _chunks(contract_ids, 500):
                marks = ", ".join(f"%(c{i})s" for i in range(len(chunk)))
                cursor.execute(
                    _STORED_FEEDS.format(marks),
                    {f"c{i}": contract_id for i, contract_id in enumerate(chunk)},
                )
                for row in cursor.all():
                    found[as_uuid(row["contract_id"])] = (
                        str(row["feed_hash"]),
                        int(row["changed_at"]),
                        str(row["changed_by"]),
                    )
        return found

    def billed_causes(self, contract_id: uuid.UUID, line_id: str, month: dt.date) -> list[str]:
        """The causes already billed for a contract line's month."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT causes FROM billing_billed WHERE contract_id = %(id)s "
                "AND line_id = %(line)s AND month = %(month)s",
                {"id": contract_id, "line": line_id, "month": month},
            )
            row = cursor.one()
        return [] if row is None else list(json.loads(row["causes"]))


_STORED_FEEDS = (
    "SELECT contract_id, feed_hash, changed_at, changed_by FROM billing_contract "
    "WHERE contract_id IN ({})"  # filled with placeholders only
)


def _chunks(items: Sequence[uuid.UUID], size: int) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _line_order(item: tuple[tuple[uuid.UUID, str], Any]) -> tuple[str, int, str]:
    (contract_id, line_id), _ = item
    return (str(contract_id), len(line_id), line_id)


def _billable(segments: Iterable[PriceSegment]) -> list[PriceSegment]:
    return [s for s in segments if s.days > 0]


def _months(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    """First days of the months from ``start``'s to ``end``'s, inclusive."""
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = add_months(month, 1)


def _adjustments_by_buyer(
    contracts: dict[uuid.UUID, Row],
    feed: list[Row],
    billed: list[Row],
    first: dict[str, dt.date],
    month: dt.date,
) -> dict[str, list[AdjustmentLine]]:
    """Each buyer's adjustments, from the rows of all buyers' changed contracts."""
    by_buyer: dict[str, tuple[dict[uuid.UUID, Row], list[Row], list[Row]]] = {
        ean: ({}, [], []) for ean in first
    }
    for contract_id, row in contracts.items():
        if row["buyer_ean"] in by_buyer:
            by_buyer[row["buyer_ean"]][0][contract_id] = row
    for row in feed:
        ean = contracts[as_uuid(row["contract_id"])]["buyer_ean"]
        if ean in by_buyer:
            by_buyer[ean][1].append(row)
    for row in billed:
        if row["buyer_ean"] in by_buyer and as_date(row["month"]) >= first[row["buyer_ean"]]:
            by_buyer[row["buyer_ean"]][2].append(row)
    found: dict[str, list[AdjustmentLine]] = {}
    for ean, (its_contracts, its_feed, its_billed) in by_buyer.items():
        lines = _adjustments(its_contracts, its_feed, its_billed, first[ean], month)
        if lines:
            found[ean] = lines
    return found


def _adjustments(
    contracts: dict[uuid.UUID, Row],
    feed: list[Row],
    billed: list[Row],
    first: dt.date,
    month: dt.date,
) -> list[AdjustmentLine]:
    rows: dict[tuple[uuid.UUID, str], list[FeedRow]] = defaultdict(list)
    for row in feed:
        rows[as_uuid(row["contract_id"]), row["line_id"]].append(_feed_row(row))
    before: dict[tuple[uuid.UUID, str, dt.date], Row] = {
        (as_uuid(r["contract_id"]), r["line_id"], as_date(r["month"])): r for r in billed
    }
    last = month - dt.timedelta(days=1)
    keys: set[tuple[uuid.UUID, str, dt.date]] = set(before)
    for (contract_id, line_id), line_rows in rows.items():
        for feed_row in line_rows:
            start, end = max(feed_row.start, first), min(feed_row.end or last, last)
            keys.update((contract_id, line_id, m) for m in _months(start, end))
    found = []
    for contract_id, line_id, corrected in sorted(keys, key=lambda k: (str(k[0]), k[1], k[2])):
        contract = contracts[contract_id]
        segments = _billable(month_segments(rows.get((contract_id, line_id), []), corrected))
        now = segments_amount(segments)
        old = before.get((contract_id, line_id, corrected))
        was = ZERO if old is None else as_decimal(old["amount"])
        if now == was:
            continue
        billed_causes = set() if old is None else set(json.loads(old["causes"]))
        causes = tuple(
            dict.fromkeys(
                c
                for c in (f"{s.cause} v{s.cause_version}" for s in segments)
                if c not in billed_causes
            )
        ) or (contract["changed_by"],)
        found.append(
            AdjustmentLine(
                contract_id=contract_id,
                line_id=line_id,
                citizen_id=as_uuid(contract["citizen_id"]),
                paragraph=json.loads(contract["lines"])[line_id],
                month=corrected,
                period_start=segments[0].start if segments else None,
                period_end=segments[-1].end if segments else None,
                days_before=ZERO if old is None else as_decimal(old["days"]),
                days_now=sum((s.days for s in segments), ZERO),
                daily_before=()
                if old is None
                else tuple(Decimal(d) for d in json.loads(old["dailies"])),
                daily_now=tuple(dict.fromkeys(s.daily for s in segments)),
                amount_before=was,
                amount_now=now,
                causes=causes,
            )
        )
    return found


def _feed_row(row: Row) -> FeedRow:
    granted = row["granted_per_year"]
    return FeedRow(
        line_id=row["line_id"],
        start=as_date(row["start_on"]),
        end=as_optional_date(row["end_on"]),
        daily=as_decimal(row["daily"]),
        step=row["step"],
        components=tuple(
            ComponentPrice(c["component"], Decimal(c["daily"]))
            for c in json.loads(row["components"])
        ),
        cause=row["cause"],
        cause_version=int(row["cause_version"]),
        granted_per_year=None if granted is None else as_decimal(granted),
    )


def _feed_params(contract_id: uuid.UUID, row: FeedRow) -> dict[str, Any]:
    return {
        "id": contract_id,
        "line": row.line_id,
        "start": row.start,
        "end": row.end,
        "daily": row.daily,
        "step": row.step,
        "components": json.dumps(
            [{"component": c.component, "daily": str(c.daily)} for c in row.components]
        ),
        "cause": row.cause,
        "cause_version": row.cause_version,
        "granted": row.granted_per_year,
    }


def _feed_tuple(contract_id: uuid.UUID, row: FeedRow) -> tuple[object, ...]:
    params = _feed_params(contract_id, row)
    return (
        contract_id,
        row.line_id,
        row.start,
        row.end,
        row.daily,
        row.step,
        params["components"],
        row.cause,
        row.cause_version,
        row.granted_per_year,
    )


def feed_digest(rows: Sequence[FeedRow]) -> str:
    """A digest of feed rows: equal rows, equal digest."""
    text = json.dumps([_feed_params(uuid.UUID(int=0), r) for r in rows], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class PostgresBillingView(PostgresView, BillingQueries):
    """The billing view in PostgreSQL."""


class SQLiteBillingView(SQLiteView, BillingQueries):
    """The billing view in SQLite."""


FEED_COLUMNS = (
    "contract_id",
    "line_id",
    "start_on",
    "end_on",
    "daily",
    "step",
    "components",
    "cause",
    "cause_version",
    "granted_per_year",
)
CONTRACT_COLUMNS = (
    "contract_id",
    "version",
    "offer",
    "buyer_ean",
    "buyer_cvr",
    "buyer_name",
    "citizen_id",
    "feed_hash",
    "lines",
    "changed_at",
    "changed_by",
    "price_error",
)


@dataclass
class _Stored:
    """What the view holds of a contract: its feed digest and last feed change."""

    digest: str
    changed_at: int
    changed_by: str


class BillingProjection(LedgerProjection[BillingQueries]):
    """Keeps the billing feed and what each invoice billed."""

    name = "billing"

    def __init__(self, view: BillingQueries) -> None:
        """Build the projection; what the view holds is remembered to skip unchanged feeds."""
        super().__init__(view)
        self._stored: dict[uuid.UUID, _Stored | None] = {}

    def changes(self, contracts: Sequence[Folded], invoices: Sequence[Invoice.Issued]) -> Writes:
        """Replace the feed of each contract whose rows changed; record invoices."""
        self._recall([f.contract.id for f in contracts])
        heads: list[tuple[object, ...]] = []
        replaced: list[uuid.UUID] = []
        feed: list[tuple[object, ...]] = []
        for folded in contracts:
            contract = folded.contract
            stored = self._stored.get(contract.id)
            error = None
            try:
                rows = feed_rows(contract, self.sheets)
            except LedgerError as exc:
                rows, error = [], str(exc)
            if error is not None and stored is not None:
                digest = stored.digest  # a missing sheet never removes the feed
            else:
                digest = feed_digest(rows)
            changed = stored is None or digest != stored.digest
            if changed and not folded.priced_by:
                # Read back after a restart: the change is this batch's.
                folded.priced_by = "an event after a restart"
            now = _Stored(digest, folded.priced_at, folded.priced_by)
            if stored is not None and stored.changed_at >= folded.priced_at:
                now.changed_at, now.changed_by = stored.changed_at, stored.changed_by
            heads.append(
                (
                    contract.id,
                    contract.version,
                    contract.provider.offer,
                    contract.buyer.ean,
                    contract.buyer.cvr,
                    contract.buyer.name,
                    contract.citizen_id,
                    digest,
                    json.dumps({i: line.spec.paragraph for i, line in contract.lines.items()}),
                    now.changed_at,
                    now.changed_by,
                    error,
                )
            )
            if changed:
                replaced.append(contract.id)
                feed.extend(_feed_tuple(contract.id, row) for row in rows)
            self._stored[contract.id] = now
        writes = Writes()
        writes.replace("billing_feed", replaced, FEED_COLUMNS, feed)
        writes.replace(
            "billing_contract", [f.contract.id for f in contracts], CONTRACT_COLUMNS, heads
        )
        if invoices:
            self._record_invoices(writes, invoices)
        return writes

    def _recall(self, contract_ids: Sequence[uuid.UUID]) -> None:
        """Read what the view holds of the contracts not yet remembered, in one query.

        A view rebuilt from its first event holds nothing this process did not write.
        """
        unknown = [i for i in contract_ids if i not in self._stored]
        if not unknown:
            return
        if not self._fresh:
            for contract_id, stored in self.view.stored_feeds(unknown).items():
                self._stored[contract_id] = _Stored(*stored)
        for contract_id in unknown:
            self._stored.setdefault(contract_id, None)

    def _record_invoices(self, writes: Writes, invoices: Sequence[Invoice.Issued]) -> None:
        billed: dict[tuple[uuid.UUID, str, dt.date], dict[str, Any]] = {}
        for issued in invoices:
            ean = issued.buyer.ean
            writes.run(
                "INSERT INTO billing_invoice (buyer_ean, month, invoice_id, known_at) "
                "VALUES (%(ean)s, %(month)s, %(id)s, %(known_at)s) ON CONFLICT DO NOTHING",
                [
                    {
                        "ean": ean,
                        "month": issued.month,
                        "id": issued.originator_id,
                        "known_at": issued.known_at,
                    }
                ],
            )
            for line in issued.lines:
                billed[line.contract_id, line.line_id, issued.month] = {
                    "id": line.contract_id,
                    "line": line.line_id,
                    "month": issued.month,
                    "ean": ean,
                    "amount": line.amount,
                    "days": line.days,
                    "dailies": json.dumps([str(d) for d in line.daily_prices]),
                    "causes": json.dumps(
                        list(dict.fromkeys(f"{s.cause} v{s.cause_version}" for s in line.segments))
                    ),
                }
            for adjustment in issued.adjustments:
                key = (adjustment.contract_id, adjustment.line_id, adjustment.month)
                earlier = billed.get(key)
                previous = (
                    json.loads(earlier["causes"])
                    if earlier is not None
                    else self.view.billed_causes(*key)
                )
                billed[key] = {
                    "id": adjustment.contract_id,
                    "line": adjustment.line_id,
                    "month": adjustment.month,
                    "ean": ean,
                    "amount": adjustment.amount_now,
                    "days": adjustment.days_now,
                    "dailies": json.dumps([str(d) for d in adjustment.daily_now]),
                    "causes": json.dumps(list(dict.fromkeys([*previous, *adjustment.causes]))),
                }
        writes.run(
            "INSERT INTO billing_billed (contract_id, line_id, month, buyer_ean, amount, days, "
            "dailies, causes) VALUES (%(id)s, %(line)s, %(month)s, %(ean)s, %(amount)s, "
            "%(days)s, %(dailies)s, %(causes)s) ON CONFLICT (contract_id, line_id, month) "
            "DO UPDATE SET amount = excluded.amount, days = excluded.days, "
            "dailies = excluded.dailies, causes = excluded.causes",
            list(billed.values()),
        )
