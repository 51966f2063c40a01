"""The ``ledger`` command: migrate, load the demo, show contracts and their prices.

Output is for people at a terminal; logs (JSON, CPR-redacted) go to stderr.
Citizens appear by their pseudonymous id only: this command prints no
personal data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from collections.abc import Sequence
from decimal import Decimal

import structlog

from adapters import demo, logs
from adapters.bootstrap import Runtime, build, migrate
from adapters.settings import Settings
from ledger.application import Ledger
from ledger.clock import COPENHAGEN
from ledger.contract import Contract
from ledger.errors import LedgerError
from ledger.pricing import PricePeriod
from ledger.schedule import suggested_step
from ledger.tariffs import get_model

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
        runtime = build(settings)
        try:
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
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
