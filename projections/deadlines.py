"""Deadlines: who must act by when, and whether they did (architecture section 6).

Rows come from :func:`ledger.deadlines.contract_deadlines`: the buyer's
30-day answer to a renegotiation (pkt. 16), the provider's 7-day absence notice
(pkt. 14), follow-ups (G20), the end of the notice period and of the payment
obligation (pkt. 9). The yearly 1 December framework notice (pkt. 4) recurs for
as long as a contract runs, so the view stores each contract's framework
schedule and a query expands it into the years it asks about.

A row stores the trigger, due and done days. Its status (open, met, missed,
overdue) depends on today, which every query is given.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ledger.deadlines import (
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    FrameworkSchedule,
    contract_deadlines,
)
from ledger.invoice import Invoice
from ledger.values import Party
from projections.base import Folded, LedgerProjection
from projections.sql import (
    PostgresView,
    Row,
    Sql,
    SQLiteView,
    SqlView,
    Writes,
    as_date,
    as_optional_date,
    as_uuid,
)

DEADLINE_COLUMNS = (
    "contract_id",
    "key",
    "kind",
    "party",
    "buyer_cvr",
    "provider_registration",
    "line_id",
    "trigger_on",
    "due_on",
    "done_on",
    "milestone",
    "clause",
)
FRAMEWORK_COLUMNS = (
    "contract_id",
    "buyer_cvr",
    "provider_registration",
    "first_year",
    "last_year",
    "bound_on",
    "notices",
)


@dataclass(frozen=True)
class DeadlineRow:
    """A deadline of a contract, with its status on ``today``."""

    contract_id: uuid.UUID
    buyer_cvr: str
    provider_registration: str
    deadline: Deadline
    status: DeadlineStatus
    met_on: dt.date | None


class DeadlineQueries(SqlView):
    """Queries of the deadlines, for either database."""

    view_name: ClassVar[str] = "deadlines"
    tables: ClassVar[tuple[str, ...]] = ("deadline", "deadline_framework")

    def deadlines(
        self,
        *,
        today: dt.date,
        organisation: str | None = None,
        party: Party | None = None,
        status: DeadlineStatus | None = None,
        due_from: dt.date | None = None,
        due_to: dt.date | None = None,
        contract_id: uuid.UUID | None = None,
        kind: DeadlineKind | None = None,
        scope: tuple[str, str] | None = None,
    ) -> list[DeadlineRow]:
        """Deadlines matching every filter, by due day.

        ``organisation`` (a CVR or P-number) keeps the deadlines that
        organisation must act on; ``party`` those of buyers or of providers.
        "What is due in the next 14 days for buyer X":
        ``organisation=X, status=OPEN, due_from=today, due_to=today + 14``.
        ``scope`` keeps the deadlines of the contracts a side is party to,
        whoever must act: ``("buyer", cvr)``, ``("provider", registration)``,
        ``("either", organisation)``; any other side sees nothing.
        """
        where, params = _filters(organisation, party, due_from, due_to, contract_id, kind)
        _scoped(where, params, scope)
        statement = (
            "SELECT * FROM deadline WHERE " + " AND ".join(where) + " ORDER BY due_on, key"  # noqa: S608
        )
        with self.reading() as cursor:
            cursor.execute(statement, params)
            rows = [_row(r) for r in cursor.all()]
            if kind in (None, DeadlineKind.FRAMEWORK_NOTICE):
                rows.extend(
                    self._framework(cursor, today, organisation, party, contract_id, scope=scope)
                )
        found = []
        for contract, buyer, provider, deadline in rows:
            if due_from is not None and deadline.due_on < due_from:
                continue
            if due_to is not None and deadline.due_on > due_to:
                continue
            state = deadline.status(today)
            if status is not None and state is not status:
                continue
            found.append(
                DeadlineRow(contract, buyer, provider, deadline, state, deadline.met_on(today))
            )
        return sorted(found, key=lambda r: (r.deadline.due_on, str(r.contract_id), r.deadline.key))

    def _framework(
        self,
        cursor: Sql,
        today: dt.date,
        organisation: str | None,
        party: Party | None,
        contract_id: uuid.UUID | None,
        *,
        scope: tuple[str, str] | None,
    ) -> list[tuple[uuid.UUID, str, str, Deadline]]:
        if party is Party.BUYER:
            return []  # the provider gives the framework notice
        where: list[str] = ["1 = 1"]
        params: dict[str, object] = {}
        _scoped(where, params, scope)
        if organisation is not None:
            where.append("provider_registration = %(org)s")
            params["org"] = organisation
        if contract_id is not None:
            where.append("contract_id = %(id)s")
            params["id"] = contract_id
        cursor.execute(
            "SELECT * FROM deadline_framework WHERE " + " AND ".join(where),  # noqa: S608
            params,
        )
        found: list[tuple[uuid.UUID, str, str, Deadline]] = []
        for row in cursor.all():
            schedule = FrameworkSchedule(
                first_year=int(row["first_year"]),
                last_year=None if row["last_year"] is None else int(row["last_year"]),
                bound_on=as_optional_date(row["bound_on"]),
                notices=tuple(
                    (int(year), dt.date.fromisoformat(day))
                    for year, day in json.loads(row["notices"])
                ),
            )
            found.extend(
                (as_uuid(row["contract_id"]), row["buyer_cvr"], row["provider_registration"], d)
                for d in schedule.deadlines(schedule.years(today.year))
            )
        return found


_SCOPES = {
    "buyer": "buyer_cvr = %(scope)s",
    "provider": "provider_registration = %(scope)s",
    "either": "(buyer_cvr = %(scope)s OR provider_registration = %(scope)s)",
}


def _scoped(where: list[str], params: dict[str, object], scope: tuple[str, str] | None) -> None:
    """Add the condition of a caller's side (see :meth:`DeadlineQueries.deadlines`)."""
    if scope is not None:
        side, organisation = scope
        where.append(_SCOPES.get(side, "1 = 0"))
        params["scope"] = organisation


