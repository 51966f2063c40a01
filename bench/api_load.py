"""HTTP API load benchmark (issue 4): ``ledger serve`` on PostgreSQL under a mixed load.

Run by hand, never by the test suite::

    .venv/bin/python bench/api_load.py [--contracts N] [--seconds S] [--clients 16,64]

What it does, all in one run against one PostgreSQL database:

* **Load** (not timed as a target): ``--contracts`` contracts of 20 events
  each, written by the load of ``bench/projections.py`` (same plans, same
  interleaving, same seed), then every view caught up, and an API key made
  for each buyer (buyer administrator) and each provider (provider
  administrator) with ``adapters.api_keys.build_key_store``.
* **Application-service rate**: follow-ups per second through
  ``Ledger.hold_follow_up``, one after the other, timed with the workloads of
  ``bench/ledger_core.py`` (its placed example contracts and its ``Timer``),
  in a schema of its own. Beside it, interleaved, ``ledger_core``'s own mix
  (follow-up, absence start, absence end, step change), informative. It is
  measured before the server starts and again after it stops; the mean of
  the two is the service rate.
* **Mixed load**: ``ledger serve`` as a subprocess; at each ``--clients``
  level, that many closed-loop clients (each sends its next request when
  the previous one has answered, on its own keep-alive connection), 80 %
  reads and 20 % commands, for ``--warm-up`` seconds unmeasured and then
  ``--seconds`` measured. Reads: one contract (60 % of all requests, as its
  buyer or its provider) and the first page of a filtered contract list
  (20 %: a buyer's signed contracts, or a provider's contracts of one
  paragraph). Commands: ``POST /v1/contracts/{id}/follow-ups`` (20 %), each
  client on contracts of its own, so no two clients race for a contract.
* **Command throughput**: the same clients sending only follow-ups, at
  ``--command-clients``, for the same time. Its commands per second against
  the service rate is the checked ratio: the API's cost of a command over
  the application service's. The mixed load's commands per second against
  the service rate is printed too (informative: in the mix, commands can
  have at most a fifth of the server).

The load generator is one asyncio loop in this process, with a minimal
HTTP/1.1 client written for it (``Content-Length`` and chunked bodies,
keep-alive): it needs no dependency and little CPU, which matters on a small
machine where the server, PostgreSQL and the clients share the cores.

The benchmark works in its own database (``kontraktledger_bench`` by default,
created if missing) and its own schemas in it (``api_bench`` for the API's
data, ``api_bench_core`` for the service rate), dropped and recreated at the
start, so it never touches other data.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a file, bench/ is sys.path[0], where bench/projections.py would shadow the
# projections package. The repository root goes first: ``projections`` is then the
# package, and the other bench scripts import as ``bench.projections`` and
# ``bench.ledger_core`` (bench/projections.py takes bench/ off sys.path itself).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import psycopg

from adapters.api_keys import build_key_store
from adapters.bootstrap import build, migrate
from adapters.settings import Settings
from adapters.views import Views
from bench import ledger_core as core
from bench import projections as seed
from ledger.application import Ledger
from ledger.clock import FixedClock, local_instant
from ledger.values import Role
from projections.contract_summary import paragraph_tags

# --- targets (issue 4) ---------------------------------------------------------------

TARGET_P99_MS = 50.0  # p99 latency of the mixed load ...
TARGET_P99_CLIENTS = 16  # ... at this many clients
TARGET_RATIO = 0.6  # command throughput / application-service rate
TARGET_CONTRACTS = 10_000  # the targets are stated for this load ...
TARGET_SECONDS = 60.0  # ... and this measuring time

# --- the mix ---------------------------------------------------------------------------

READ_CONTRACT = "read contract"
LIST_CONTRACTS = "list contracts"
FOLLOW_UP = "follow-up"
READS = (READ_CONTRACT, LIST_CONTRACTS)
Mix = tuple[tuple[str, float], ...]  # kinds of request and their shares
MIXED: Mix = ((READ_CONTRACT, 0.6), (LIST_CONTRACTS, 0.2), (FOLLOW_UP, 0.2))
COMMANDS_ONLY: Mix = ((FOLLOW_UP, 1.0),)
LIST_LIMIT = 50
FIRST_FOLLOW_UP = dt.date(2025, 10, 1)  # after every seeded line's start (LAST_START)
FOLLOW_UP_DAYS = 365  # follow-ups are dated FIRST_FOLLOW_UP + 0..364 days
HTTP_OK = range(200, 300)

# --- the seeded data (bench/projections.py's load) ---------------------------------------

EVENTS_PER_CONTRACT = 20
BUYERS = 98
SAVE_BATCH = 500
SERVICE_SCHEMA_SUFFIX = "_core"
SERVICE_CHUNK = 50
SERVICE_PER_AGGREGATE = 20
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
SESSION_SAMPLE_S = 1.0


# --- settings and data ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A seeded contract as the clients see it."""

    contract_id: str
    buyer: str  # CVR
    provider: str  # CVR or P-number
    paragraph: str  # the first line's paragraph, e.g. "85"
    signed: bool


