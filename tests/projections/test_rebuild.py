"""A view rebuilt from the first event equals the view kept up event by event.

Auditors rely on it (architecture section 5): the live views are caught up in
small steps while the history is recorded, including a tariff-sheet
correction after contracts priced from it, regulations, terminations and
invoices; then each view is emptied and replayed, and every table must hold
exactly the same rows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from adapters import demo
from ledger.clock import local_instant
from ledger.tariff_sheet import SheetPrice
from projections.registry import VIEWS
from projections.sql import SqlView
from tests.ledger.examples import OPERATOR
from tests.projections.conftest import World


def dump(view: SqlView) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table of the view, as sorted text tuples."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    with view.reading() as cursor:
        for table in view.tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            tables[table] = sorted(tuple(str(v) for v in row.values()) for row in cursor.all())
    return tables


def record_history(world: World) -> None:
    """The demo, then more commands, with the views caught up after each step."""
    ledger, views = world.ledger, world.views
    demo.load(ledger, world.runtime.citizens)
    views.catch_up()
    world.clock.set(local_instant(dt.date(2025, 6, 2)))
    ledger.issue_invoices(dt.date(2025, 6, 1), views.billing, actor=OPERATOR)
    views.catch_up()
    # A sheet correction re-prices every contract of the offer.
    sheet = ledger.get_tariff_sheet(demo.STOTTEPAKKEN.offer, 2025)
    corrected = [
        SheetPrice(p.model, p.component, p.step, p.daily + Decimal("1.25"), p.annual)
        for p in sheet.prices
    ]
    ledger.correct_tariff_sheet(
        offer=demo.STOTTEPAKKEN.offer,
        year=2025,
        prices=corrected,
        reason="wrong base",
        actor=OPERATOR,
    )
    views.catch_up(["billing", "deadlines"])  # the others catch up later, in one go
    world.clock.set(local_instant(dt.date(2025, 7, 1)))
    ledger.issue_invoices(dt.date(2025, 7, 1), views.billing, actor=OPERATOR)
    views.catch_up()


def test_rebuilt_views_equal_the_live_views(world: World) -> None:
    record_history(world)
    live = {name: dump(view) for name, view in world.views.views.items()}
    assert live["billing"]["billing_feed"], "the history must put rows in the views"
    assert live["billing"]["billing_billed"]
    assert live["deadlines"]["deadline"]
    assert live["price_timeline"]["price_timeline"]

    for name in VIEWS:
        applied = world.views.rebuild(name)
        assert applied == world.views.head()
        assert dump(world.views.views[name]) == live[name], name


def test_a_rebuild_is_needed_to_see_a_view_again_after_reset(world: World) -> None:
    record_history(world)
    view = world.views.views["contract_summary"]
    view.reset()
    assert view.position() == 0
    assert all(not rows for rows in dump(view).values())
    world.views.rebuild("contract_summary")
    assert view.position() == world.views.head()


def test_status_reports_each_views_lag(world: World) -> None:
    demo.load(world.ledger, world.runtime.citizens)
    head = world.views.head()
    assert {s.name: s.lag for s in world.views.status()} == dict.fromkeys(VIEWS, head)
    world.views.catch_up(["deadlines"])
    lags: dict[str, Any] = {s.name: s.lag for s in world.views.status()}
    assert lags["deadlines"] == 0
    assert lags["billing"] == head
