"""Price timeline: every line's price periods, and the event that set each one.

Rows are the periods of :func:`ledger.pricing.line_timeline` as currently
known, from the line's start to its billable end (the last one open-ended while
the line runs). Each period names its cause (event name and contract version)
and the day that event was recorded; a period whose cause was recorded after
the period began was set *retroactively* (a pkt. 16 approval reaching back to
the day the description was received, a January regulation recorded in
February), which is what makes already-sent invoices wrong.

"As known at T" is answered by the ledger itself (load the contract as it was
at T and price it); this view holds the current knowledge.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ledger.errors import LedgerError
from ledger.invoice import Invoice
from ledger.pricing import line_timeline
from ledger.values import ComponentPrice
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

PERIOD_COLUMNS = (
    "contract_id",
    "line_id",
    "start_on",
    "end_on",
    "step",
    "daily",
    "components",
    "cause",
    "cause_version",
    "sheet_year",
    "recorded_on",
    "retroactive",
)


@dataclass(frozen=True)
class TimelinePeriod:
    """A stored price period of one line."""

    contract_id: uuid.UUID
    line_id: str
    start: dt.date
    end: dt.date | None  # None: open-ended
    step: str
    daily: Decimal
    components: tuple[ComponentPrice, ...]
    cause: str
    cause_version: int
    sheet_year: int | None
    recorded_on: dt.date
    retroactive: bool


class PriceTimelineQueries(SqlView):
    """Queries of the price timeline, for either database."""

    view_name: ClassVar[str] = "price_timeline"
    tables: ClassVar[tuple[str, ...]] = ("price_timeline", "price_timeline_contract")
    versions_table: ClassVar[str | None] = "price_timeline_contract"

    def periods(self, contract_id: uuid.UUID, line_id: str | None = None) -> list[TimelinePeriod]:
        """The contract's periods (optionally of one line) in line and date order."""
        statement = "SELECT * FROM price_timeline WHERE contract_id = %(id)s"
        params: dict[str, object] = {"id": contract_id}
        if line_id is not None:
            statement += " AND line_id = %(line)s"
            params["line"] = line_id
        with self.reading() as cursor:
            cursor.execute(statement + " ORDER BY line_id, start_on", params)
            return [_period(row) for row in cursor.all()]

    def price_error(self, contract_id: uuid.UUID) -> str | None:
        """Why the contract's prices are unknown (e.g. a missing tariff sheet), if they are."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT price_error FROM price_timeline_contract WHERE contract_id = %(id)s",
                {"id": contract_id},
            )
            row = cursor.one()
        return None if row is None else row["price_error"]


def _period(row: Row) -> TimelinePeriod:
    return TimelinePeriod(
        contract_id=as_uuid(row["contract_id"]),
        line_id=row["line_id"],
        start=as_date(row["start_on"]),
        end=as_optional_date(row["end_on"]),
        step=row["step"],
        daily=as_decimal(row["daily"]),
        components=tuple(
            ComponentPrice(c["component"], Decimal(c["daily"]))
            for c in json.loads(row["components"])
        ),
        cause=row["cause"],
        cause_version=int(row["cause_version"]),
        sheet_year=None if row["sheet_year"] is None else int(row["sheet_year"]),
        recorded_on=as_date(row["recorded_on"]),
        retroactive=bool(row["retroactive"]),
    )


def components_json(components: Sequence[ComponentPrice]) -> str:
    """Components as stored JSON (exact decimal text)."""
    return json.dumps([{"component": c.component, "daily": str(c.daily)} for c in components])


class PostgresPriceTimelineView(PostgresView, PriceTimelineQueries):
    """The price timeline in PostgreSQL."""


class SQLitePriceTimelineView(SQLiteView, PriceTimelineQueries):
    """The price timeline in SQLite."""


class PriceTimelineProjection(LedgerProjection[PriceTimelineQueries]):
    """Keeps the price timeline."""

    name = "price_timeline"

    def changes(
        self,
        contracts: Sequence[Folded],
        invoices: Sequence[Invoice.Issued],  # noqa: ARG002 - not part of this view
    ) -> Writes:
        """Replace the periods of each changed contract."""
        heads: list[tuple[object, ...]] = []
        periods: list[tuple[object, ...]] = []
        for folded in contracts:
            contract = folded.contract
            error = None
            try:
                timelines = [line_timeline(contract, i, self.sheets) for i in contract.lines]
            except LedgerError as exc:
                timelines, error = [], str(exc)
            heads.append((contract.id, contract.version, contract.provider.offer, error))
            for timeline in timelines:
                last = len(timeline.periods) - 1
                for index, p in enumerate(timeline.periods):
                    recorded_on = folded.recorded_on.get(p.cause_version, p.start)
                    periods.append(
                        (
                            contract.id,
                            p.line_id,
                            p.start,
                            None if timeline.open_ended and index == last else p.end,
                            p.step,
                            p.daily,
                            components_json(p.components),
                            p.cause,
                            p.cause_version,
                            p.sheet_year,
                            recorded_on,
                            recorded_on > p.start,
                        )
                    )
        ids = [f.contract.id for f in contracts]
        writes = Writes()
        writes.replace("price_timeline", ids, PERIOD_COLUMNS, periods)
        writes.replace(
            "price_timeline_contract",
            ids,
            ("contract_id", "version", "offer", "price_error"),
            heads,
        )
        return writes