@dataclass
class Work:
    """The contracts and the keys the clients use."""

    targets: list[Target]
    buyer_tokens: dict[str, str]
    provider_tokens: dict[str, str]

    @property
    def commandable(self) -> list[Target]:
        """The signed contracts: the ones the clients send follow-ups to."""
        return [t for t in self.targets if t.signed]


def seed_data(settings: Settings, args: argparse.Namespace) -> str:
    """Reset the schema and load the contracts; returns what was done.

    With ``--reuse`` and a schema that already holds events, the data is kept
    as it is (a previous run's follow-ups included).
    """
    if args.reuse and log_head(settings) > 0:
        migrate(settings)
        return "reused the existing data"
    seed.reset_schema(settings)
    clock = FixedClock(local_instant(seed.SHEETS_2025_ON, 8))
    runtime = build(settings, clock=clock)
    try:
        seed.check_runtime(runtime)
        rng = random.Random(args.seed)
        buyers = seed.municipalities(BUYERS)
        plans = seed.build_plans(args.contracts, EVENTS_PER_CONTRACT, buyers, rng)
        loaded = seed.load(runtime.ledger, clock, plans, rng, SAVE_BATCH)
        vacuumed = seed.vacuum(settings)
        return (
            f"loaded {len(loaded.contracts):,} contracts, {loaded.events:,} events "
            f"in {loaded.seconds:.1f} s; VACUUM ANALYZE {vacuumed:.1f} s"
        )
    finally:
        runtime.close()


def log_head(settings: Settings) -> int:
    """The notification id of the last event in the schema (0: none, or no schema)."""
    try:
        runtime = build(settings.model_copy(update={"create_tables": False}))
    except Exception:  # noqa: BLE001 - no schema or no tables: nothing to reuse
        return 0
    try:
        return int(runtime.ledger.recorder.max_notification_id() or 0)
    except Exception:  # noqa: BLE001
        return 0
    finally:
        runtime.close()


def prepare_work(settings: Settings) -> tuple[Work, float]:
    """Catch every view up, list the contracts from the summary, make the API keys."""
    runtime = build(settings)
    views = Views(settings, runtime.ledger)
    try:
        seed.check_runtime(runtime)  # the server reads the same environment
        began = time.perf_counter()
        views.catch_up()
        caught_up = time.perf_counter() - began
        today = runtime.ledger.today()
        targets: list[Target] = []
        after: uuid.UUID | None = None
        while page := views.summary.search(today=today, after=after, limit=500):
            for summary in page:
                tags = sorted(paragraph_tags(summary.lines[0].paragraph)) if summary.lines else []
                targets.append(
                    Target(
                        str(summary.contract_id),
                        summary.buyer_cvr,
                        summary.provider_registration,
                        tags[0].removeprefix("§") if tags else "85",
                        signed=summary.status == "signed",
                    )
                )
            after = page[-1].contract_id
    finally:
        views.close()
        runtime.close()
    keys = build_key_store(settings)
    buyer_tokens = {
        org: keys.create(org, Role.BUYER_ADMIN, label="bench api_load")[1]
        for org in sorted({t.buyer for t in targets})
    }
    provider_tokens = {
        org: keys.create(org, Role.PROVIDER_ADMIN, label="bench api_load")[1]
        for org in sorted({t.provider for t in targets})
    }
    return Work(targets, buyer_tokens, provider_tokens), caught_up


