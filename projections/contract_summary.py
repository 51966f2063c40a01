"""Contract summary: what an administrator's contract list shows.

One row per contract: parties, service lines with their steps and prices,
status, open renegotiations and the current absence; filterable by buyer,
provider, offer, paragraph and status.

What depends on today's date is not stored, because no event marks the day
it changes: the row stores the contract's *phase* (draft, offered, final,
signed, under notice) and its last day, and each line's price periods; a
query is given ``today`` and derives the status ("ended" after the last day)
and the current step and daily price from them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ledger.contract import Contract, ContractStatus
from ledger.errors import LedgerError
from ledger.invoice import Invoice
from ledger.pricing import SheetSource, line_timeline
from ledger.values import ZERO
from projections.base import Folded, LedgerProjection
from projections.sql import (
    PostgresView,
    Row,
    SQLiteView,
    SqlView,
    Writes,
    as_decimal,
    as_optional_date,
    as_uuid,
)

SUMMARY_COLUMNS = (
    "contract_id",
    "version",
    "buyer_name",
    "buyer_cvr",
    "buyer_ean",
    "provider_name",
    "provider_registration",
    "offer",
    "citizen_id",
    "phase",
    "last_day",
    "document",
    "price_error",
    "payer_cvr",
)

_PARAGRAPH = re.compile(r"§\s*(\d+\s*[a-z]?)", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^\s*(\d+\s*[a-z]?)\s*$", re.IGNORECASE)


def paragraph_tags(paragraph: str) -> set[str]:
    """The paragraphs a line's text names, normalised: "ABL §105/SEL §85" -> {"§105", "§85"}."""
    found = _PARAGRAPH.findall(paragraph) or _BARE_NUMBER.findall(paragraph)
    return {"§" + tag.replace(" ", "").lower() for tag in found}


@dataclass(frozen=True)
class LineSummary:
    """A service line as of ``today``."""

    line_id: str
    paragraph: str
    tariff_model: str
    step: str
    start: dt.date
    end: dt.date | None
    daily: Decimal | None  # None when the day is not billable (before start, after end)


@dataclass(frozen=True)
class ContractSummary:
    """A contract as of ``today``."""

    contract_id: uuid.UUID
    version: int
    buyer_name: str
    buyer_cvr: str
    buyer_ean: str
    provider_name: str
    provider_registration: str
    offer: str
    citizen_id: uuid.UUID
    status: str
    last_day: dt.date | None
    lines: tuple[LineSummary, ...]
    total_daily: Decimal
    open_renegotiations: tuple[dict[str, Any], ...]
    current_absence: dict[str, Any] | None
    price_error: str | None


def summary_document(contract: Contract, sheets: SheetSource) -> tuple[dict[str, Any], str | None]:
    """The stored document of a contract, and the pricing error if its prices are unknown."""
    error: str | None = None
    lines = []
    for line_id, line in contract.lines.items():
        periods: list[dict[str, Any]] = []
        open_ended = False
        try:
            timeline = line_timeline(contract, line_id, sheets)
            open_ended = timeline.open_ended
            periods = [
                {
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "step": p.step,
                    "daily": str(p.daily),
                }
                for p in timeline.periods
            ]
        except LedgerError as exc:
            error = str(exc)
        lines.append(
            {
                "line_id": line_id,
                "paragraph": line.spec.paragraph,
                "tariff_model": line.spec.tariff_model,
                "step": line.step,
                "start": line.spec.start.isoformat(),
                "end": line.spec.end.isoformat() if line.spec.end else None,
                "open_ended": open_ended,
                "periods": periods,
            }
        )
    renegotiations = [
        {
            "request_id": r.request_id,
            "line_id": r.line_id,
            "requested_by": r.requested_by.value,
            "received_on": r.received_on.isoformat(),
            "due_on": r.due_on.isoformat(),
        }
        for r in contract.renegotiations.values()
        if r.is_open
    ]
    absence = contract.current_absence
    document = {
        "lines": lines,
        "open_renegotiations": renegotiations,
        "current_absence": None
        if absence is None
        else {
            "absence_id": absence.absence_id,
            "kind": absence.kind.value,
            "started_on": absence.started_on.isoformat(),
            "notified_on": absence.notified_on.isoformat() if absence.notified_on else None,
        },
    }
    return document, error


