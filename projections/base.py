"""What every read model shares: folding contracts, following sheets, batching.

A projection sees the ledger's events in notification order. It folds each
contract event onto the contract it keeps in memory (the same ``mutate`` the
repository uses, so the state is exactly the aggregate's), remembers when each
event was recorded, and follows the tariff sheets, so that at every position it
knows the contracts and sheets *as known at that position*. A rebuild replays
the same events in the same order and therefore writes the same rows.

Rows are written in batches: a batch's rows and the position of its last
event commit in one transaction (:meth:`~projections.sql.SqlView.writing`).
A contract changed several times in a batch is written once, from its final
state, so the larger the batch the fewer rows are written per event: a batch
ends when it holds ``batch_size`` events or ``max_contracts`` changed
contracts, or when no event has come for a moment (a live worker), or when
the log is read to its end (:func:`catch_up`). The rows are worked out
before the transaction opens (:meth:`LedgerProjection.changes`), and written
set-wise (:class:`~projections.sql.Writes`). A process that dies mid-batch
loses the uncommitted batch only, and starts again after the last committed
position; a contract it has not cached is read back from the event store at
the version the event names, once per process: the views of a process share
what they read back (:class:`SharedFolds`).

The same class runs under the library's ``ProjectionRunner`` (PostgreSQL
workers; the runner thread calls :meth:`process_event`, the worker's main loop
calls :meth:`flush_if_idle`) and under :func:`catch_up` (embedded SQLite:
read the notification log from the view's position, then flush).
"""

from __future__ import annotations

import datetime as dt
import pickle
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger.clock import COPENHAGEN
from ledger.contract import Contract
from ledger.invoice import Invoice
from ledger.tariff_sheet import TariffSheet
from projections.sql import APPLICATION_NAME, SqlView, Writes

SHEET_TOPICS = (
    "ledger.tariff_sheet:TariffSheet.Published",
    "ledger.tariff_sheet:TariffSheet.Corrected",
)

TView = TypeVar("TView", bound=SqlView)


class Source(Protocol):
    """The event store the projections read back from (the ledger application)."""

    events: Any
    recorder: Any
    mapper: Any


@dataclass
class Folded:
    """A contract as folded so far, and the local day each of its versions was recorded."""

    contract: Contract
    recorded_on: dict[int, dt.date] = field(default_factory=dict)
    # The position and name of the last event that can change what is billed
    # (a contract event outside NO_PRICE_EFFECT, or a sheet of its offer);
    # 0 when not known in this process (the view keeps the larger value).
    priced_at: int = 0
    priced_by: str = ""  # e.g. "PlaceReoccupied v9"


NO_PRICE_EFFECT = frozenset(
    {
        # Events that never change a price or the billable days (pkt. 4, 10, 14,
        # 16 requests, follow-ups): G15 keeps paying through absence and non-delivery.
        "FollowUpHeld",
        "AbsenceStarted",
        "AbsenceNotified",
        "AbsenceEnded",
        "NonDeliveryReported",
        "ForceMajeureDeclared",
        "FrameworkChangeNotified",
        "RenegotiationRequested",
    }
)


# How many folded contracts the folders of one source share (see SharedFolds).
# An entry is only needed from the moment the first folder misses a contract
# until the other folders of the process (four views) reach the same event:
# live workers run within a page or batch of each other, and embedded
# catch-up runs the views one after another over the same few new events. A
# few thousand misses cover that window; a pickled contract of 100 events is
# about 7 kB (20 events: about 2 kB), so the cache holds at most a few tens of
# megabytes per process.
SHARED_FOLDS = 4_096

# A folder waits at most this long for another folder's load of the same
# contract (normally milliseconds) before it reads the store itself.
SHARED_LOAD_WAIT = 10.0

_Key = tuple[uuid.UUID, int]


