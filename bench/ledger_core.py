"""Ledger core benchmark (issue 2): command rate and contract load time on PostgreSQL.

Run by hand, never by the test suite::

    .venv/bin/python bench/ledger_core.py [--commands N] [--rounds R] [--profile]

What it measures, all in one run against one PostgreSQL database:

* **Application-service rate**: contract commands per second through the
  ``Ledger`` use cases. Each command is one use-case call: load the contract
  (``repository.get``), authorise the caller, decide, record one event, save.
  The commands are a typical mix (follow-up, absence start, absence end, step
  change), sent round-robin to a set of placed contracts.
* **Library rate**: ``Application.save`` of a minimal ``Aggregate`` with one
  trivial ``@event`` method on a plain ``eventsourcing`` application. Each
  operation does the same shape of work: ``repository.get``, trigger one
  event, ``save``. The aggregates start with as many events as a placed
  contract (3) and receive as many operations each, so both sides replay
  the same number of events per load.
* **Ratio**: application-service rate / library rate (medians over rounds).
  Within every round the workloads are interleaved in turns of ``--chunk``
  operations, the order rotating, so a disturbance hits all of them alike.
* **Informative rates**: the same commands through a ``Ledger`` with
  snapshotting off (it has no snapshot store, so a load is one query fewer),
  and the library's save-only rate: trigger + ``save`` on an aggregate held
  in memory, with no load.
* **Contract load time**: ``Ledger.get_contract`` of a contract of 200 events
  with the snapshot store (the ledger snapshots every 50 events, so the latest
  snapshot is at version 200) and without one (a ``Ledger`` built with
  snapshotting disabled, reading the same tables).

The benchmark uses its own schema (``kl_bench`` by default), dropped and
recreated at the start, so it never touches other data. The aggregate cache is
switched off explicitly (``AGGREGATE_CACHE_MAXSIZE`` empty), so every load
reads PostgreSQL.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib.metadata
import io
import math
import os
import platform
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from adapters.event_store import RECORDER_TOPIC
from ledger.application import Ledger
from ledger.contract import Contract
from ledger.values import (
    AbsenceKind,
    Actor,
    DataRole,
    Municipality,
    NoticePeriod,
    Operator,
    PaymentOption,
    Provider,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
)

# --- targets (issue 2) ---------------------------------------------------------

TARGET_RATIO = 0.75
TARGET_LOAD_MS = 20.0

# --- example contract (copied from tests/ledger/examples.py, so the bench
# does not depend on the tests) ---------------------------------------------------

BUYER_CVR = "29189919"
PROVIDER_CVR = "11715311"
BUYER = Municipality("Eksempel Kommune", BUYER_CVR, "5798000000018")
PROVIDER = Provider(
    "slotsvaenget-stottepakken", "Støttepakken, Slotsvænget", PROVIDER_CVR, Operator.MUNICIPAL
)
OPERATOR = Actor("system", Role.OPERATOR, "key-ops", "req-1")
BUYER_ADMIN = Actor(BUYER_CVR, Role.BUYER_ADMIN, "key-buyer", "req-2")
PROVIDER_ADMIN = Actor(PROVIDER_CVR, Role.PROVIDER_ADMIN, "key-provider", "req-3")
START = dt.date(2025, 1, 1)
CITIZEN = uuid.UUID("00000000-0000-4000-8000-000000000001")
LINES = (
    ServiceLineSpec("SEL §85", "slotsvaenget-85", "3", Decimal(26), Unit.HOURS_PER_WEEK, START),
    ServiceLineSpec("SEL §104", "slotsvaenget-104", "2:2", Decimal(23), Unit.HOURS_PER_WEEK, START),
)
TERMS = Terms(
    payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED,
    notice_period=NoticePeriod(months=3),
    data_role=DataRole.INDEPENDENT_CONTROLLER,
)
PLACED_EVENTS = 3  # Drafted, PlaceOffered, PlacementFinalised
LOAD_EVENTS = 200
SNAPSHOT_INTERVAL = 50
WARM_UP_COMMANDS = 200
WARM_UP_LOADS = 5

# --- the applications ------------------------------------------------------------


class LedgerWithoutSnapshots(Ledger):
    """The ledger reading the same tables, with snapshotting switched off."""

    name = "Ledger"  # pinned: the same tables as the ledger
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {}


class Counter(Aggregate):
    """The minimal aggregate: one trivial event."""

    def __init__(self) -> None:
        """Start at zero."""
        self.ticks = 0

    @event("Ticked")
    def tick(self) -> None:
        """Count one."""
        self.ticks += 1


class LibraryApp(Application[uuid.UUID]):
    """A plain library application on the same database."""

    name = "BenchLibrary"  # pinned: names its tables


# --- settings and machine ------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Where PostgreSQL is and which schema the bench owns."""

    host: str
    port: str
    user: str
    password: str
    dbname: str
    schema: str

    @classmethod
    def from_environment(cls, schema: str) -> Settings:
        """The same variables and defaults as the tests (see tests/conftest.py)."""
        return cls(
            host=os.environ.get("POSTGRES_HOST", "127.0.0.1"),
            port=os.environ.get("POSTGRES_PORT", "5432"),
            user=os.environ.get("POSTGRES_USER", "postgres"),
            password=os.environ.get("POSTGRES_PASSWORD", ""),
            dbname=os.environ.get("POSTGRES_DBNAME", "test"),
            schema=schema,
        )

    def conninfo(self) -> str:
        """A psycopg connection string."""
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.dbname,
        )

    def env(self, **more: str) -> dict[str, str]:
        """The event-library environment.

        Every setting that changes what is measured is given explicitly,
        because the library lets ``os.environ`` fill in what ``env`` leaves out.
        """
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            # The recorder the service runs with (adapters/event_store.py, ADR 0016).
            "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": self.port,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_SCHEMA": self.schema,
            "CREATE_TABLE": "y",
            "AGGREGATE_CACHE_MAXSIZE": "",  # no cache: every load reads the database
            "CIPHER_TOPIC": "",  # no encryption ...
            "COMPRESSOR_TOPIC": "",  # ... and no compression, on either side
            **more,
        }