def last_day(contract: Contract) -> dt.date | None:
    """The contract's last day: it has ended on every later day (see ``Contract.status``)."""
    end, payment_end = contract.delivery_end, contract.payment_end
    if end is None or payment_end is None:
        return None
    return max(end, payment_end)


class ContractSummaryQueries(SqlView):
    """Queries of the contract summary, for either database."""

    view_name: ClassVar[str] = "contract_summary"
    tables: ClassVar[tuple[str, ...]] = ("contract_summary_paragraph", "contract_summary")
    versions_table: ClassVar[str | None] = "contract_summary"

    def get(self, contract_id: uuid.UUID, today: dt.date) -> ContractSummary | None:
        """One contract as of ``today``, or None if the view has not seen it."""
        with self.reading() as cursor:
            cursor.execute(
                "SELECT * FROM contract_summary WHERE contract_id = %(id)s", {"id": contract_id}
            )
            row = cursor.one()
        return None if row is None else _summary(row, today)

    def search(
        self,
        *,
        today: dt.date,
        buyer: str | None = None,
        provider: str | None = None,
        offer: str | None = None,
        paragraph: str | None = None,
        status: str | None = None,
        after: uuid.UUID | None = None,
        limit: int = 50,
        party: tuple[str, str] | None = None,
    ) -> list[ContractSummary]:
        """Contracts matching every given filter, ordered by id, ``limit`` after ``after``.

        ``buyer`` matches the buyer's CVR or EAN, ``provider`` the provider's
        CVR or P-number, ``paragraph`` any line's paragraph ("85", "§85").
        ``party`` is the caller's scope: ``("buyer", cvr)``, ``("provider",
        registration)``, ``("either", organisation)``; any other side sees nothing.
        """
        where, params = ["1 = 1"], {"limit": limit, "today": today}
        if party is not None:
            side, organisation = party
            where.append(_PARTY_CONDITIONS.get(side, "1 = 0"))
            params["party"] = organisation
        if buyer is not None:
            where.append("(buyer_cvr = %(buyer)s OR buyer_ean = %(buyer)s)")
            params["buyer"] = buyer
        if provider is not None:
            where.append("provider_registration = %(provider)s")
            params["provider"] = provider
        if offer is not None:
            where.append("offer = %(offer)s")
            params["offer"] = offer
        if paragraph is not None:
            tags = sorted(paragraph_tags(paragraph)) or [paragraph]
            where.append(
                "contract_id IN (SELECT contract_id FROM contract_summary_paragraph "
                "WHERE paragraph = %(paragraph)s)"
            )
            params["paragraph"] = tags[0]
        if status is not None:
            where.append(_status_condition(status))
        if after is not None:
            where.append("contract_id > %(after)s")
            params["after"] = after
        statement = (
            "SELECT * FROM contract_summary WHERE "  # noqa: S608 - conditions are constants
            + " AND ".join(where)
            + " ORDER BY contract_id LIMIT %(limit)s"
        )
        with self.reading() as cursor:
            cursor.execute(statement, params)
            rows = cursor.all()
        return [_summary(row, today) for row in rows]

    def citizen_contract_ids(
        self, citizen_id: uuid.UUID, *, party: tuple[str, str] | None = None
    ) -> list[uuid.UUID]:
        """The ids of a citizen's contracts, within the caller's ``party`` scope (as ``search``)."""
        where = ["citizen_id = %(citizen)s"]
        params: dict[str, object] = {"citizen": citizen_id}
        if party is not None:
            side, organisation = party
            where.append(_PARTY_CONDITIONS.get(side, "1 = 0"))
            params["party"] = organisation
        statement = (
            "SELECT contract_id FROM contract_summary WHERE "  # noqa: S608 - constant conditions
            + " AND ".join(where)
            + " ORDER BY contract_id"
        )
        with self.reading() as cursor:
            cursor.execute(statement, params)
            rows = cursor.all()
        return [as_uuid(row["contract_id"]) for row in rows]


_PARTY_CONDITIONS = {
    # A buyer administrator's municipality is the buyer or the paying municipality.
    "buyer": "(buyer_cvr = %(party)s OR payer_cvr = %(party)s)",
    "provider": "provider_registration = %(party)s",
    "either": (
        "(buyer_cvr = %(party)s OR payer_cvr = %(party)s OR provider_registration = %(party)s)"
    ),
}