class SharedFolds:
    """Contracts recently loaded from the store, shared by the folders of one source.

    Each projection folds its own copy of a contract, in place, so a folder
    that misses cannot simply take another folder's object. What is shared is
    an immutable pickle of the contract and its recording days, keyed by
    (contract id, version); each folder that takes it gets a private copy.
    ``pickle.loads`` of a 100-event contract costs about 0.12 ms, against
    about 13 ms to read, decode and fold its events again, and about 1 ms for
    ``copy.deepcopy`` (measured on SQLite and PostgreSQL with the AES cipher).

    The state is shared without ``priced_at``/``priced_by``: those belong to
    the projection that set them, and a load never sets them.

    Loads are single-flight: the folders of a worker run in their own threads
    and receive each event at about the same time, so without it they would
    all miss the same contract together and all read the store.
    """

    def __init__(self, capacity: int = SHARED_FOLDS) -> None:
        """Keep at most ``capacity`` contract states, least recently used dropped first."""
        self.capacity = capacity
        self._states: OrderedDict[_Key, bytes] = OrderedDict()
        self._loading: dict[_Key, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many contract states are kept."""
        with self._lock:
            return len(self._states)

    def fetch(self, contract_id: uuid.UUID, version: int, read: Callable[[], Folded]) -> Folded:
        """A private copy of the contract at ``version``: shared if kept, else ``read()``.

        When another thread is reading the same state, wait for it rather
        than read the store a second time.
        """
        key = (contract_id, version)
        with self._lock:
            state = self._take(key)
            loading = None if state is not None else self._loading.get(key)
            mine = None
            if state is None and loading is None:
                mine = self._loading[key] = threading.Event()
        if state is not None:
            return _thaw(state)
        if mine is None:
            assert loading is not None  # noqa: S101 - one of the three cases above
            loading.wait(SHARED_LOAD_WAIT)
            with self._lock:
                state = self._take(key)
            # Absent if the other read failed or found an older version: read alone.
            return read() if state is None else _thaw(state)
        try:
            folded = read()
            self.put(folded)
        finally:
            with self._lock:
                del self._loading[key]
            mine.set()
        return folded

    def put(self, folded: Folded) -> None:
        """Keep a copy of ``folded`` (its contract and recording days) for the other folders."""
        key = (folded.contract.id, folded.contract.version)
        with self._lock:
            if self._take(key) is not None:
                return  # kept already: skip the pickling
        # Pickled outside the lock: it takes a fraction of a millisecond. The
        # object is the caller's own, not changed by another thread meanwhile.
        state = pickle.dumps((folded.contract, folded.recorded_on), pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._states[key] = state
            self._states.move_to_end(key)
            while len(self._states) > self.capacity:
                self._states.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept state."""
        with self._lock:
            self._states.clear()

    def _take(self, key: _Key) -> bytes | None:
        # The lock is held by the caller.
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state


# One SharedFolds per source, dropped with the source: keyed by the object
# itself (weakly), not by id(), which a later source may reuse.
_SHARED: weakref.WeakKeyDictionary[object, SharedFolds] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_folds(source: Source) -> SharedFolds:
    """The cache that the folders reading from ``source`` share in this process."""
    with _SHARED_LOCK:
        try:
            shared = _SHARED.get(source)
            if shared is None:
                shared = _SHARED[source] = SharedFolds()
        except TypeError:  # not weakly referenceable or not hashable: share nothing
            return SharedFolds()
        return shared


def _thaw(state: bytes) -> Folded:
    # Only bytes this process pickled itself (SharedFolds.put) are ever loaded.
    contract, recorded_on = pickle.loads(state)  # noqa: S301
    return Folded(contract, recorded_on)


class ContractFolder:
    """Contracts folded from their events, most recently used kept in memory.

    A miss first asks the cache the folders of the same source share
    (:class:`SharedFolds`), so that the four views of a process read and
    decode a contract from the store once, not four times.

    The state after :meth:`apply` is not shared: pickling a contract costs
    about 0.2 ms, more than 20 times the fold of an event (about 9 µs), and
    would be paid on every event to spare the rare miss of a view that is
    behind the others. The first miss of that view shares what it loads.
    """

    def __init__(
        self, source: Source, capacity: int = 50_000, shared: SharedFolds | None = None
    ) -> None:
        """Fold onto a cache of ``capacity`` contracts; misses read ``shared``, then the store.

        ``shared`` defaults to the cache of every folder of ``source`` in this process.
        """
        self.source = source
        self.capacity = capacity
        self.shared = shared_folds(source) if shared is None else shared
        self._cache: OrderedDict[uuid.UUID, Folded] = OrderedDict()

    def apply(self, event: Contract.Event) -> Folded:
        """The contract after ``event``."""
        contract_id = event.originator_id
        folded = self._cache.get(contract_id)
        version = event.originator_version
        if version == 1:
            created: Any = event.mutate(None)
            folded = Folded(created, {1: _local_day(event)})
        elif folded is not None and folded.contract.version == version - 1:
            event.mutate(folded.contract)
            folded.recorded_on[version] = _local_day(event)
        else:
            folded = self.load(contract_id, version)
        self._remember(contract_id, folded)
        return folded

    def get(self, contract_id: uuid.UUID, version: int) -> Folded:
        """The contract at ``version``: from memory when it is there, else loaded."""
        folded = self._cache.get(contract_id)
        if folded is None or folded.contract.version != version:
            folded = self.load(contract_id, version)
            self._remember(contract_id, folded)
        return folded

    def load(self, contract_id: uuid.UUID, version: int) -> Folded:
        """The contract folded from its stored events up to ``version``, as a new object.

        Taken from the shared cache when another folder of the source has just
        loaded it; otherwise read from the store and shared.
        """
        return self.shared.fetch(contract_id, version, lambda: self._read(contract_id, version))

    def _read(self, contract_id: uuid.UUID, version: int) -> Folded:
        """Fold the contract's stored events up to ``version`` (always reads the store)."""
        contract: Contract | None = None
        recorded: dict[int, dt.date] = {}
        for stored in self.source.events.get(contract_id, lte=version):
            contract = stored.mutate(contract)
            recorded[stored.originator_version] = _local_day(stored)
        if contract is None:
            msg = f"contract {contract_id} has no events up to version {version}"
            raise LookupError(msg)
        return Folded(contract, recorded)

    def cached(self) -> Iterable[Folded]:
        """The contracts in memory."""
        return self._cache.values()

    def _remember(self, contract_id: uuid.UUID, folded: Folded) -> None:
        self._cache[contract_id] = folded
        self._cache.move_to_end(contract_id)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)


