"""The ``ledger`` command: migrate, demo, contracts, read models, invoices.

Output is for people at a terminal; logs (JSON, CPR-redacted) go to stderr.
Citizens appear by their pseudonymous id only, except on a printed invoice,
which must carry the citizen's name and CPR number (Bilag 1 pkt. 6); those
come from the citizen register at printing time and never from the events.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
import uuid
from collections.abc import Sequence
from decimal import Decimal

import structlog

from adapters import demo, logs
from adapters.bootstrap import Runtime, build, migrate
from adapters.settings import Settings, Storage
from adapters.views import Views, run_workers
from ledger.application import Ledger
from ledger.citizens import CitizenRegister
from ledger.clock import COPENHAGEN
from ledger.contract import Contract
from ledger.deadlines import DeadlineStatus
from ledger.errors import LedgerError
from ledger.invoice import Invoice
from ledger.pricing import PricePeriod
from ledger.schedule import suggested_step
from ledger.tariffs import get_model
from ledger.values import Actor, Role
from projections.registry import VIEWS

log = structlog.get_logger("kontraktledger.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure()
    settings = Settings()
    try:
        if args.command == "migrate":
            applied = migrate(settings)
            done = ", ".join(applied) or "nothing new"
            print(f"migrated {settings.storage.value} store; applied: {done}")
            return 0
        if args.command == "project" and settings.storage is Storage.POSTGRES:
            return _project(settings, args.views)
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


VIEW_COMMANDS = {"project", "rebuild", "status", "invoice", "adjustments", "deadlines"}
BILLING = Actor("system", Role.OPERATOR, "cli", "cli")


def _project(settings: Settings, names: list[str]) -> int:
    """Run the projection workers until SIGTERM or SIGINT (PostgreSQL)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    chosen = names or list(VIEWS)
    print(f"projecting {', '.join(chosen)}; stop with Ctrl-C", flush=True)
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


CATCH_UP_HELP = "catch the views up in this process instead of waiting for `ledger project`"


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(f"{text}-01")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