def _filters(  # noqa: PLR0917 - the query's filters, passed through
    organisation: str | None,
    party: Party | None,
    due_from: dt.date | None,
    due_to: dt.date | None,
    contract_id: uuid.UUID | None,
    kind: DeadlineKind | None,
) -> tuple[list[str], dict[str, object]]:
    where: list[str] = ["1 = 1"]
    params: dict[str, object] = {}
    if organisation is not None:
        where.append(
            "((party = 'buyer' AND buyer_cvr = %(org)s) "
            "OR (party = 'provider' AND provider_registration = %(org)s))"
        )
        params["org"] = organisation
    if party is not None:
        where.append("party = %(party)s")
        params["party"] = party.value
    if due_from is not None:
        where.append("due_on >= %(due_from)s")
        params["due_from"] = due_from
    if due_to is not None:
        where.append("due_on <= %(due_to)s")
        params["due_to"] = due_to
    if contract_id is not None:
        where.append("contract_id = %(id)s")
        params["id"] = contract_id
    if kind is not None:
        where.append("kind = %(kind)s")
        params["kind"] = kind.value
    return where, params


def _row(row: Row) -> tuple[uuid.UUID, str, str, Deadline]:
    deadline = Deadline(
        key=row["key"],
        kind=DeadlineKind(row["kind"]),
        party=Party(row["party"]),
        trigger_on=as_date(row["trigger_on"]),
        due_on=as_date(row["due_on"]),
        done_on=as_optional_date(row["done_on"]),
        clause=row["clause"],
        line_id=row["line_id"],
        milestone=bool(row["milestone"]),
    )
    return as_uuid(row["contract_id"]), row["buyer_cvr"], row["provider_registration"], deadline


class PostgresDeadlineView(PostgresView, DeadlineQueries):
    """The deadlines in PostgreSQL."""


class SQLiteDeadlineView(SQLiteView, DeadlineQueries):
    """The deadlines in SQLite."""


class DeadlineProjection(LedgerProjection[DeadlineQueries]):
    """Keeps the deadlines; prices play no part, so sheet events are skipped."""

    name = "deadlines"
    uses_sheets: ClassVar[bool] = False

    def changes(
        self,
        contracts: Sequence[Folded],
        invoices: Sequence[Invoice.Issued],  # noqa: ARG002 - not part of this view
    ) -> Writes:
        """Replace the deadlines of each changed contract."""
        rows: list[tuple[object, ...]] = []
        schedules: list[tuple[object, ...]] = []
        for folded in contracts:
            contract = folded.contract
            buyer, provider = contract.buyer.cvr, contract.provider.registration
            rows.extend(
                (
                    contract.id,
                    d.key,
                    d.kind.value,
                    d.party.value,
                    buyer,
                    provider,
                    d.line_id,
                    d.trigger_on,
                    d.due_on,
                    d.done_on,
                    d.milestone,
                    d.clause,
                )
                for d in contract_deadlines(contract)
            )
            schedule = FrameworkSchedule.from_contract(contract)
            if schedule is not None:
                schedules.append(
                    (
                        contract.id,
                        buyer,
                        provider,
                        schedule.first_year,
                        schedule.last_year,
                        schedule.bound_on,
                        json.dumps([[y, d.isoformat()] for y, d in schedule.notices]),
                    )
                )
        ids = [f.contract.id for f in contracts]
        writes = Writes()
        writes.replace("deadline", ids, DEADLINE_COLUMNS, rows)
        writes.replace("deadline_framework", ids, FRAMEWORK_COLUMNS, schedules)
        return writes
