"""The ``ledger`` command: migrate, demo, serve, keys, contracts, read models, invoices.

Output is for people at a terminal; logs (JSON, CPR-redacted) go to stderr.
Citizens appear by their pseudonymous id only, except on a printed invoice,
which must carry the citizen's name and CPR number (Bilag 1 pkt. 6); those
come from the citizen register at printing time and never from the events.

``ledger serve`` runs the HTTP API under uvicorn. It names the app by import
string (``api.app:create_app``, a factory reading the same environment as
this command): adapters sit below ``api`` in the layers, and uvicorn needs an
import string anyway to start several web processes. With ``--workers N``
each web process listens on a socket of its own (``SO_REUSEPORT`` on Linux,
see ``adapters.serving``): through one shared socket, connections opened
together all went to the process that woke first. On PostgreSQL the
projection workers run once, as ``ledger project`` in a child process of
``ledger serve``: in a thread of the web process they held the GIL for about
40% of its time, and every request waited behind them. The child is started,
watched and stopped with the server, and a failed child stops the server, as
a web process that exits does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

import psycopg
import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from adapters import demo, logs
from adapters.api_keys import ApiKeyStore, build_key_store
from adapters.bootstrap import Runtime, build, migrate
from adapters.gc_schedule import full_collections_every
from adapters.serving import (
    REUSE_PORT,
    STOP_GRACE,
    STOP_SIGNALS,
    STOPPED_BY_SIGNAL,
    WebProcesses,
    port_problem,
    stop_when_orphaned,
)
from adapters.settings import Settings, Storage
from adapters.views import Views, run_workers
from ledger.application import Ledger
from ledger.citizens import CitizenRegister
from ledger.clock import COPENHAGEN
from ledger.contract import Contract
from ledger.deadlines import DeadlineStatus
from ledger.errors import InvalidIdentifier, LedgerError
from ledger.identifiers import validate_cvr, validate_registration
from ledger.invoice import Invoice
from ledger.pricing import PricePeriod
from ledger.schedule import suggested_step
from ledger.tariffs import get_model
from ledger.values import Actor, Role
from projections.registry import VIEWS

log = structlog.get_logger("kontraktledger.cli")
# argparse gives the type of ``add_subparsers()`` no public name.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # noqa: SLF001


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure()
    settings = Settings()
    try:
        early = EARLY_COMMANDS.get(args.command)
        if early is not None:
            return early(args, settings)
        if args.command == "project" and settings.storage is Storage.POSTGRES:
            return _project(settings, args.views, parent=args.parent)
        runtime = build(settings)
        try:
            if args.command in VIEW_COMMANDS:
                views = Views(settings, runtime.ledger)
                try:
                    return _view_command(args, runtime, views)
                finally:
                    views.close()
            return _dispatch(args, runtime)
        finally:
            runtime.close()
    except LedgerError as error:
        print(f"error [{error.rule}]: {error}", file=sys.stderr)
        return 2


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    applied = migrate(settings)
    done = ", ".join(applied) or "nothing new"
    print(f"migrated {settings.storage.value} store; applied: {done}")
    return 0


def _dispatch(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.command == "demo":
        result = demo.load(runtime.ledger, runtime.citizens)
        state = "loaded" if result.loaded else "already present"
        print(f"demo data {state}: {len(result.contract_ids)} contracts ({demo.ILLUSTRATIVE})")
        return 0
    if args.command == "contract" and args.action == "list":
        ids = list(runtime.ledger.contract_ids())
        for contract_id in ids:
            if args.show:
                _show(runtime.ledger, contract_id, args.until, None)
            else:
                _summary(runtime.ledger, runtime.ledger.get_contract(contract_id))
        if not ids:
            print("no contracts; run `ledger demo` to load the demo data")
        return 0
    if args.command == "contract" and args.action == "show":
        _show(runtime.ledger, args.id, args.until, args.known_at)
        return 0
    return 1  # pragma: no cover - argparse refuses other commands


# --- keys ---------------------------------------------------------------------------

SYSTEM = "system"
"""The organisation of system administrators who act for no buyer or provider."""

DEMO_LABEL = "demo:"
"""Labels starting with this mark demo keys: ``ledger serve --demo`` revokes and renews them."""


def organisation_for(role: Role, organisation: str) -> str:
    """The compact organisation a key of ``role`` may act for; raises when it may not.

    A buyer administrator acts for a municipality (CVR); a provider
    administrator or an auditor for a CVR number or P-number. A system
    administrator (``operator``) is no contract party and acts for ``system``,
    the organisation the ledger's own commands record (ADR 0013).
    """
    text = organisation.strip()
    if role is Role.OPERATOR:
        if text != SYSTEM:
            msg = f"a system administrator (operator) key acts for {SYSTEM!r}, not {text!r}"
            raise InvalidIdentifier(msg, field="org")
        return SYSTEM
    if role is Role.BUYER_ADMIN:
        return validate_cvr(text, field="org")
    return validate_registration(text, field="org")


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    problem = _store_problem(settings)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    store = build_key_store(settings)
    if args.action == "create":
        role = Role(args.role)
        key, token = store.create(organisation_for(role, args.org), role, label=args.label)
        label = f", label {key.label!r}" if key.label else ""
        print(f"created API key {key.key_id} for {key.organisation} as {key.role.value}{label}")
        print("token (shown this once; only its hash is kept):")
        print(token)
        return 0
    if args.action == "revoke":
        if store.revoke(args.id):
            print(f"revoked API key {args.id}")
            return 0
        print(f"error: no active API key {args.id}", file=sys.stderr)
        return 1
    records = [r for r in store.records() if r.active or not args.active]
    if not records:
        print("no API keys; make one with `ledger keys create --org CVR --role ROLE`")
        return 0
    print(_key_columns("id", "organisation", "role", "created", "revoked", "label"))
    for record in records:
        key = record.key
        revoked = "-" if record.revoked_at is None else _minute(record.revoked_at)
        created = _minute(record.created_at)
        print(
            _key_columns(key.key_id, key.organisation, key.role.value, created, revoked, key.label)
        )
    return 0


def _key_columns(*cells: str) -> str:
    """One row of ``ledger keys list``; times are Copenhagen minutes."""
    key_id, organisation, role, created, revoked, label = cells
    return (
        f"{key_id:<12}  {organisation:<12}  {role:<14}  {created:<16}  {revoked:<16}  {label}"
    ).rstrip()


def _minute(instant: dt.datetime) -> str:
    return instant.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")


def _store_problem(settings: Settings) -> str | None:
    """Why the API's key store cannot be used as configured, or None when it can."""
    if settings.storage is Storage.MEMORY:
        return (
            "the memory store keeps nothing between processes; "
            "use KONTRAKTLEDGER_STORAGE=sqlite (the default) or postgres"
        )
    try:
        build_key_store(settings).records()
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return f"the {settings.storage.value} store is not migrated; run `ledger migrate` first"
    except psycopg.OperationalError as error:
        return f"cannot reach PostgreSQL: {error}"
    return None


