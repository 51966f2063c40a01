"""Build the read models for the configured storage; catch up, rebuild, report, run workers.

The views live in the same database as the events (SQLite file or PostgreSQL
schema); with the in-memory store they live in a temporary SQLite file that
goes when the runtime closes. Embedded (SQLite, memory): the views are caught
up from the notification log on demand (:meth:`Views.catch_up`). PostgreSQL:
``ledger project`` runs the library's ``ProjectionRunner`` per view in one
worker process (:func:`run_workers`); readers wait for the position they need.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from adapters.bootstrap import event_store_env
from adapters.migrate import migrate_sqlite
from adapters.settings import Settings, Storage
from ledger.application import Ledger
from projections.base import LedgerProjection, bind, catch_up
from projections.billing import BillingQueries
from projections.contract_summary import ContractSummaryQueries
from projections.deadlines import DeadlineQueries
from projections.price_timeline import PriceTimelineQueries
from projections.registry import VIEWS
from projections.sql import APPLICATION_NAME, SqlView

WAIT_FIRST_POLL = 0.001  # seconds before a reader looks at a view's position again
WAIT_LONGEST_POLL = 0.02  # ... doubling up to this


@dataclass(frozen=True)
class ViewStatus:
    """A view's position against the head of the notification log."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events the view has not applied yet."""
        return max(self.head - self.position, 0)


def view_env(settings: Settings, views_path: Path | None = None) -> dict[str, str]:
    """The event library's environment for the views of ``settings``."""
    env = event_store_env(settings)
    env.pop("CIPHER_TOPIC", None)  # views hold no event payloads
    env.pop("CIPHER_KEY", None)
    if settings.storage is Storage.MEMORY:
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["SQLITE_DBNAME"] = str(views_path)
    # A view writes from one thread and is read now and then: a small pool keeps
    # four views (and a worker's subscriptions) well inside max_connections. At
    # most 3 per view: with `ledger serve --workers 2` and 64 clients the
    # benchmark saw 89 sessions of PostgreSQL's default 100 with 5 per view.
    env["POSTGRES_POOL_SIZE"] = "1"
    env["POSTGRES_MAX_OVERFLOW"] = "2"
    return env


def build_view(name: str, settings: Settings, env: dict[str, str]) -> SqlView:
    """Construct one view the way the library's ``ProjectionRunner`` does."""
    spec = VIEWS[name]
    view_class: type[SqlView] = (
        spec.postgres if settings.storage is Storage.POSTGRES else spec.sqlite
    )
    factory = InfrastructureFactory[Any].construct(env=Environment(name, env))
    view = factory.tracking_recorder(view_class)
    assert isinstance(view, SqlView)  # noqa: S101 - built from SqlView subclasses
    return view


