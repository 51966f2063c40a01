"""The read models by name: projection class and its view on each database.

These names reach the database (tables, tracking rows) and the command line
(``ledger rebuild VIEW``): they are public API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.base import LedgerProjection
from projections.billing import BillingProjection, PostgresBillingView, SQLiteBillingView
from projections.contract_summary import (
    ContractSummaryProjection,
    PostgresContractSummaryView,
    SQLiteContractSummaryView,
)
from projections.deadlines import DeadlineProjection, PostgresDeadlineView, SQLiteDeadlineView
from projections.price_timeline import (
    PostgresPriceTimelineView,
    PriceTimelineProjection,
    SQLitePriceTimelineView,
)
from projections.sql import PostgresView, SQLiteView


@dataclass(frozen=True)
class ViewSpec:
    """How to build one read model."""

    projection: type[LedgerProjection[Any]]
    sqlite: type[SQLiteView]
    postgres: type[PostgresView]


VIEWS: dict[str, ViewSpec] = {
    "contract_summary": ViewSpec(
        ContractSummaryProjection, SQLiteContractSummaryView, PostgresContractSummaryView
    ),
    "price_timeline": ViewSpec(
        PriceTimelineProjection, SQLitePriceTimelineView, PostgresPriceTimelineView
    ),
    "deadlines": ViewSpec(DeadlineProjection, SQLiteDeadlineView, PostgresDeadlineView),
    "billing": ViewSpec(BillingProjection, SQLiteBillingView, PostgresBillingView),
}