def reset_schema(settings: Settings, *, drop_only: bool = False) -> None:
    """Drop the bench schema and (unless ``drop_only``) create it empty."""
    schema = sql.Identifier(settings.schema)
    with psycopg.connect(settings.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
        if not drop_only:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(schema))


def show(conn: psycopg.Connection[Any], name: str) -> str:
    """A server setting."""
    row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
    return str(row[0]) if row else "?"


def machine(settings: Settings) -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    with psycopg.connect(settings.conninfo()) as conn:
        server, fsync, sync = (
            show(conn, name) for name in ("server_version", "fsync", "synchronous_commit")
        )
    where = f"{settings.host}:{settings.port}"
    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("memory", memory),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("PostgreSQL", f"{server} at {where} (fsync={fsync}, synchronous_commit={sync})"),
        ("eventsourcing", importlib.metadata.version("eventsourcing")),
        ("psycopg", importlib.metadata.version("psycopg")),
    ]


# --- command workloads ---------------------------------------------------------------

COMMAND_KINDS = ("hold_follow_up", "start_absence", "end_absence", "change_step")


class LedgerWorkload:
    """Placed contracts receiving a round-robin mix of typical commands."""

    def __init__(self, ledger: Ledger, aggregates: int) -> None:
        """Draft and place ``aggregates`` contracts (not timed)."""
        self.ledger = ledger
        self.ids: list[uuid.UUID] = []
        for _ in range(aggregates):
            contract_id = ledger.draft_contract(
                buyer=BUYER,
                provider=PROVIDER,
                citizen_id=CITIZEN,
                lines=LINES,
                terms=TERMS,
                actor=BUYER_ADMIN,
            )
            ledger.offer_place(contract_id, START, actor=PROVIDER_ADMIN)
            ledger.finalise_placement(contract_id, START, actor=OPERATOR)
            self.ids.append(contract_id)
        self.sent = [0] * aggregates
        self.open_absence: dict[uuid.UUID, str] = {}

    def command(self, index: int) -> None:
        """Send command ``index`` (one use-case call: load, decide, save one event)."""
        slot = index % len(self.ids)
        contract_id = self.ids[slot]
        nth = self.sent[slot]
        self.sent[slot] += 1
        day = START + dt.timedelta(days=nth + 1)
        kind = COMMAND_KINDS[nth % len(COMMAND_KINDS)]
        if kind == "hold_follow_up":
            self.ledger.hold_follow_up(contract_id, "1", day, actor=BUYER_ADMIN)
        elif kind == "start_absence":
            self.open_absence[contract_id] = self.ledger.start_absence(
                contract_id, AbsenceKind.HOSPITAL, day, actor=PROVIDER_ADMIN
            )
        elif kind == "end_absence":
            absence_id = self.open_absence.pop(contract_id)
            self.ledger.end_absence(contract_id, absence_id, day, actor=PROVIDER_ADMIN)
        else:
            step = "4" if (nth // len(COMMAND_KINDS)) % 2 == 0 else "3"
            self.ledger.change_step(
                contract_id,
                "1",
                step,
                effective_from=day,
                agreed_on=day,
                agreement_ref=f"agreement {nth}",
                actor=BUYER_ADMIN,
            )


class LibraryWorkload:
    """Minimal aggregates receiving load + one event + save, round-robin."""

    def __init__(self, app: LibraryApp, aggregates: int) -> None:
        """Create ``aggregates`` counters with as many events as a placed contract."""
        self.app = app
        self.ids: list[uuid.UUID] = []
        for _ in range(aggregates):
            counter = Counter()
            for _ in range(PLACED_EVENTS - 1):
                counter.tick()
            app.save(counter)
            self.ids.append(counter.id)
        self.held: dict[uuid.UUID, Counter] = {}

    def command(self, index: int) -> None:
        """Load an aggregate, trigger one event, save."""
        counter: Counter = self.app.repository.get(self.ids[index % len(self.ids)])
        counter.tick()
        self.app.save(counter)

    def save_only(self, index: int) -> None:
        """Trigger one event on an aggregate held in memory and save (no load)."""
        aggregate_id = self.ids[index % len(self.ids)]
        counter = self.held.get(aggregate_id)
        if counter is None:
            counter = self.held[aggregate_id] = self.app.repository.get(aggregate_id)
        counter.tick()
        self.app.save(counter)


@dataclass
class Timer:
    """Accumulates the time and per-operation latencies of one workload."""

    operation: Callable[[int], None]
    done: int = 0
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    def run(self, count: int) -> None:
        """Run the next ``count`` operations, timing each."""
        clock = time.perf_counter
        started = clock()
        for index in range(self.done, self.done + count):
            before = clock()
            self.operation(index)
            self.latencies_ms.append((clock() - before) * 1000)
        self.elapsed += clock() - started
        self.done += count


@dataclass(frozen=True)
class Run:
    """One workload in one round: its rate and per-operation latencies."""

    rate: float
    latencies_ms: list[float]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile by nearest rank."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


APP_SERVICE = "application service (Ledger use case: load+decide+save)"
APP_SERVICE_NO_SNAPSHOTS = "  same, ledger with snapshotting off (informative)"
LIBRARY = "library (repository.get + 1 event + Application.save)"
LIBRARY_SAVE_ONLY = "library save only (1 event + save, no load; informative)"


@dataclass
class CommandFigures:
    """Rates over rounds, per workload."""

    runs: dict[str, list[Run]]

    def median_rate(self, workload: str) -> float:
        """The median rate over rounds."""
        return statistics.median(r.rate for r in self.runs[workload])

    def latency(self, workload: str, fraction: float) -> float:
        """A latency quantile over all rounds, in ms."""
        return percentile([x for r in self.runs[workload] for x in r.latencies_ms], fraction)

    def ratio(self, workload: str = APP_SERVICE) -> float:
        """Median ``workload`` rate / median library rate."""
        return self.median_rate(workload) / self.median_rate(LIBRARY)

    def round_ratios(self, workload: str = APP_SERVICE) -> list[float]:
        """The ratio within each round."""
        return [
            a.rate / b.rate for a, b in zip(self.runs[workload], self.runs[LIBRARY], strict=True)
        ]


def measure_commands(
    apps: tuple[Ledger, Ledger, LibraryApp], args: argparse.Namespace
) -> CommandFigures:
    """Warm up, then ``args.rounds`` rounds of the workloads, interleaved, on fresh aggregates.

    Within a round the workloads take turns in chunks of ``args.chunk``
    operations (the order rotating from chunk to chunk), so a disturbance on
    the machine (a checkpoint, another process) hits all of them alike.
    """
    ledger, unsnapshotted, library = apps
    commands, rounds = args.commands, args.rounds
    aggregates = max(1, commands // args.per_aggregate)
    warm = (
        LedgerWorkload(ledger, 5).command,
        LedgerWorkload(unsnapshotted, 5).command,
        LibraryWorkload(library, 5).command,
        LibraryWorkload(library, 5).save_only,
    )
    for index in range(WARM_UP_COMMANDS):
        for operation in warm:
            operation(index)
    names = (APP_SERVICE, APP_SERVICE_NO_SNAPSHOTS, LIBRARY, LIBRARY_SAVE_ONLY)
    figures = CommandFigures({name: [] for name in names})
    for number in range(rounds):
        timers = [
            Timer(LedgerWorkload(ledger, aggregates).command),
            Timer(LedgerWorkload(unsnapshotted, aggregates).command),
            Timer(LibraryWorkload(library, aggregates).command),
            Timer(LibraryWorkload(library, aggregates).save_only),
        ]
        for turn, start in enumerate(range(0, commands, args.chunk)):
            count = min(args.chunk, commands - start)
            shift = turn % len(timers)
            for timer in timers[shift:] + timers[:shift]:
                timer.run(count)
        for name, timer in zip(names, timers, strict=True):
            figures.runs[name].append(Run(timer.done / timer.elapsed, timer.latencies_ms))
        print(
            f"  round {number + 1}/{rounds}: application service "
            f"{figures.runs[APP_SERVICE][-1].rate:6.1f}/s, "
            f"library {figures.runs[LIBRARY][-1].rate:6.1f}/s, "
            f"ratio {figures.round_ratios()[-1]:.3f}",
            flush=True,
        )
    return figures


# --- loading ---------------------------------------------------------------------------


def build_contract(ledger: Ledger, events: int) -> uuid.UUID:
    """A placed contract with follow-ups up to ``events`` events."""
    work = LedgerWorkload(ledger, 1)
    contract_id = work.ids[0]
    for number in range(events - PLACED_EVENTS):
        day = START + dt.timedelta(days=number + 1)
        ledger.hold_follow_up(contract_id, "1", day, actor=BUYER_ADMIN)
    return contract_id


def time_loads(load: Callable[[], object], loads: int) -> list[float]:
    """Warm up, then time ``loads`` loads, in ms."""
    for _ in range(WARM_UP_LOADS):
        load()
    clock = time.perf_counter
    times: list[float] = []
    for _ in range(loads):
        before = clock()
        load()
        times.append((clock() - before) * 1000)
    return times


def check_contract(contract: Contract, version: int) -> None:
    """Fail loudly if a load returned the wrong state."""
    follow_ups = len(contract.lines["1"].follow_ups)
    if contract.version != version or follow_ups != version - PLACED_EVENTS:
        msg = f"loaded version {contract.version} with {follow_ups} follow-ups"
        raise RuntimeError(msg)


LOAD_WITH_SNAPSHOT = "200 events, with snapshot (snapshot v200, 0 events replayed)"
LOAD_WITHOUT_SNAPSHOT = "200 events, without snapshot (200 events replayed)"
LOAD_WORST = "249 events, with snapshot (snapshot v200 + 49 events; informative)"
LOAD_LIBRARY = "library: minimal aggregate, 200 events, no snapshot (informative)"


def measure_loads(apps: tuple[Ledger, Ledger, LibraryApp], loads: int) -> dict[str, list[float]]:
    """Load times of a 200-event contract with and without snapshots (and extras)."""
    ledger, unsnapshotted, library = apps
    if ledger.snapshots is None:
        msg = "the ledger has no snapshot store"
        raise RuntimeError(msg)
    contract_id = build_contract(ledger, LOAD_EVENTS)
    latest = list(ledger.snapshots.get(contract_id, desc=True, limit=1))
    if not latest or latest[0].originator_version != LOAD_EVENTS:
        msg = f"expected the latest snapshot at version {LOAD_EVENTS}"
        raise RuntimeError(msg)
    check_contract(ledger.get_contract(contract_id), LOAD_EVENTS)
    check_contract(unsnapshotted.get_contract(contract_id), LOAD_EVENTS)
    worst = build_contract(ledger, LOAD_EVENTS + SNAPSHOT_INTERVAL - 1)
    check_contract(ledger.get_contract(worst), LOAD_EVENTS + SNAPSHOT_INTERVAL - 1)
    counter = Counter()
    for _ in range(LOAD_EVENTS - 1):
        counter.tick()
    library.save(counter)
    return {
        LOAD_WITH_SNAPSHOT: time_loads(lambda: ledger.get_contract(contract_id), loads),
        LOAD_WITHOUT_SNAPSHOT: time_loads(lambda: unsnapshotted.get_contract(contract_id), loads),
        LOAD_WORST: time_loads(lambda: ledger.get_contract(worst), loads),
        LOAD_LIBRARY: time_loads(lambda: library.repository.get(counter.id), loads),
    }


# --- profiling ------------------------------------------------------------------------


def profile_commands(
    apps: tuple[Ledger, Ledger, LibraryApp], commands: int, per_aggregate: int
) -> str:
    """Profile both command workloads with cProfile (where does the overhead go?)."""
    ledger, _, library = apps
    aggregates = max(1, commands // per_aggregate)
    out = io.StringIO()
    for title, work in (
        ("application service", LedgerWorkload(ledger, aggregates).command),
        ("library", LibraryWorkload(library, aggregates).command),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        for index in range(commands):
            work(index)
        profiler.disable()
        out.write(f"\n=== cProfile: {title}, {commands} commands ===\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


# --- report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One target of the issue and what was measured."""

    target: str
    measured: str
    met: bool


def checks(figures: CommandFigures, loads: dict[str, list[float]]) -> list[Check]:
    """The issue's targets against the figures."""
    ratio = figures.ratio()
    with_snapshot = statistics.median(loads[LOAD_WITH_SNAPSHOT])
    without_snapshot = statistics.median(loads[LOAD_WITHOUT_SNAPSHOT])
    return [
        Check(f"ratio >= {TARGET_RATIO}", f"{ratio:.3f}", ratio >= TARGET_RATIO),
        Check(
            f"load 200 events with snapshot < {TARGET_LOAD_MS:g} ms (median)",
            f"{with_snapshot:.2f} ms",
            with_snapshot < TARGET_LOAD_MS,
        ),
        Check(
            f"load 200 events without snapshot < {TARGET_LOAD_MS:g} ms (median)",
            f"{without_snapshot:.2f} ms",
            without_snapshot < TARGET_LOAD_MS,
        ),
    ]


def report(
    args: argparse.Namespace,
    figures: CommandFigures,
    loads: dict[str, list[float]],
    machine_rows: list[tuple[str, str]],
) -> list[Check]:
    """Print the machine, the figures and the verdicts; return the checks."""
    print("\nMachine")
    for key, value in machine_rows:
        print(f"  {key:<14} {value}")
    aggregates = max(1, args.commands // args.per_aggregate)
    print(
        f"\nCommands: {args.commands} per workload per round, {args.rounds} rounds, "
        f"workloads interleaved in turns of {args.chunk}, "
        f"round-robin over {aggregates} fresh aggregates per workload "
        f"({args.per_aggregate} commands each: {PLACED_EVENTS}"
        f"-{PLACED_EVENTS + args.per_aggregate - 1} events replayed per load)"
    )
    columns = ("median/s", "min/s", "max/s", "p50 ms", "p95 ms")
    print(f"  {'workload':<58} " + " ".join(f"{c:>8}" for c in columns))
    for workload, runs in figures.runs.items():
        rates = [r.rate for r in runs]
        values = (
            statistics.median(rates),
            min(rates),
            max(rates),
            figures.latency(workload, 0.5),
            figures.latency(workload, 0.95),
        )
        print(f"  {workload:<58} " + " ".join(f"{v:8.2f}" for v in values))
    ratios = figures.round_ratios()
    print(
        f"  ratio application service / library: {figures.ratio():.3f} "
        f"(per round {min(ratios):.3f}-{max(ratios):.3f}); "
        f"with snapshotting off: {figures.ratio(APP_SERVICE_NO_SNAPSHOTS):.3f}"
    )

    print(f"\nLoading a contract ({args.loads} loads each, after {WARM_UP_LOADS} warm-up loads)")
    print(f"  {'load':<68} {'median ms':>9} {'p95 ms':>7} {'max ms':>7}")
    for label, times in loads.items():
        print(
            f"  {label:<68} {statistics.median(times):9.2f} "
            f"{percentile(times, 0.95):7.2f} {max(times):7.2f}"
        )

    results = checks(figures, loads)
    print("\nTargets (issue 2)")
    for check in results:
        print(f"  {check.target:<52} {check.measured:>10}  {'PASS' if check.met else 'MISS'}")
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--commands", type=int, default=1000, help="commands per workload per round"
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the median is reported)")
    parser.add_argument(
        "--per-aggregate",
        type=int,
        default=20,
        help="commands each aggregate receives per round (sets the replay length)",
    )
    parser.add_argument(
        "--chunk",
        type=int,
        default=50,
        help="operations per turn when interleaving the workloads within a round",
    )
    parser.add_argument("--loads", type=int, default=50, help="timed loads per load case")
    parser.add_argument("--schema", default="kl_bench", help="PostgreSQL schema the bench owns")
    parser.add_argument(
        "--keep", action="store_true", help="keep the schema afterwards (default: drop it)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile both command workloads and print the top functions",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; exit 1 when a target is missed."""
    args = parse_args(argv)
    settings = Settings.from_environment(args.schema)
    reset_schema(settings)
    rows = machine(settings)
    print(f"Ledger core benchmark on PostgreSQL, schema {settings.schema} (dropped and recreated)")
    apps = (
        Ledger(settings.env(IS_SNAPSHOTTING_ENABLED="y")),
        LedgerWithoutSnapshots(settings.env(IS_SNAPSHOTTING_ENABLED="n")),
        LibraryApp(settings.env(IS_SNAPSHOTTING_ENABLED="n")),
    )
    try:
        if any(app.repository.cache is not None for app in apps):
            msg = "an aggregate cache is on; the bench measures loads from the database"
            raise RuntimeError(msg)
        if apps[0].snapshots is None or any(app.snapshots is not None for app in apps[1:]):
            msg = "only the Ledger may have a snapshot store"
            raise RuntimeError(msg)
        print("Commands (warm-up, then rounds):", flush=True)
        figures = measure_commands(apps, args)
        print("Loads ...", flush=True)
        loads = measure_loads(apps, args.loads)
        results = report(args, figures, loads, rows)
        if args.profile:
            print(profile_commands(apps, args.commands, args.per_aggregate))
    finally:
        for app in apps:
            app.close()
        if not args.keep:
            reset_schema(settings, drop_only=True)
    return 0 if all(check.met for check in results) else 1


if __name__ == "__main__":
    sys.exit(main())