@dataclass(frozen=True)
class DemoKey:
    """A demo API key as printed: the role, whom it acts for, and its token (shown once)."""

    role: Role
    organisation: str
    holder: str
    token: str


DEMO_HOLDERS: tuple[tuple[Role, str, str], ...] = (
    (Role.BUYER_ADMIN, demo.BUYER_NORD.cvr, f"{demo.BUYER_NORD.name}, CVR {demo.BUYER_NORD.cvr}"),
    (
        Role.PROVIDER_ADMIN,
        demo.STOTTEPAKKEN.registration,
        f"{demo.STOTTEPAKKEN.name}, CVR {demo.STOTTEPAKKEN.registration}",
    ),
    (
        Role.AUDITOR,
        demo.BUYER_NORD.cvr,
        f"{demo.BUYER_NORD.name}, CVR {demo.BUYER_NORD.cvr} (reads only)",
    ),
    (Role.OPERATOR, SYSTEM, "system administrator: tariff sheets, regulation, invoices"),
)


def renew_demo_keys(store: ApiKeyStore) -> list[DemoKey]:
    """Revoke every active demo key, then make one per role (labelled ``demo:<role>``).

    Only hashes are stored, so a token can be shown only when it is made:
    each start makes a fresh set instead of piling up unusable ones.
    """
    for key in store.list():
        if key.label.startswith(DEMO_LABEL):
            store.revoke(key.key_id)
    made = []
    for role, organisation, holder in DEMO_HOLDERS:
        _, token = store.create(organisation, role, label=f"{DEMO_LABEL}{role.value}")
        made.append(DemoKey(role, organisation, holder, token))
    return made