class SheetBook:
    """The tariff sheets as known at the position the projection has reached."""

    def __init__(self) -> None:
        """Start with no sheets."""
        self._sheets: dict[tuple[str, int], TariffSheet] = {}

    def apply(self, event: TariffSheet.Event) -> TariffSheet:
        """Fold a sheet event; returns the sheet after it."""
        key = None
        current: TariffSheet | None = None
        for candidate_key, candidate in self._sheets.items():
            if candidate.id == event.originator_id:
                key, current = candidate_key, candidate
                break
        sheet: Any = event.mutate(current)
        self._sheets[key or (sheet.offer, sheet.year)] = sheet
        return cast("TariffSheet", sheet)

    def sheet(self, offer: str, year: int) -> TariffSheet | None:
        """The offer's sheet for ``year``, if published by now."""
        return self._sheets.get((offer, year))

    def load(self, source: Source, before: int) -> None:
        """Fold every sheet event with a notification id below ``before``."""
        start = 1
        while start < before:
            page = source.recorder.select_notifications(
                start, 500, stop=before - 1, topics=list(SHEET_TOPICS)
            )
            if not page:
                return
            for notification in page:
                event = source.mapper.to_domain_event(notification)
                self.apply(event)
            start = page[-1].id + 1


class LedgerProjection(Projection[TView], Generic[TView]):
    """A read model of the ledger: folds contracts, follows sheets, writes in batches."""

    name = "ledger_projection"
    source: ClassVar[Source | None] = None  # bound by :func:`bind`
    uses_sheets: ClassVar[bool] = True
    # A batch ends after this many events or changed contracts (ADR 0012).
    batch_size: ClassVar[int] = 250_000
    max_contracts: ClassVar[int] = 50_000  # the contract cache's capacity
    # A batch that rewrote this many contracts refreshes the planner's statistics.
    analyze_after: ClassVar[int] = 5_000

    def __init__(self, view: TView) -> None:
        """Build the projection over ``view``; :func:`bind` must have set the source."""
        super().__init__(view)
        if self.source is None:
            msg = f"{type(self).__name__} is not bound to an event store; use bind()"
            raise RuntimeError(msg)
        self.contracts = ContractFolder(self.source)
        self.sheets = SheetBook()
        self._lock = threading.RLock()
        self._started = False
        self._fresh = False  # the view held nothing when this instance started
        self._dirty: dict[uuid.UUID, Folded] = {}
        self._invoices: list[Invoice.Issued] = []
        self._pending: Tracking | None = None
        self._count = 0
        self._last_event = time.monotonic()
        self._first_pending = self._last_event  # when the pending batch got its first event
        self.broken = False

    # --- the library's interface -----------------------------------------------

    def process_event(self, domain_event: object, tracking: Tracking) -> None:
        """Apply one event; the batch is written when full or when idle."""
        with self._lock:
            if not self._started:
                self._start(tracking)
            position = tracking.notification_id
            if isinstance(domain_event, Contract.Event):
                folded = self.contracts.apply(domain_event)
                pending = self._dirty.get(folded.contract.id)
                if pending is not None and pending is not folded:
                    # Dropped from memory mid-batch and read back: keep the batch's cause.
                    folded.priced_at, folded.priced_by = pending.priced_at, pending.priced_by
                name = type(domain_event).__name__
                if name not in NO_PRICE_EFFECT:
                    folded.priced_at = position
                    folded.priced_by = f"{name} v{domain_event.originator_version}"
                self._dirty[folded.contract.id] = folded
            elif isinstance(domain_event, TariffSheet.Event):
                sheet = self.sheets.apply(domain_event)
                if self.uses_sheets:
                    cause = f"TariffSheet.{type(domain_event).__name__} {sheet.offer} {sheet.year}"
                    for folded in self._contracts_of_offer(sheet.offer):
                        folded.priced_at, folded.priced_by = position, cause
                        self._dirty[folded.contract.id] = folded
            elif isinstance(domain_event, Invoice.Issued):
                self._invoices.append(domain_event)
            self._note_pending(tracking)
            if self._count >= self.batch_size or len(self._dirty) >= self.max_contracts:
                self.flush()

    # --- batching ----------------------------------------------------------------

    def _note_pending(self, tracking: Tracking) -> None:
        now = time.monotonic()
        if self._pending is None:
            self._first_pending = now
        self._pending = tracking
        self._count += 1
        self._last_event = now

    def flush(self) -> None:
        """Write the pending batch and its position in one transaction."""
        with self._lock:
            if self._pending is None:
                return
            contracts = list(self._dirty.values())
            try:
                writes = self.changes(contracts, self._invoices)
                with self.view.writing(self._pending) as cursor:
                    cursor.write(writes)
                if len(contracts) >= self.analyze_after:
                    self.view.analyze()
            except BaseException:
                self.broken = True  # memory is ahead of the view: this instance must go
                raise
            self._dirty = {}
            self._invoices = []
            self._pending = None
            self._count = 0

    def flush_if_idle(self, linger: float = 0.05, max_delay: float = 0.02) -> None:
        """Flush when no event came for ``linger`` seconds, or the batch is ``max_delay`` old.

        The second bound keeps a live view close behind the log under steady
        load, when the log is never idle: readers wait for the view to reach
        the head (read-your-writes), so its delay is their latency.
        """
        with self._lock:
            if self._pending is None:
                return
            now = time.monotonic()
            if now - self._last_event >= linger or now - self._first_pending >= max_delay:
                self.flush()

    # --- for subclasses -----------------------------------------------------------

    def changes(self, contracts: Sequence[Folded], invoices: Sequence[Invoice.Issued]) -> Writes:
        """The rows of one batch's changed contracts (and invoices), to be written together.

        Runs before the batch's transaction opens; it may read the view.
        """
        raise NotImplementedError

    def contract_versions(self, offer: str) -> list[tuple[uuid.UUID, int]]:
        """The contracts of ``offer`` in the view, with the version the view holds."""
        return self.view.contract_versions(offer)

    # --- internals ----------------------------------------------------------------

    def _start(self, tracking: Tracking) -> None:
        self._fresh = self.view.position() == 0
        if self.uses_sheets and self.source is not None:
            self.sheets.load(self.source, before=tracking.notification_id)
        self._started = True

    def _contracts_of_offer(self, offer: str) -> list[Folded]:
        found = {
            f.contract.id: f for f in self.contracts.cached() if f.contract.provider.offer == offer
        }
        for folded in self._dirty.values():
            if folded.contract.provider.offer == offer:
                found[folded.contract.id] = folded
        for contract_id, version in self.contract_versions(offer):
            if contract_id not in found:
                found[contract_id] = self.contracts.get(contract_id, version)
        return list(found.values())