def _status_condition(status: str) -> str:
    ended = "(last_day IS NOT NULL AND last_day < %(today)s)"
    if status == ContractStatus.ENDED:
        return ended
    phases = {
        ContractStatus.DRAFT,
        ContractStatus.OFFERED,
        ContractStatus.FINAL,
        ContractStatus.SIGNED,
        ContractStatus.UNDER_NOTICE,
    }
    if status not in phases:
        msg = f"unknown status {status!r}"
        raise ValueError(msg)
    return f"phase = '{status}' AND NOT {ended}"


def _summary(row: Row, today: dt.date) -> ContractSummary:
    document = json.loads(row["document"])
    last = as_optional_date(row["last_day"])
    status = ContractStatus.ENDED if last is not None and today > last else row["phase"]
    lines = tuple(_line(line, today) for line in document["lines"])
    return ContractSummary(
        contract_id=as_uuid(row["contract_id"]),
        version=int(row["version"]),
        buyer_name=row["buyer_name"],
        buyer_cvr=row["buyer_cvr"],
        buyer_ean=row["buyer_ean"],
        provider_name=row["provider_name"],
        provider_registration=row["provider_registration"],
        offer=row["offer"],
        citizen_id=as_uuid(row["citizen_id"]),
        status=status,
        last_day=last,
        lines=lines,
        total_daily=sum((line.daily or ZERO for line in lines), ZERO),
        open_renegotiations=tuple(document["open_renegotiations"]),
        current_absence=document["current_absence"],
        price_error=row["price_error"],
    )


def _line(line: dict[str, Any], today: dt.date) -> LineSummary:
    day = today.isoformat()
    step, daily = line["step"], None
    periods = line["periods"]
    for index, period in enumerate(periods):
        open_tail = line["open_ended"] and index == len(periods) - 1
        if period["start"] <= day and (day <= period["end"] or open_tail):
            step, daily = period["step"], as_decimal(period["daily"])
            break
    else:
        if periods and day < periods[0]["start"]:
            step = periods[0]["step"]
    return LineSummary(
        line_id=line["line_id"],
        paragraph=line["paragraph"],
        tariff_model=line["tariff_model"],
        step=step,
        start=dt.date.fromisoformat(line["start"]),
        end=None if line["end"] is None else dt.date.fromisoformat(line["end"]),
        daily=daily,
    )


class PostgresContractSummaryView(PostgresView, ContractSummaryQueries):
    """The contract summary in PostgreSQL."""


class SQLiteContractSummaryView(SQLiteView, ContractSummaryQueries):
    """The contract summary in SQLite."""


class ContractSummaryProjection(LedgerProjection[ContractSummaryQueries]):
    """Keeps the contract summary."""

    name = "contract_summary"

    def changes(
        self,
        contracts: Sequence[Folded],
        invoices: Sequence[Invoice.Issued],  # noqa: ARG002 - not part of this view
    ) -> Writes:
        """Replace the rows of each changed contract."""
        rows: list[tuple[object, ...]] = []
        tags: list[tuple[object, ...]] = []
        for folded in contracts:
            contract = folded.contract
            document, error = summary_document(contract, self.sheets)
            rows.append(
                (
                    contract.id,
                    contract.version,
                    contract.buyer.name,
                    contract.buyer.cvr,
                    contract.buyer.ean,
                    contract.provider.name,
                    contract.provider.registration,
                    contract.provider.offer,
                    contract.citizen_id,
                    contract.status(dt.date.min),
                    last_day(contract),
                    json.dumps(document, sort_keys=True),
                    error,
                    None if contract.payer is None else contract.payer.cvr,
                )
            )
            paragraphs = {
                t for line in contract.lines.values() for t in paragraph_tags(line.spec.paragraph)
            }
            tags.extend((contract.id, p) for p in sorted(paragraphs))
        ids = [f.contract.id for f in contracts]
        writes = Writes()
        writes.replace("contract_summary", ids, SUMMARY_COLUMNS, rows)
        writes.replace("contract_summary_paragraph", ids, ("contract_id", "paragraph"), tags)
        return writes
