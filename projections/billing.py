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
from decimal import Decimal
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking

from ledger.billing import FeedRow, feed_rows, month_bounds, month_segments, segments_amount
from ledger.errors import LedgerError
from ledger.invoice import AdjustmentLine, Invoice, InvoiceLine, PriceSegment
from ledger.values import ZERO, ComponentPrice, Municipality, add_months
from projections.base import Folded, LedgerProjection
from projections.sql import (
    PostgresView,
    Row,
    Sql,
    SQLiteView,
    SqlView,
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
        first, last = month_bounds(month)
        with self.reading() as cursor:
            cursor.execute(
                "SELECT f.*, c.citizen_id, c.lines FROM billing_feed f "
                "JOIN billing_contract c ON c.contract_id = f.contract_id "
                "WHERE c.buyer_ean = %(ean)s AND f.start_on <= %(last)s "
                "AND (f.end_on IS NULL OR f.end_on >= %(first)s)",
                {"ean": buyer_ean, "first": first, "last": last},
            )
            rows = cursor.all()
        grouped: dict[tuple[uuid.UUID, str], list[Row]] = defaultdict(list)
        for row in rows:
            grouped[as_uuid(row["contract_id"]), row["line_id"]].append(row)
        lines = []
        for (contract_id, line_id), group in sorted(grouped.items(), key=_line_order):
            segments = _billable(month_segments([_feed_row(r) for r in group], first))
            if not segments:
                continue
            lines.append(
                InvoiceLine(
                    contract_id=contract_id,
                    line_id=line_id,
                    citizen_id=as_uuid(group[0]["citizen_id"]),
                    paragraph=json.loads(group[0]["lines"])[line_id],
                    segments=tuple(segments),
                    amount=segments_amount(segments),
                )
            )
        return lines

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
        with self.reading() as cursor:
            cursor.execute(
                "SELECT month FROM billing_invoice WHERE buyer_ean = %(ean)s ORDER BY month",
                {"ean": buyer_ean},
            )
            return [as_date(r["month"]) for r in cursor.all()]

    def adjustments(self, buyer_ean: str, month: dt.date) -> list[AdjustmentLine]:
        """Pending corrections: earlier months whose amount now differs from what was billed."""
        month = month.replace(day=1)
        with self.reading() as cursor:
            cursor.execute(
                "SELECT month, known_at FROM billing_invoice WHERE buyer_ean = %(ean)s",
                {"ean": buyer_ean},
            )
            invoices = cursor.all()
            earlier = sorted(as_date(r["month"]) for r in invoices if as_date(r["month"]) < month)
            if not earlier:
                return []
            since = max(int(r["known_at"]) for r in invoices)
            params = {"ean": buyer_ean, "since": since, "first": earlier[0], "month": month}
            changed = (
                "SELECT contract_id FROM billing_contract "
                "WHERE buyer_ean = %(ean)s AND changed_at > %(since)s"
            )
            cursor.execute(
                "SELECT * FROM billing_contract WHERE buyer_ean = %(ean)s "
                "AND changed_at > %(since)s",
                params,
            )
            contracts = {as_uuid(r["contract_id"]): r for r in cursor.all()}
            if not contracts:
                return []
            cursor.execute(f"SELECT * FROM billing_feed WHERE contract_id IN ({changed})", params)  # noqa: S608
            feed = cursor.all()
            cursor.execute(
                f"SELECT * FROM billing_billed WHERE contract_id IN ({changed}) "  # noqa: S608
                "AND month >= %(first)s AND month < %(month)s",
                params,
            )
            billed = cursor.all()
        return _adjustments(contracts, feed, billed, earlier[0], month)

    def feed_hash(self, contract_id: uuid.UUID) -> str | None:
        """The digest of the contract's stored feed, or None if the view has not seen it."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT feed_hash FROM billing_contract WHERE contract_id = %(id)s",
                {"id": contract_id},
            )
            row = cursor.one()
        return None if row is None else str(row["feed_hash"])


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


def feed_digest(rows: Sequence[FeedRow]) -> str:
    """A digest of feed rows: equal rows, equal digest."""
    text = json.dumps([_feed_params(uuid.UUID(int=0), r) for r in rows], default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class PostgresBillingView(PostgresView, BillingQueries):
    """The billing view in PostgreSQL."""


class SQLiteBillingView(SQLiteView, BillingQueries):
    """The billing view in SQLite."""


class BillingProjection(LedgerProjection[BillingQueries]):
    """Keeps the billing feed and what each invoice billed."""

    name = "billing"

    def __init__(self, view: BillingQueries) -> None:
        """Build the projection; feed digests are remembered to skip unchanged contracts."""
        super().__init__(view)
        self._digests: dict[uuid.UUID, str | None] = {}

    def write(
        self,
        cursor: Sql,
        contracts: Sequence[Folded],
        invoices: Sequence[Invoice.Issued],
        tracking: Tracking,  # noqa: ARG002 - the view records it
    ) -> None:
        """Replace the feed of each contract whose rows changed; record invoices."""
        heads: list[dict[str, Any]] = []
        replaced: list[dict[str, Any]] = []
        feed: list[dict[str, Any]] = []
        for folded in contracts:
            contract = folded.contract
            if contract.id not in self._digests:
                self._digests[contract.id] = self.view.feed_hash(contract.id)
            stored = self._digests[contract.id]
            error = None
            try:
                rows = feed_rows(contract, self.sheets)
            except LedgerError as exc:
                rows, error = [], str(exc)
            digest = stored if error is not None and stored is not None else feed_digest(rows)
            changed = digest != stored
            if changed and not folded.priced_by:
                # Read back after a restart: the change is this batch's.
                folded.priced_by = "an event after a restart"
            heads.append(
                {
                    "id": contract.id,
                    "version": contract.version,
                    "offer": contract.provider.offer,
                    "ean": contract.buyer.ean,
                    "cvr": contract.buyer.cvr,
                    "name": contract.buyer.name,
                    "citizen": contract.citizen_id,
                    "hash": digest,
                    "lines": json.dumps(
                        {i: line.spec.paragraph for i, line in contract.lines.items()}
                    ),
                    "changed_at": folded.priced_at,
                    "changed_by": folded.priced_by,
                    "error": error,
                }
            )
            if changed:
                replaced.append({"id": contract.id})
                feed.extend(_feed_params(contract.id, row) for row in rows)
            self._digests[contract.id] = digest
        cursor.executemany("DELETE FROM billing_feed WHERE contract_id = %(id)s", replaced)
        cursor.executemany(
            "INSERT INTO billing_feed (contract_id, line_id, start_on, end_on, daily, step, "
            "components, cause, cause_version, granted_per_year) VALUES (%(id)s, %(line)s, "
            "%(start)s, %(end)s, %(daily)s, %(step)s, %(components)s, %(cause)s, "
            "%(cause_version)s, %(granted)s)",
            feed,
        )
        cursor.executemany(
            "INSERT INTO billing_contract (contract_id, version, offer, buyer_ean, buyer_cvr, "
            "buyer_name, citizen_id, feed_hash, lines, changed_at, changed_by, price_error) "
            "VALUES (%(id)s, %(version)s, %(offer)s, %(ean)s, %(cvr)s, %(name)s, %(citizen)s, "
            "%(hash)s, %(lines)s, %(changed_at)s, %(changed_by)s, %(error)s) "
            "ON CONFLICT (contract_id) DO UPDATE SET version = excluded.version, "
            "feed_hash = excluded.feed_hash, lines = excluded.lines, "
            "price_error = excluded.price_error, "
            "changed_at = CASE WHEN excluded.changed_at > billing_contract.changed_at "
            "THEN excluded.changed_at ELSE billing_contract.changed_at END, "
            "changed_by = CASE WHEN excluded.changed_at > billing_contract.changed_at "
            "THEN excluded.changed_by ELSE billing_contract.changed_by END",
            heads,
        )
        for invoice in invoices:
            self._record_invoice(cursor, invoice)

    def _record_invoice(self, cursor: Sql, issued: Invoice.Issued) -> None:
        ean = issued.buyer.ean
        cursor.execute(
            "INSERT INTO billing_invoice (buyer_ean, month, invoice_id, known_at) "
            "VALUES (%(ean)s, %(month)s, %(id)s, %(known_at)s) ON CONFLICT DO NOTHING",
            {
                "ean": ean,
                "month": issued.month,
                "id": issued.originator_id,
                "known_at": issued.known_at,
            },
        )
        billed = [
            {
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
            for line in issued.lines
        ]
        for adjustment in issued.adjustments:
            previous = self._billed_causes(cursor, adjustment)
            billed.append(
                {
                    "id": adjustment.contract_id,
                    "line": adjustment.line_id,
                    "month": adjustment.month,
                    "ean": ean,
                    "amount": adjustment.amount_now,
                    "days": adjustment.days_now,
                    "dailies": json.dumps([str(d) for d in adjustment.daily_now]),
                    "causes": json.dumps(list(dict.fromkeys([*previous, *adjustment.causes]))),
                }
            )
        cursor.executemany(
            "INSERT INTO billing_billed (contract_id, line_id, month, buyer_ean, amount, days, "
            "dailies, causes) VALUES (%(id)s, %(line)s, %(month)s, %(ean)s, %(amount)s, "
            "%(days)s, %(dailies)s, %(causes)s) ON CONFLICT (contract_id, line_id, month) "
            "DO UPDATE SET amount = excluded.amount, days = excluded.days, "
            "dailies = excluded.dailies, causes = excluded.causes",
            billed,
        )

    @staticmethod
    def _billed_causes(cursor: Sql, adjustment: AdjustmentLine) -> list[str]:
        cursor.execute(
            "SELECT causes FROM billing_billed WHERE contract_id = %(id)s AND line_id = %(line)s "
            "AND month = %(month)s",
            {"id": adjustment.contract_id, "line": adjustment.line_id, "month": adjustment.month},
        )
        row = cursor.one()
        return [] if row is None else list(json.loads(row["causes"]))