TProjection = TypeVar("TProjection", bound=LedgerProjection[Any])


def bind(
    projection_class: type[TProjection], source: Source, *, batch_size: int | None = None
) -> type[TProjection]:
    """A subclass of ``projection_class`` that reads back from ``source``.

    The library's ``ProjectionRunner`` constructs the projection itself, from
    its class; binding the event store (and the batch size) to the class lets
    it do so.
    """
    return type(
        projection_class.__name__,
        (projection_class,),
        {
            "name": projection_class.name,
            "source": source,
            "batch_size": batch_size or projection_class.batch_size,
            "__module__": __name__,
        },
    )


def catch_up(projection: LedgerProjection[Any], source: Application[Any]) -> int:
    """Apply every event after the view's position (embedded mode); returns how many."""
    applied = 0
    position = projection.view.position()
    while True:
        page = source.recorder.select_notifications(position + 1, 500)
        if not page:
            break
        for notification in page:
            event = source.mapper.to_domain_event(notification)
            projection.process_event(event, Tracking(APPLICATION_NAME, notification.id))
        applied += len(page)
        position = page[-1].id
    projection.flush()
    return applied


def _local_day(event: object) -> dt.date:
    timestamp: dt.datetime = getattr(event, "timestamp")  # noqa: B009 - any stored event
    return timestamp.astimezone(COPENHAGEN).date()