# --- the application-service rate (bench/ledger_core.py) ---------------------------------


@dataclass(frozen=True)
class ServiceRate:
    """Commands per second through the ``Ledger`` use cases, medians over rounds."""

    follow_ups: float
    mix: float  # ledger_core's mix of four commands (informative)
    p50_ms: float
    p95_ms: float


def follow_ups(work: core.LedgerWorkload) -> Callable[[int], None]:
    """Follow-ups round-robin over ``work``'s placed contracts, one use-case call each."""

    def command(index: int) -> None:
        slot = index % len(work.ids)
        work.sent[slot] += 1
        day = core.START + dt.timedelta(days=work.sent[slot])
        work.ledger.hold_follow_up(work.ids[slot], "1", day, actor=core.BUYER_ADMIN)

    return command


def measure_service_rate(settings: Settings, commands: int, rounds: int) -> ServiceRate:
    """``ledger_core``'s application-service measurement, follow-ups and its own mix.

    In a schema of its own (dropped afterwards), with the aggregate cache off,
    like ``bench/ledger_core.py``: warm-up, then ``rounds`` rounds on fresh
    contracts, the two workloads interleaved in turns of 50 commands.
    """
    where = core.Settings(
        host=settings.postgres_host,
        port=str(settings.postgres_port),
        user=settings.postgres_user,
        password=settings.postgres_password.get_secret_value(),
        dbname=settings.postgres_dbname,
        schema=settings.postgres_schema + SERVICE_SCHEMA_SUFFIX,
    )
    core.reset_schema(where)
    ledger = Ledger(where.env(IS_SNAPSHOTTING_ENABLED="y"))
    try:
        if ledger.repository.cache is not None:
            msg = "an aggregate cache is on; the service rate must load from the database"
            raise RuntimeError(msg)
        warm = (follow_ups(core.LedgerWorkload(ledger, 5)), core.LedgerWorkload(ledger, 5).command)
        for index in range(core.WARM_UP_COMMANDS):
            for operation in warm:
                operation(index)
        aggregates = max(1, commands // SERVICE_PER_AGGREGATE)
        runs: dict[str, list[float]] = {FOLLOW_UP: [], "mix": []}
        latencies: list[float] = []
        for _ in range(rounds):
            gc.collect()
            timers = (
                core.Timer(follow_ups(core.LedgerWorkload(ledger, aggregates))),
                core.Timer(core.LedgerWorkload(ledger, aggregates).command),
            )
            for turn, start in enumerate(range(0, commands, SERVICE_CHUNK)):
                count = min(SERVICE_CHUNK, commands - start)
                for timer in timers[turn % 2 :] + timers[: turn % 2]:
                    timer.run(count)
            runs[FOLLOW_UP].append(timers[0].done / timers[0].elapsed)
            runs["mix"].append(timers[1].done / timers[1].elapsed)
            latencies.extend(timers[0].latencies_ms)
    finally:
        ledger.close()
        core.reset_schema(where, drop_only=True)
    return ServiceRate(
        statistics.median(runs[FOLLOW_UP]),
        statistics.median(runs["mix"]),
        core.percentile(latencies, 0.5),
        core.percentile(latencies, 0.95),
    )


# --- the server ----------------------------------------------------------------------------


def free_port(host: str) -> int:
    """A TCP port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with the ``KONTRAKTLEDGER_*`` settings of the bench."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTRAKTLEDGER_")}
    citizen_key = settings.citizen_key.get_secret_value() if settings.citizen_key else ""
    env.update(
        {
            "KONTRAKTLEDGER_STORAGE": "postgres",
            "KONTRAKTLEDGER_POSTGRES_HOST": settings.postgres_host,
            "KONTRAKTLEDGER_POSTGRES_PORT": str(settings.postgres_port),
            "KONTRAKTLEDGER_POSTGRES_USER": settings.postgres_user,
            "KONTRAKTLEDGER_POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
            "KONTRAKTLEDGER_POSTGRES_DBNAME": settings.postgres_dbname,
            "KONTRAKTLEDGER_POSTGRES_SCHEMA": settings.postgres_schema,
            "KONTRAKTLEDGER_CITIZEN_KEY": citizen_key,
        }
    )
    return env


class Server:
    """``ledger serve`` in a subprocess, its output in a log file."""

    def __init__(self, settings: Settings, host: str, workers: int | None) -> None:
        """Choose a port; nothing runs yet."""
        self.host, self.port = host, free_port(host)
        ledger_command = Path(sys.executable).with_name("ledger")
        self.command = [str(ledger_command), "serve", "--host", host, "--port", str(self.port)]
        if workers is not None:
            self.command += ["--workers", str(workers)]
        self.settings = settings
        self.env = server_environment(settings)
        self.directory = Path(tempfile.mkdtemp(prefix="kontraktledger-api-load-"))
        self.log_path = self.directory / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> float:
        """Start the server and wait until ``/readyz`` answers 200; returns the seconds."""
        self._log = self.log_path.open("wb")
        began = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            self.command, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"the server exited with {self.process.returncode}:\n{self.log_tail()}"
                raise RuntimeError(msg)
            with contextlib.suppress(OSError):
                status, _ = asyncio.run(self.get_once("/readyz"))
                if status == HTTP_OK.start:
                    return time.perf_counter() - began
            time.sleep(0.2)
        msg = f"the server was not ready within {READY_TIMEOUT_S:g} s:\n{self.log_tail()}"
        raise RuntimeError(msg)

    async def get_once(self, path: str) -> tuple[int, bytes]:
        """One GET on a connection of its own."""
        connection = HttpConnection(self.host, self.port)
        try:
            return await connection.request("GET", path, b"")
        finally:
            await connection.close()

    def stop(self) -> int | None:
        """Stop the server (SIGINT, then SIGKILL after 30 s); returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's output."""
        if not self.log_path.exists():
            return "(no output)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def remove_log(self) -> None:
        """Delete the log directory."""
        shutil.rmtree(self.directory, ignore_errors=True)


# --- CPU time, from /proc (Linux; zero elsewhere) -----------------------------------------


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far: this process (the clients), the server, PostgreSQL."""

    clients: float
    server: float
    postgres: float

    def __sub__(self, other: Cpu) -> Cpu:
        """The CPU seconds used between two snapshots."""
        return Cpu(
            self.clients - other.clients,
            self.server - other.server,
            self.postgres - other.postgres,
        )


def cpu_snapshot(server_pid: int | None) -> Cpu:
    """CPU seconds of this process, of the server and its children, of every postgres process.

    The PostgreSQL figure counts every backend of the server, including any
    other user's: run on an otherwise idle machine.
    """
    server = postgres = 0.0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 2 :].split()
        pid, parent = int(stat.parent.name), int(fields[1])
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if server_pid is not None and server_pid in {pid, parent}:
            server += used
        elif name == "postgres":
            postgres += used
    return Cpu(time.process_time(), server, postgres)


async def count_sessions(conninfo: str, until: float, counts: list[int]) -> None:
    """Count the PostgreSQL server's sessions every second until ``until``."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        while time.perf_counter() < until:
            cursor = await connection.execute("SELECT count(*) FROM pg_stat_activity")
            row = await cursor.fetchone()
            counts.append(int(row[0]) if row else 0)
            await asyncio.sleep(SESSION_SAMPLE_S)


def max_connections(settings: Settings) -> int:
    """The PostgreSQL server's ``max_connections``."""
    with psycopg.connect(settings.server_conninfo(settings.postgres_dbname)) as connection:
        row = connection.execute("SHOW max_connections").fetchone()
    return int(row[0]) if row else 0


# --- the HTTP client -------------------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: enough of the protocol for this API.

    Sends a request, reads the status line, the headers and the body
    (``Content-Length`` or chunked). The connection opens on first use and
    again after the server closed it.
    """

    def __init__(self, host: str, port: int) -> None:
        """Not connected yet."""
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.host_header = f"Host: {host}:{port}\r\n".encode()

    async def request(
        self, method: str, target: str, headers: bytes, body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send one request (``headers``: complete header lines); returns status and body."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {target} HTTP/1.1\r\n".encode() + self.host_header + headers
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        self.writer.write(head + b"\r\n" + (body or b""))
        try:
            await self.writer.drain()
            return await self._response(self.reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            raise

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        status_line = await reader.readline()
        if not status_line:
            msg = "the server closed the connection"
            raise ConnectionResetError(msg)
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while (line := await reader.readline()) not in {b"\r\n", b"\n", b""}:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        body = await self._chunked(reader) if chunked else await reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while size := int((await reader.readline()).split(b";", 1)[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while (await reader.readline()) not in {b"\r\n", b"\n", b""}:  # trailers
            pass
        return b"".join(parts)

    async def close(self) -> None:
        """Close the connection (it reopens on the next request)."""
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


# --- the clients -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A request a client is about to send."""

    kind: str
    method: str
    target: str
    headers: bytes
    body: bytes | None = None


@dataclass
class Client:
    """One closed-loop client: its own connection, random source and contracts."""

    work: Work
    own: list[Target]  # the contracts it sends commands to
    mix: Mix
    rng: random.Random
    idempotency_keys: bool
    sent_commands: int = 0
    kinds: list[str] = field(init=False)
    cumulative: list[float] = field(init=False)

    def __post_init__(self) -> None:
        """Prepare the draw."""
        self.kinds = [kind for kind, _ in self.mix]
        self.cumulative = list(itertools.accumulate(weight for _, weight in self.mix))

    def next_request(self) -> Request:
        """Draw the next request from the mix."""
        kind = self.rng.choices(self.kinds, cum_weights=self.cumulative)[0]
        if kind == FOLLOW_UP:
            return self.follow_up()
        target = self.rng.choice(self.work.targets)
        as_buyer = self.rng.random() < 0.5  # noqa: PLR2004 - half as buyer, half as provider
        token = (
            self.work.buyer_tokens[target.buyer]
            if as_buyer
            else self.work.provider_tokens[target.provider]
        )
        headers = f"Authorization: Bearer {token}\r\n".encode()
        if kind == READ_CONTRACT:
            return Request(kind, "GET", f"/v1/contracts/{target.contract_id}", headers)
        query = "status=signed" if as_buyer else f"paragraph={target.paragraph}"
        return Request(kind, "GET", f"/v1/contracts?{query}&limit={LIST_LIMIT}", headers)

    def follow_up(self) -> Request:
        """A follow-up on the next of the client's own contracts, as its buyer."""
        target = self.own[self.sent_commands % len(self.own)]
        held_on = FIRST_FOLLOW_UP + dt.timedelta(days=self.sent_commands % FOLLOW_UP_DAYS)
        self.sent_commands += 1
        headers = f"Authorization: Bearer {self.work.buyer_tokens[target.buyer]}\r\n"
        if self.idempotency_keys:
            headers += f"Idempotency-Key: {uuid.uuid4()}\r\n"
        body = json.dumps({"line_id": "1", "held_on": held_on.isoformat()}).encode()
        path = f"/v1/contracts/{target.contract_id}/follow-ups"
        return Request(FOLLOW_UP, "POST", path, headers.encode(), body)


@dataclass(frozen=True, slots=True)
class Record:
    """One answered (or failed) request."""

    kind: str
    began: float
    ended: float
    status: int  # 0: no HTTP answer (connection error)


@dataclass
class Outcome:
    """What the clients of one run did."""

    records: list[Record] = field(default_factory=list)
    failures: Counter[tuple[str, int, str]] = field(default_factory=Counter)


async def run_client(
    client: Client, connection: HttpConnection, until: float, outcome: Outcome
) -> None:
    """Send requests one after the other until ``until`` (perf_counter)."""
    clock = time.perf_counter
    while clock() < until:
        request = client.next_request()
        began = clock()
        try:
            status, body = await connection.request(
                request.method, request.target, request.headers, request.body
            )
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            status, body = 0, repr(error).encode()
        outcome.records.append(Record(request.kind, began, clock(), status))
        if status not in HTTP_OK:
            outcome.failures[request.kind, status, body[:300].decode(errors="replace")] += 1


@dataclass(frozen=True)
class Figures:
    """Requests of one kind (or several) in the measured window."""

    count: int
    per_second: float
    p50: float
    p95: float
    p99: float
    max: float
    errors: int


@dataclass(frozen=True)
class LevelRun:
    """One run at one client level."""

    name: str
    clients: int
    seconds: float
    figures: dict[str, Figures]  # by kind, plus "all", "reads", "commands"
    failures: Counter[tuple[str, int, str]]
    cpu: Cpu  # used in the measured window
    sessions: int  # the most PostgreSQL sessions seen during the run (warm-up included)


def summarise(records: list[Record], seconds: float) -> Figures:
    """Counts, rate and latency quantiles of ``records``."""
    latencies = [(r.ended - r.began) * 1000 for r in records]
    if not latencies:
        return Figures(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
    return Figures(
        len(records),
        len(records) / seconds,
        core.percentile(latencies, 0.5),
        core.percentile(latencies, 0.95),
        core.percentile(latencies, 0.99),
        max(latencies),
        sum(r.status not in HTTP_OK for r in records),
    )


async def load_level(
    server: Server,
    work: Work,
    *,
    name: str,
    clients: int,
    mix: Mix,
    args: argparse.Namespace,
) -> LevelRun:
    """``clients`` closed-loop clients: a warm-up, then the measured window."""
    commandable = work.commandable
    if len(commandable) < clients:
        msg = f"{len(commandable)} signed contracts for {clients} clients"
        raise RuntimeError(msg)
    shuffled = random.Random(args.seed).sample(commandable, len(commandable))
    pool = [
        Client(
            work,
            shuffled[number::clients],
            mix,
            random.Random(f"{args.seed}/{name}/{clients}/{number}"),
            idempotency_keys=not args.no_idempotency_keys,
        )
        for number in range(clients)
    ]
    connections = [HttpConnection(server.host, server.port) for _ in pool]
    outcome = Outcome()
    gc.collect()
    start = time.perf_counter() + args.warm_up
    until = start + args.seconds
    pid = None if server.process is None else server.process.pid
    snapshots: list[Cpu] = []
    sessions: list[int] = []

    async def measure_cpu() -> None:
        for moment in (start, until):
            await asyncio.sleep(max(moment - time.perf_counter(), 0.0))
            snapshots.append(cpu_snapshot(pid))

    try:
        await asyncio.gather(
            measure_cpu(),
            count_sessions(server.settings.server_conninfo("postgres"), until, sessions),
            *(
                run_client(c, conn, until, outcome)
                for c, conn in zip(pool, connections, strict=True)
            ),
        )
    finally:
        await asyncio.gather(*(conn.close() for conn in connections))
    window = [r for r in outcome.records if start <= r.ended <= until]
    groups: dict[str, list[Record]] = {
        "all": window,
        "reads": [r for r in window if r.kind in READS],
        **{kind: [r for r in window if r.kind == kind] for kind in READS},
        "commands": [r for r in window if r.kind == FOLLOW_UP],
    }
    figures = {group: summarise(records, args.seconds) for group, records in groups.items()}
    cpu = snapshots[1] - snapshots[0]
    return LevelRun(
        name, clients, args.seconds, figures, outcome.failures, cpu, max(sessions, default=0)
    )


# --- report ------------------------------------------------------------------------------------


def print_run(run: LevelRun, service: float, connections: int) -> None:
    """One run's figures, by kind of request."""
    print(f"\n{run.name}, {run.clients} clients, {run.seconds:g} s measured")
    print(
        f"  {'requests':<22} {'count':>7} {'per s':>8} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'errors':>6}"
    )
    for group, figures in run.figures.items():
        if figures.count == 0 and group != "all":
            continue
        label = {"commands": f"commands ({FOLLOW_UP}s)"}.get(group, group)
        label = f"  {label}" if group in READS else label
        print(
            f"  {label:<22} {figures.count:7d} {figures.per_second:8.1f} {figures.p50:7.1f} "
            f"{figures.p95:7.1f} {figures.p99:7.1f} {figures.max:7.1f} {figures.errors:6d}"
        )
    cpu, seconds = run.cpu, run.seconds
    print(
        f"  CPU in the window, in cores: clients {cpu.clients / seconds:.2f}, "
        f"server {cpu.server / seconds:.2f}, PostgreSQL {cpu.postgres / seconds:.2f}; "
        f"PostgreSQL sessions at most {run.sessions} (max_connections {connections})"
    )
    commands = run.figures["commands"].per_second
    print(f"  commands/s / service rate: {commands:.1f} / {service:.1f} = {commands / service:.3f}")
    for (kind, status, body), count in run.failures.most_common(5):
        print(f"  failed {count}x {kind} -> {status}: {body}")


def checks(args: argparse.Namespace, runs: list[LevelRun], service: float) -> list[core.Check]:
    """The issue's targets against the figures."""
    found = [
        core.Check(
            f"p99 < {TARGET_P99_MS:g} ms at {run.clients} clients (mixed)",
            f"{run.figures['all'].p99:.1f} ms",
            run.figures["all"].p99 < TARGET_P99_MS,
        )
        for run in runs
        if run.name == "mixed" and run.clients == TARGET_P99_CLIENTS
    ]
    found.extend(
        core.Check(
            f"command throughput / service rate >= {TARGET_RATIO} ({run.clients} clients)",
            f"{run.figures['commands'].per_second / service:.3f}",
            run.figures["commands"].per_second / service >= TARGET_RATIO,
        )
        for run in runs
        if run.name == "commands only"
    )
    found.extend(
        core.Check(f"{run.name} at {run.clients} clients: no errors", f"{errors:,}", met=False)
        for run in runs
        if (errors := run.figures["all"].errors)
    )
    full = (
        args.contracts >= TARGET_CONTRACTS
        and args.seconds >= TARGET_SECONDS
        and TARGET_P99_CLIENTS in args.clients
    )
    if not full:
        found.append(
            core.Check(
                f"full scale: {TARGET_CONTRACTS:,} contracts, {TARGET_SECONDS:g} s, "
                f"{TARGET_P99_CLIENTS} clients",
                f"{args.contracts:,} / {args.seconds:g} s",
                met=False,
            )
        )
    return found


# --- main ----------------------------------------------------------------------------------------


def client_levels(text: str) -> list[int]:
    """``16,64`` -> [16, 64]."""
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        msg = "client levels are positive integers, e.g. 16,64"
        raise argparse.ArgumentTypeError(msg)
    return levels


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000, help="contracts to load")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured seconds per client level"
    )
    parser.add_argument(
        "--clients", type=client_levels, default=[16, 64], help="client levels, e.g. 16,64"
    )
    parser.add_argument(
        "--command-clients",
        type=int,
        default=TARGET_P99_CLIENTS,
        help="clients of the commands-only run (0: skip it)",
    )
    parser.add_argument(
        "--warm-up", type=float, default=5.0, help="unmeasured seconds before each run"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="ledger serve --workers (default: its own)"
    )
    parser.add_argument(
        "--no-idempotency-keys",
        action="store_true",
        help="send commands without an Idempotency-Key (default: a fresh key each)",
    )
    parser.add_argument(
        "--service-commands",
        type=int,
        default=1000,
        help="commands per round of the service-rate measurement",
    )
    parser.add_argument(
        "--service-rounds", type=int, default=3, help="rounds of the service-rate measurement"
    )
    parser.add_argument("--seed", type=int, default=3, help="seed of the data and the clients")
    parser.add_argument(
        "--dbname", default="kontraktledger_bench", help="database (created if missing)"
    )
    parser.add_argument(
        "--schema",
        default="api_bench",
        help="schema the bench owns (dropped and recreated; NAME_core for the service rate)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the schema and the server log afterwards"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the data a --keep run left in the schema instead of loading it again",
    )
    args = parser.parse_args(argv)
    if args.contracts < 1 or args.seconds <= 0 or args.warm_up < 0:
        parser.error("--contracts and --seconds must be positive, --warm-up not negative")
    return args