# --- serve ----------------------------------------------------------------------------

APP = "api.app:create_app"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API until SIGTERM or SIGINT; on PostgreSQL also run the projection process."""
    refusal = _serve_refusal(args, settings)
    if refusal is None:
        loaded = _load_demo(settings) if args.demo else None
        refusal = _store_problem(settings)
    if refusal is not None:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    # Tables exist now; the web processes must not create them (architecture section 9).
    os.environ["KONTRAKTLEDGER_CREATE_TABLES"] = "false"
    base = _base_url(args.host, args.port)
    print(f"kontraktledger API at {base} ({settings.storage.value} store)")
    print(f"interactive docs at {base}/docs")
    if loaded is not None:
        state = "loaded" if loaded.loaded else "already present"
        print(f"demo data {state}: {len(loaded.contract_ids)} contracts ({demo.ILLUSTRATIVE})")
        _print_demo_keys(renew_demo_keys(build_key_store(settings)), base)
    projecting = settings.storage is Storage.POSTGRES and not args.no_project
    if settings.storage is Storage.POSTGRES and args.no_project:
        print("projection workers: not here (--no-project); run `ledger project` beside it")
    print("stop with Ctrl-C", flush=True)
    return _run_server(args, projecting=projecting)


def _serve_refusal(args: argparse.Namespace, settings: Settings) -> str | None:
    if settings.storage is Storage.MEMORY:
        return _store_problem(settings)
    if args.workers > 1 and settings.storage is not Storage.POSTGRES:
        return "--workers above 1 needs PostgreSQL (SQLite is embedded: one process)"
    return None


def _load_demo(settings: Settings) -> demo.DemoResult:
    """Migrate and load the demo data (both idempotent)."""
    migrate(settings)
    runtime = build(settings)
    try:
        return demo.load(runtime.ledger, runtime.citizens)
    finally:
        runtime.close()


def _run_server(args: argparse.Namespace, *, projecting: bool) -> int:
    """Run uvicorn (one process, or a supervisor of several) and the projection process."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the app logs one structured line per request
        timeout_graceful_shutdown=10,
    )
    if args.workers > 1 and REUSE_PORT:
        # Each web process binds its own socket, late and in another process:
        # check up front, as a single server would fail at once on a taken port.
        problem = port_problem(args.host, args.port)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            return STARTUP_FAILURE
    stop = threading.Event()
    # uvicorn (or the supervisor of the web processes) handles the signals while it
    # serves, then restores these (uvicorn also re-raises the signal it caught): so a
    # stop ends here as a set event, not a killed process.
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in STOP_SIGNALS}
    projection: ProjectionProcess | None = None
    try:
        web = _web(config, stop)
        if projecting:
            # Started here, in the one process that supervises the web processes:
            # with --workers N there is still exactly one projection process.
            projection = ProjectionProcess(halt=web.halt, stopping=web.stopping)
            print(f"projection workers: child process {projection.pid} (`ledger project`)")
            sys.stdout.flush()
        web.serve()
    finally:
        stop.set()
        if projection is not None:
            projection.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    code = web.exit_code()
    if code is not None:
        return code
    return 1 if projection is not None and projection.failed is not None else 0


@dataclass(frozen=True)
class _Web:
    """The web side of ``ledger serve``, whatever its shape: how to run, halt and watch it."""

    serve: Callable[[], object]
    halt: Callable[[], object]
    stopping: Callable[[], bool]
    exit_code: Callable[[], int | None]
    """After ``serve``: the exit code the web side calls for, or None when it stopped as asked."""


def _web(config: uvicorn.Config, stop: threading.Event) -> _Web:
    """One uvicorn server, or ``config.workers`` web processes under a supervisor.

    Several processes each listen on a socket of their own where the kernel
    spreads connections over such sockets (``SO_REUSEPORT``, Linux); elsewhere
    they share the one socket uvicorn's own supervisor binds, and connections
    opened together may all land in one process.
    """
    if config.workers > 1 and REUSE_PORT:
        processes = WebProcesses(config, config.workers, should_exit=stop)

        def failed() -> int | None:
            if processes.failed is None:
                return None
            # A process that could not start would fail the same way after a restart.
            return STARTUP_FAILURE if processes.failed == STARTUP_FAILURE else 1

        return _Web(processes.run, processes.halt, processes.stopping, failed)
    if config.workers > 1:
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])

        def supervisor_stopping() -> bool:
            # The supervisor queues a signal and acts on it within half a second.
            return stop.is_set() or supervisor.should_exit.is_set() or bool(supervisor.signal_queue)

        return _Web(supervisor.run, supervisor.should_exit.set, supervisor_stopping, lambda: None)
    server = uvicorn.Server(config)

    def halt() -> None:
        server.should_exit = True

    def started() -> int | None:
        # uvicorn's exit code when it could not start (e.g. the port is taken).
        return None if server.started else STARTUP_FAILURE

    return _Web(server.run, halt, lambda: stop.is_set() or server.should_exit, started)