class Views:
    """The four read models of one runtime."""

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        """Build the views (and, in memory mode, their temporary database)."""
        self.settings = settings
        self.ledger = ledger
        self._tmp: Path | None = None
        views_path = None
        if settings.storage is Storage.MEMORY:
            self._tmp = Path(tempfile.mkdtemp(prefix="kontraktledger-views-"))
            views_path = self._tmp / "views.sqlite"
            migrate_sqlite(views_path)
        self.env = view_env(settings, views_path)
        self.views: dict[str, SqlView] = {n: build_view(n, settings, self.env) for n in VIEWS}
        self._projections: dict[str, LedgerProjection[Any]] = {}
        self._lock = threading.Lock()

    # --- typed access -------------------------------------------------------------

    @property
    def summary(self) -> ContractSummaryQueries:
        """The contract summary."""
        view = self.views["contract_summary"]
        assert isinstance(view, ContractSummaryQueries)  # noqa: S101
        return view

    @property
    def timeline(self) -> PriceTimelineQueries:
        """The price timeline."""
        view = self.views["price_timeline"]
        assert isinstance(view, PriceTimelineQueries)  # noqa: S101
        return view

    @property
    def deadlines(self) -> DeadlineQueries:
        """The deadlines."""
        view = self.views["deadlines"]
        assert isinstance(view, DeadlineQueries)  # noqa: S101
        return view

    @property
    def billing(self) -> BillingQueries:
        """The billing feed, billed amounts and pending adjustments."""
        view = self.views["billing"]
        assert isinstance(view, BillingQueries)  # noqa: S101
        return view

    # --- keeping up -----------------------------------------------------------------

    def head(self) -> int:
        """The notification id of the last recorded event (0: none)."""
        return int(self.ledger.recorder.max_notification_id() or 0)

    def catch_up(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Apply the events each view has not seen yet (embedded mode); returns counts."""
        applied = {}
        with self._lock:
            for name in names or VIEWS:
                projection = self._projection(name)
                try:
                    applied[name] = catch_up(projection, self.ledger)
                finally:
                    if projection.broken:
                        del self._projections[name]
        return applied

    def wait(
        self,
        position: int | None = None,
        names: Iterable[str] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Make the named views (default: all) include ``position`` (default: the head).

        ``timeout``: seconds (default: the setting ``view_wait_seconds``), then TimeoutError.

        Embedded mode catches up here; with PostgreSQL workers it waits for them.
        A reader passes the position of its own last write (read-your-writes),
        so a reader that wrote nothing recently does not wait at all.

        The library's ``TrackingRecorder.wait`` sleeps 100 ms before its second
        look, then 200, 400 and 800 ms: a view a few milliseconds behind made a
        list take a tenth of a second. Here the polls start at 1 ms and back
        off to 20 ms; each poll is one indexed lookup of the tracking table.
        """
        chosen = list(names or VIEWS)
        if self.settings.storage is not Storage.POSTGRES:
            self.catch_up(chosen)
            return
        target = self.head() if position is None else position
        if target <= 0:
            return
        deadline = time.monotonic() + (timeout or self.settings.view_wait_seconds)
        for name in chosen:
            view = self.views[name]
            pause = WAIT_FIRST_POLL
            while not view.has_tracking_id(APPLICATION_NAME, target):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = (
                        f"view {name} is at {view.position()}, not {target}: "
                        "is `ledger project` running?"
                    )
                    raise TimeoutError(msg)
                time.sleep(min(pause, remaining))
                pause = min(pause * 2, WAIT_LONGEST_POLL)

    def status(self) -> list[ViewStatus]:
        """Each view's position against the head."""
        head = self.head()
        return [ViewStatus(n, v.position(), head) for n, v in self.views.items()]

    def rebuild(self, name: str) -> int:
        """Empty the view and replay it from the first event; returns events applied."""
        with self._lock:
            self.views[name].reset()
            self._projections.pop(name, None)
        return self.catch_up([name])[name]

    def close(self) -> None:
        """Release connections and the temporary database."""
        for view in self.views.values():
            view.datastore.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def _projection(self, name: str) -> LedgerProjection[Any]:
        projection = self._projections.get(name)
        if projection is None:
            projection_class = bind(
                VIEWS[name].projection, self.ledger, batch_size=self.settings.view_batch_size
            )
            projection = projection_class(self.views[name])
            self._projections[name] = projection
        return projection


def run_workers(
    settings: Settings,
    names: Iterable[str],
    *,
    stop: threading.Event,
    linger: float = 0.05,
) -> None:
    """Keep the named views up to date with the library's ProjectionRunner (PostgreSQL).

    Runs until ``stop`` is set; re-raises a projection's error so that the
    process exits and its supervisor restarts it from the committed position.
    """
    env = view_env(settings)
    env["CREATE_TABLE"] = "n"
    source = Ledger(event_store_env(settings) | {"CREATE_TABLE": "n"})
    try:
        with ExitStack() as stack:
            runners = [
                stack.enter_context(
                    ProjectionRunner(
                        application_class=Ledger,
                        projection_class=bind(
                            VIEWS[name].projection, source, batch_size=settings.view_batch_size
                        ),
                        view_class=VIEWS[name].postgres,
                        env=env,
                    )
                )
                for name in names
            ]
            while not stop.is_set():
                for runner in runners:
                    runner.run_forever(timeout=linger / max(len(runners), 1))
                    projection = runner.projection
                    assert isinstance(projection, LedgerProjection)  # noqa: S101
                    projection.flush_if_idle(linger)
            for runner in runners:  # write what arrived before the stop
                projection = runner.projection
                assert isinstance(projection, LedgerProjection)  # noqa: S101
                projection.flush()
    finally:
        source.close()