@contextlib.contextmanager
def serving(settings: Settings, args: argparse.Namespace) -> Iterator[Server]:
    """``ledger serve`` for the duration of the block."""
    server = Server(settings, "127.0.0.1", args.workers)
    print(f"Server: {' '.join(server.command[1:])} (log {server.log_path})", flush=True)
    try:
        ready = server.start()
        print(f"  ready after {ready:.1f} s", flush=True)
        yield server
    finally:
        status = server.stop()
        print(f"  server stopped (exit status {status})", flush=True)
        if not args.keep:
            server.remove_log()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; exit 1 when a target is missed."""
    args = parse_args(argv)
    settings = seed.bench_settings(args.dbname, args.schema)
    fate = "reused if it holds data" if args.reuse else "dropped and recreated"
    print(
        f"API load benchmark on PostgreSQL, database {args.dbname}, schema {args.schema} ({fate})",
        flush=True,
    )
    results: list[core.Check] = []
    try:
        done = seed_data(settings, args)
        print(f"Data: {done}", flush=True)
        rows = seed.machine(settings)
        connections = max_connections(settings)
        work, caught_up = prepare_work(settings)
        print(
            f"  views caught up in {caught_up:.1f} s; {len(work.targets):,} contracts "
            f"({len(work.commandable):,} signed), keys for {len(work.buyer_tokens)} buyers "
            f"and {len(work.provider_tokens)} providers",
            flush=True,
        )
        gc.collect()
        gc.freeze()  # the data loaded so far is not garbage: keep collections short
        print("Service rate (bench/ledger_core.py workloads), before the load ...", flush=True)
        before = measure_service_rate(settings, args.service_commands, args.service_rounds)
        print(f"  follow-ups {before.follow_ups:.1f}/s, mix {before.mix:.1f}/s", flush=True)
        runs: list[LevelRun] = []
        with serving(settings, args) as server:
            plan = [("mixed", clients, MIXED) for clients in args.clients]
            if args.command_clients > 0:
                plan.append(("commands only", args.command_clients, COMMANDS_ONLY))
            for name, clients, mix in plan:
                print(f"  {name}, {clients} clients ...", flush=True)
                run = asyncio.run(
                    load_level(server, work, name=name, clients=clients, mix=mix, args=args)
                )
                runs.append(run)
                print(
                    f"    {run.figures['all'].per_second:.1f} requests/s, "
                    f"p99 {run.figures['all'].p99:.1f} ms, errors {run.figures['all'].errors}",
                    flush=True,
                )
        print("Service rate, after the load ...", flush=True)
        after = measure_service_rate(settings, args.service_commands, args.service_rounds)
        service = (before.follow_ups + after.follow_ups) / 2

        print("\nMachine")
        for key, value in rows:
            print(f"  {key:<14} {value}")
        print(
            f"\nData: {len(work.targets):,} contracts ({EVENTS_PER_CONTRACT} events each at "
            f"load, {BUYERS} buyers, bench/projections.py's load with seed {args.seed})"
        )
        print(
            "\nApplication-service rate (Ledger use case, one at a time; "
            f"{args.service_rounds} rounds of {args.service_commands}, medians)"
        )
        for label, rate in (("before the load", before), ("after the load", after)):
            print(
                f"  {label:<16} follow-ups {rate.follow_ups:7.1f}/s "
                f"(p50 {rate.p50_ms:.2f} ms, p95 {rate.p95_ms:.2f} ms); "
                f"ledger_core's mix {rate.mix:7.1f}/s (informative)"
            )
        print(f"  service rate (mean of the two, follow-ups): {service:.1f}/s")
        print(
            "\nLoad: closed-loop clients, one keep-alive connection each; "
            f"{args.warm_up:g} s warm-up per run; idempotency keys "
            f"{'off' if args.no_idempotency_keys else 'on'}"
        )
        for run in runs:
            print_run(run, service, connections)
        results = checks(args, runs, service)
        print("\nTargets (issue 4)")
        for check in results:
            print(f"  {check.target:<58} {check.measured:>12}  {'PASS' if check.met else 'MISS'}")
    finally:
        if not args.keep:
            seed.reset_schema(settings, drop_only=True)
    return 0 if results and all(check.met for check in results) else 1


if __name__ == "__main__":
    sys.exit(main())