PROJECTION_STOP_TIMEOUT = 15.0
"""Seconds the projection process has to write what it holds and exit before it is killed."""


def projection_command(parent: int) -> list[str]:
    """The command line of the projection process that ``ledger serve`` (``parent``) starts.

    The same interpreter runs this module: it is importable wherever the
    running ``ledger`` is, in a virtualenv or not, with or without the console
    script on the PATH. Settings travel in the inherited environment.
    """
    return [sys.executable, "-m", "adapters.cli", "project", "--parent", str(parent)]


class ProjectionProcess:
    """``ledger project`` as a child of ``ledger serve``: started, watched and stopped with it.

    A thread waits on the child. If the child exits while the server runs, the
    server is halted: reads would wait for views that no longer move, and
    ``ledger serve`` exits 1 so that its supervisor restarts both.
    """

    def __init__(self, *, halt: Callable[[], object], stopping: Callable[[], bool]) -> None:
        """Start the child (output to this process's stdout and stderr) and its watcher."""
        self._halt = halt
        self._stopping = stopping
        self._stopped = threading.Event()  # set when this process stops the child on purpose
        self.failed: int | None = None
        """The child's exit code when it failed, else None."""
        self._child = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            projection_command(os.getpid()), stdin=subprocess.DEVNULL
        )
        self._watcher = threading.Thread(target=self._watch, name="projection-watch", daemon=True)
        self._watcher.start()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._child.pid

    def _watch(self) -> None:
        code = self._child.wait()
        if self._stopped.is_set():
            return
        # Ctrl-C at a terminal, or a supervisor stopping the whole group, signals the
        # child too, and it may exit before the server has acted on its own signal.
        if code in STOPPED_BY_SIGNAL and self._server_stops_within(STOP_GRACE):
            return
        self.failed = code
        log.error("projection process exited; stopping the server", exit_code=code)
        self._halt()

    def _server_stops_within(self, seconds: float) -> bool:
        """True when the server is asked to stop within ``seconds``."""
        deadline = time.monotonic() + seconds
        while not self._stopping():
            if self._stopped.wait(0.05):
                return True
            if time.monotonic() >= deadline:
                return False
        return True

    def stop(self) -> None:
        """SIGTERM the child and wait for it to write what it holds; kill it if it hangs."""
        self._stopped.set()
        if self._child.poll() is None:
            self._child.send_signal(signal.SIGTERM)
        try:
            code = self._child.wait(timeout=PROJECTION_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("projection process did not stop; killing it", pid=self._child.pid)
            self._child.kill()
            self._child.wait()
        else:
            if code not in STOPPED_BY_SIGNAL and self.failed is None:
                # As in a live failure: what the views held may not have been written.
                self.failed = code
                log.error("projection process failed while stopping", exit_code=code)
        self._watcher.join(timeout=1)


def _base_url(host: str, port: int) -> str:
    """The URL to print: a wildcard address is shown as the loopback one."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - not a bind
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _print_demo_keys(keys: list[DemoKey], base: str) -> None:
    print()
    print("demo API keys, one per role (shown once: the next `ledger serve --demo` renews them)")
    for key in keys:
        print(f"  {key.role.value:<15} {key.token}  {key.holder}")
    print()
    print('In /docs press "Authorize" and paste a key. Or from a shell:')
    print(f'  curl -H "Authorization: Bearer {keys[0].token}" {base}/v1/contracts')
    print()


VIEW_COMMANDS = {"project", "rebuild", "status", "invoice", "adjustments", "deadlines"}
# Commands that build what they need themselves (no ledger runtime around them).
EARLY_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "migrate": _migrate,
    "serve": _serve,
    "keys": _keys,
}
BILLING = Actor("system", Role.OPERATOR, "cli", "cli")


def _project(settings: Settings, names: list[str], *, parent: int | None = None) -> int:
    """Run the projection workers until SIGTERM or SIGINT (PostgreSQL).

    ``ledger serve`` starts this with ``--parent`` set to its own process id:
    the workers then also stop when that process is gone, even if it was
    killed without a chance to stop them, so no orphan keeps projecting.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chosen = names or list(VIEWS)
    if parent is None:
        print(f"projecting {', '.join(chosen)}; stop with Ctrl-C", flush=True)
    else:
        stop_when_orphaned(parent, stop.set, "the projection workers")
    with full_collections_every(settings.gc_full_collection_seconds):
        run_workers(settings, chosen, stop=stop)
    return 0


def _view_command(args: argparse.Namespace, runtime: Runtime, views: Views) -> int:
    if args.command in {"project", "rebuild", "status"}:
        _maintain(args, views)
        return 0
    _refresh(views, catch_up=getattr(args, "catch_up", False))
    if args.command == "deadlines":
        _deadlines(args, runtime.ledger, views)
    elif args.command == "adjustments":
        _adjustments(args, runtime.ledger, views)
    elif args.action == "issue":
        _issue(args, runtime.ledger, views)
    else:
        _print_invoice(runtime.ledger.get_invoice(args.buyer, args.month), runtime.citizens)
    return 0


def _maintain(args: argparse.Namespace, views: Views) -> None:
    if args.command == "project":
        applied = views.catch_up(args.views or None)
        print("embedded mode: views caught up from the notification log")
        for name, count in applied.items():
            print(f"  {name:<18} {count} events applied")
    elif args.command == "rebuild":
        for name in args.views or list(VIEWS):
            count = views.rebuild(name)
            print(f"rebuilt {name} from the first event: {count} events applied")
    else:
        for status in views.status():
            state = "up to date" if status.lag == 0 else f"{status.lag} events behind"
            print(f"{status.name:<18} position {status.position:>9} of {status.head:>9}  {state}")


def _adjustments(args: argparse.Namespace, ledger: Ledger, views: Views) -> None:
    month = args.month or ledger.today().replace(day=1)
    found = views.billing.adjustments(args.buyer, month)
    for adjustment in found:
        print(
            f"{adjustment.month:%Y-%m}  contract {adjustment.contract_id} line "
            f"{adjustment.line_id}: {adjustment.amount_before} -> {adjustment.amount_now} "
            f"({adjustment.difference:+}) caused by {', '.join(adjustment.causes)}"
        )
    if not found:
        print(f"no corrections pending for EAN {args.buyer} before {month:%Y-%m}")


def _issue(args: argparse.Namespace, ledger: Ledger, views: Views) -> None:
    invoices = ledger.issue_invoices(args.month, views.billing, actor=BILLING, buyer_ean=args.buyer)
    for invoice in invoices:
        print(
            f"invoice {invoice.id}  EAN {invoice.buyer.ean}  {invoice.month:%Y-%m}  "
            f"{len(invoice.lines)} lines, {len(invoice.adjustments)} adjustments, "
            f"total {invoice.total} DKK"
        )
    if not invoices:
        print(f"nothing to invoice for {args.month:%Y-%m}")


def _refresh(views: Views, *, catch_up: bool) -> None:
    """Make the views include every recorded event before reading them."""
    if catch_up:
        views.catch_up()
    else:
        views.wait()


def _deadlines(args: argparse.Namespace, ledger: Ledger, views: Views) -> None:
    today = ledger.today()
    rows = views.deadlines.deadlines(
        today=today,
        organisation=args.org,
        status=DeadlineStatus(args.status) if args.status else None,
        due_from=today if args.within is not None else None,
        due_to=today + dt.timedelta(days=args.within) if args.within is not None else None,
    )
    for row in rows:
        d = row.deadline
        met = f" on {row.met_on}" if row.met_on else ""
        print(
            f"{d.due_on}  {row.status.value:<8}{met:<14} {d.kind.value:<20} {d.party.value:<8} "
            f"contract {row.contract_id}  ({d.clause})"
        )
    if not rows:
        print("no deadlines match")


def _print_invoice(invoice: Invoice, citizens: CitizenRegister) -> None:
    buyer = invoice.buyer
    print(f"Invoice {invoice.id} to {buyer.name} (CVR {buyer.cvr}, EAN {buyer.ean})")
    print(
        f"Month {invoice.month:%Y-%m}, issued {invoice.issued_on}, as known at {invoice.known_at}"
    )
    for line in invoice.lines:
        print(
            f"  {_citizen(citizens, line.citizen_id)}  {line.paragraph}  "
            f"{line.period_start}..{line.period_end}  {line.days} days at "
            f"{', '.join(str(d) for d in line.daily_prices)}  = {line.amount}"
        )
    for adjustment in invoice.adjustments:
        print(
            f"  adjustment {adjustment.month:%Y-%m} {_citizen(citizens, adjustment.citizen_id)} "
            f"{adjustment.paragraph}: {adjustment.amount_before} -> {adjustment.amount_now} "
            f"= {adjustment.difference:+} ({', '.join(adjustment.causes)})"
        )
    print(f"  total {invoice.total} DKK")


def _citizen(citizens: CitizenRegister, citizen_id: uuid.UUID) -> str:
    record = citizens.find(citizen_id)
    if record is None:
        return f"[erased {citizen_id}]"
    return f"{record.name} (CPR {record.cpr})"


def _summary(ledger: Ledger, contract: Contract) -> None:
    today = ledger.today()
    print(
        f"{contract.id}  {contract.status(today):<12}  buyer {contract.buyer.name} "
        f"(EAN {contract.buyer.ean})  provider {contract.provider.name}  "
        f"citizen {contract.citizen_id}"
    )


def _show(
    ledger: Ledger, contract_id: uuid.UUID, until: dt.date | None, known_at: dt.datetime | None
) -> None:
    contract = ledger.get_contract(contract_id, known_at=known_at)
    today = ledger.today()
    end = until or dt.date(today.year, 12, 31)
    print("=" * 100)
    _summary(ledger, contract)
    if known_at is not None:
        print(f"  as known at {known_at.isoformat()} (version {contract.version})")
    terms = contract.terms
    print(
        f"  terms: payment option {terms.payment_option.value}, notice "
        f"{terms.notice_period.months} months {terms.notice_period.days} days, "
        f"data role {terms.data_role.value}"
    )
    if contract.notice is not None:
        print(
            f"  notice given by {contract.notice.given_by.value} on {contract.notice.given_on}; "
            f"notice ends {contract.notice.last_day}; payment ends {contract.payment_end}"
        )
    for absence in contract.absences.values():
        print(
            f"  absence {absence.absence_id}: {absence.kind.value} {absence.started_on} - "
            f"{absence.ended_on or 'ongoing'}, notified {absence.notified_on}"
            f"{' (late)' if absence.notified_late else ''}"
        )
    for request in contract.renegotiations.values():
        outcome = (
            "open"
            if request.is_open
            else ("approved" if request.approved else "rejected") + f" {request.answered_on}"
        )
        print(
            f"  renegotiation {request.request_id} on line {request.line_id} by "
            f"{request.requested_by.value}, received {request.received_on}: {outcome}"
            f"{' (late)' if request.late else ''}"
        )
        if request.schedule is not None:
            line = contract.lines[request.line_id]
            hours = request.schedule.weekly_hours().quantize(Decimal("0.01"))
            advice = suggested_step(
                request.schedule,
                get_model(line.spec.tariff_model),
                current_step=line.step_on(request.received_on),
            )
            print(
                f"    Bilag 3 schedule: {hours} h/week, which falls in step {advice.code} "
                f"(proposed {request.proposed_step or 'new prices'})"
            )
    for line in contract.lines.values():
        spec = line.spec
        print(
            f"  line {line.line_id}: {spec.paragraph} {spec.tariff_model} step {line.step} "
            f"from {spec.start}"
        )
        periods = ledger.price_timeline(contract.id, line.line_id, end=end, known_at=known_at)
        for period in periods:
            print(_period_row(period))


def _period_row(period: PricePeriod) -> str:
    parts = " + ".join(f"{c.component} {c.daily}" for c in period.components)
    return (
        f"    {period.start} .. {period.end}  step {period.step:<5} {period.daily:>10} DKK/day"
        f"  ({parts}; sheet {period.sheet_year or '-'}; "
        f"set by {period.cause} v{period.cause_version})"
    )


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _instant(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=COPENHAGEN)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create the event tables and apply SQL migrations")
    commands.add_parser("demo", help="load the demo sheets and contracts (idempotent)")
    _add_serve(commands)
    _add_keys(commands)
    contract = commands.add_parser("contract", help="contracts and their price timelines")
    actions = contract.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list contracts")
    listing.add_argument("--show", action="store_true", help="print each with its prices")
    listing.add_argument("--until", type=_date, default=None, help="timeline end (YYYY-MM-DD)")
    show = actions.add_parser("show", help="print a contract and its price timeline")
    show.add_argument("id", type=uuid.UUID)
    show.add_argument("--until", type=_date, default=None, help="timeline end (YYYY-MM-DD)")
    show.add_argument(
        "--known-at",
        type=_instant,
        default=None,
        help="show what was known at this instant (ISO; Copenhagen time if no offset)",
    )
    project = commands.add_parser(
        "project", help="keep the read models up to date (PostgreSQL workers; SQLite: catch up)"
    )
    project.add_argument("views", nargs="*", choices=[*VIEWS, []], help="default: all")
    # Set by `ledger serve` for its child: stop when that process is gone.
    project.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    rebuild = commands.add_parser("rebuild", help="drop read models and replay every event")
    rebuild.add_argument("views", nargs="*", choices=[*VIEWS, []], help="default: all")
    commands.add_parser("status", help="each read model's position against the log's head")
    deadlines = commands.add_parser("deadlines", help="deadlines by organisation and status")
    deadlines.add_argument("--org", help="CVR/P-number of the organisation that must act")
    deadlines.add_argument("--status", choices=[s.value for s in DeadlineStatus])
    deadlines.add_argument("--within", type=int, help="due in the next N days")
    deadlines.add_argument("--catch-up", action="store_true", help=CATCH_UP_HELP)
    adjustments = commands.add_parser("adjustments", help="pending corrections for a buyer")
    adjustments.add_argument("--buyer", required=True, help="buyer EAN")
    adjustments.add_argument("--month", type=_month, help="next invoice month (YYYY-MM)")
    adjustments.add_argument("--catch-up", action="store_true", help=CATCH_UP_HELP)
    invoice = commands.add_parser("invoice", help="issue and print invoices")
    invoice_actions = invoice.add_subparsers(dest="action", required=True)
    issue = invoice_actions.add_parser("issue", help="issue a month's invoices per buyer EAN")
    issue.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    issue.add_argument("--buyer", help="only this buyer EAN")
    issue.add_argument("--catch-up", action="store_true", help=CATCH_UP_HELP)
    printing = invoice_actions.add_parser("show", help="print an issued invoice")
    printing.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    printing.add_argument("--buyer", required=True, help="buyer EAN")
    return parser


def _add_serve(commands: Subcommands) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the HTTP API (docs at /docs); on PostgreSQL also run `ledger project`",
        description=(
            "Serve the HTTP API under uvicorn. On PostgreSQL it also starts the projection "
            "workers (`ledger project`) as one child process and stops them when it stops; "
            "if they exit, the server stops too and exits with status 1, as it does when "
            "one of several web processes (--workers) exits."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="migrate, load the demo data and print a fresh demo key per role",
    )
    serve.add_argument(
        "--no-project",
        action="store_true",
        help="PostgreSQL: start no projection process (run `ledger project` beside it)",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help=(
            "web processes (PostgreSQL only; still one projection process); on Linux each "
            "listens on a socket of its own (SO_REUSEPORT), so connections spread over them"
        ),
    )


def _add_keys(commands: Subcommands) -> None:
    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    key_actions = keys.add_subparsers(dest="action", required=True)
    create = key_actions.add_parser("create", help="make a key and print its token once")
    create.add_argument(
        "--org",
        required=True,
        help="CVR (buyer-admin), CVR or P-number (provider-admin, auditor), 'system' (operator)",
    )
    create.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role],
        help="operator is the system administrator",
    )
    create.add_argument("--label", default="", help="a note: whose key, what for")
    key_list = key_actions.add_parser("list", help="every key, never its secret")
    key_list.add_argument("--active", action="store_true", help="leave out revoked keys")
    revoke = key_actions.add_parser("revoke", help="revoke a key: it stops authenticating")
    revoke.add_argument("id", help="the key id (the 12 characters after kl_)")


CATCH_UP_HELP = "catch the views up in this process instead of waiting for `ledger project`"


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be 1 or more, not {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
