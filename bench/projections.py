"""Read-model benchmark (issue 3): view catch-up rates and a month's invoices on PostgreSQL.

Run by hand, never by the test suite::

    .venv/bin/python bench/projections.py [--contracts N] [--events-per-contract E]

What it measures, all in one run against one PostgreSQL database:

* **Load** (not a target): ``--contracts`` contracts with ``--events-per-contract``
  events each, plus five tariff-sheet events, written through
  ``Ledger.save(*aggregates)``. The commands are called on the ``Contract``
  aggregates directly, one recording day at a time, so that the notification
  log interleaves the contracts the way daily work would (see
  :func:`build_plans` and :func:`load`).
* **Raw read rate** (the library's limit): every notification read from the
  log in pages of 500 (``recorder.select_notifications``) and decoded
  (``mapper.to_domain_event``); events per second. It is measured before the
  first view and after each view, so each view is compared with the raw reads
  on either side of it.
* **Catch-up rate of each view**: the view is rebuilt from position 0
  (``Views.rebuild``: reset, then ``catch_up``, which reads the same pages of
  500, folds the events and writes one batch per page); events per second.
  Ratio = view rate / mean of the neighbouring raw read rates.
* **Invoices**: ``Ledger.issue_invoices`` for one month (February 2026) for
  every buyer, from the caught-up billing view. Then retroactive changes are
  recorded for a share of the contracts, the views catch up, and the next
  month (March 2026) is issued with its adjustments for February.

The benchmark works in its own database (``kontraktledger_bench`` by default,
created if missing) and its own schema in it (``bench``), dropped and
recreated at the start, so it never touches the tests' data. The aggregate
cache, payload cipher and compressor must be off; the script checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a file, bench/ is sys.path[0], and this file would shadow the projections package.
sys.path.remove(str(Path(__file__).resolve().parent))

import argparse
import base64
import cProfile
import datetime as dt
import gc
import importlib.metadata
import io
import os
import platform
import pstats
import random
import statistics
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from pydantic import SecretStr
from stdnum import ean as stdnum_ean
from stdnum.dk import cvr as stdnum_cvr

from adapters.bootstrap import Runtime, build, ensure_postgres_database, migrate
from adapters.settings import Settings, Storage
from adapters.views import Views
from ledger.application import Ledger
from ledger.clock import FixedClock, local_instant, recording_with
from ledger.contract import Contract
from ledger.identifiers import validate_cvr, validate_ean
from ledger.invoice import Invoice
from ledger.tariff_sheet import SheetPrice, TariffSheet, price
from ledger.tariffs import get_model
from ledger.values import (
    AbsenceKind,
    Actor,
    ComponentPrice,
    DataRole,
    IndexSource,
    Municipality,
    NoticePeriod,
    Operator,
    Party,
    PaymentOption,
    Pricing,
    Provider,
    RequestNature,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
)
from projections.registry import VIEWS

# --- targets (issue 3) -------------------------------------------------------------

TARGET_RATIO = 0.25  # every view's catch-up rate / the raw read rate
TARGET_INVOICE_S = 10.0  # one month's invoices for all buyers
TARGET_CONTRACTS = 10_000  # the targets are stated for at least this load ...
TARGET_EVENTS = 200_000  # ... and this many events

PAGE = 500  # the page size of Views.catch_up and of the raw read

# --- the calendar of the load ---------------------------------------------------------

FIRST_START = dt.date(2025, 1, 6)  # line starts are spread from here ...
LAST_START = dt.date(2025, 9, 30)  # ... to here
LOG_END = dt.date(2026, 2, 25)  # the last recording day of the load
SHEETS_2025_ON = dt.date(2024, 12, 1)
CORRECTION_ON = dt.date(2025, 6, 16)  # offer A's 2025 sheet is corrected
SHEETS_2026_ON = dt.date(2025, 12, 1)
FRAMEWORK_FROM, FRAMEWORK_TO = dt.date(2025, 11, 3), dt.date(2025, 11, 28)
REGULATION_FROM, REGULATION_TO = dt.date(2026, 1, 5), dt.date(2026, 2, 20)
NOTICE_FROM, NOTICE_TO = dt.date(2025, 6, 1), dt.date(2025, 12, 15)
FIRST_MONTH = dt.date(2026, 2, 1)  # the month invoiced first ...
FIRST_ISSUE_ON = dt.date(2026, 3, 2)  # ... on this day
RETRO_ON = dt.date(2026, 3, 10)  # retroactive changes are recorded from this day
RETRO_STEP_FROM = dt.date(2026, 2, 15)  # ... a step change effective from here
RETRO_RECEIVED_ON = dt.date(2026, 2, 10)  # ... a renegotiation received here
SECOND_MONTH = dt.date(2026, 3, 1)  # the month invoiced second, with adjustments ...
SECOND_ISSUE_ON = dt.date(2026, 4, 1)  # ... on this day
THIRD_MONTH = dt.date(2026, 4, 1)  # the month invoiced after VACUUM ANALYZE of the views ...
THIRD_ISSUE_ON = dt.date(2026, 5, 1)  # ... on this day

# --- parties ---------------------------------------------------------------------------

OPERATOR = Actor("system", Role.OPERATOR, "key-ops", "bench")
TERMS = Terms(
    payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED,
    notice_period=NoticePeriod(months=3),
    data_role=DataRole.INDEPENDENT_CONTROLLER,
)
SHEET_MODELS = ("slotsvaenget-85", "slotsvaenget-104")
AGREED_MODEL = "gentofte-botilbud"


def cvr_numbers(count: int, first: int = 2918990) -> list[str]:
    """``count`` distinct CVR numbers that pass the modulus 11 check (stdnum)."""
    found: list[str] = []
    prefix = first
    while len(found) < count:
        for digit in range(10):
            candidate = f"{prefix}{digit}"
            if stdnum_cvr.is_valid(candidate):
                found.append(validate_cvr(candidate))
                break
        prefix += 1
    return found


def ean_number(serial: int) -> str:
    """A 13-digit EAN location number with its GS1 check digit (stdnum)."""
    body = f"5798{serial:08d}"
    return validate_ean(body + stdnum_ean.calc_check_digit(body))


def municipalities(count: int) -> list[Municipality]:
    """``count`` buyers with distinct, valid CVR and EAN numbers."""
    return [
        Municipality(f"Bench Kommune {n + 1:03d}", cvr, ean_number(1000 + n))
        for n, cvr in enumerate(cvr_numbers(count))
    ]


PROVIDER_CVRS = cvr_numbers(3, first=1171530)
OFFER_A = Provider(
    "bench-stottepakken-a", "Støttepakken A (bench)", PROVIDER_CVRS[0], Operator.MUNICIPAL
)
OFFER_B = Provider(
    "bench-bofaellesskab-b", "Bofællesskab B (bench)", PROVIDER_CVRS[1], Operator.REGIONAL
)
OFFER_C = Provider(
    "bench-saerforanstaltning-c",
    "Særforanstaltning C (bench)",
    PROVIDER_CVRS[2],
    Operator.MUNICIPAL,
)
TARIFF_OFFERS = (OFFER_A, OFFER_B)


def buyer_admin(buyer: Municipality) -> Actor:
    """The buyer's administrator."""
    return Actor(buyer.cvr, Role.BUYER_ADMIN, "key-buyer", "bench")


def provider_admin(provider: Provider) -> Actor:
    """The provider's administrator."""
    return Actor(provider.registration, Role.PROVIDER_ADMIN, "key-provider", "bench")


def sheet_prices(year: int, base: Decimal = Decimal(100)) -> list[SheetPrice]:
    """A complete sheet of both Slotsvænget models: steps rising by 10, +3 % a year."""
    factor = Decimal("1.03") ** (year - 2025)
    prices: list[SheetPrice] = []
    for code in SHEET_MODELS:
        model = get_model(code)
        for component in model.components:
            if component.per_step:
                prices.extend(
                    price(
                        code,
                        component.code,
                        step,
                        daily=((base + index * 10) * factor).quantize(Decimal("0.01")),
                    )
                    for index, step in enumerate(model.step_codes)
                )
            else:
                prices.append(
                    price(code, component.code, daily=(base / 2 * factor).quantize(Decimal("0.01")))
                )
    return prices


def other_step(model_code: str, step: str) -> str:
    """The partner of ``step`` in its pair of neighbouring steps (0-1, 2-3, ...)."""
    codes = get_model(model_code).step_codes
    index = codes.index(step)
    return codes[index + 1] if index % 2 == 0 else codes[index - 1]


# --- the plan: what happens to each contract, and on which day -------------------------

FOLLOW_UP = ("follow_up",)
ABSENCE = ("absence_start", "absence_notify", "absence_end")
RENEGOTIATION = ("renegotiation_request", "renegotiation_answer")
STEP = ("step_change",)
CYCLE = (FOLLOW_UP, ABSENCE, RENEGOTIATION, STEP, FOLLOW_UP, ABSENCE, STEP, FOLLOW_UP)
CORE = ("draft", "offer", "finalise", "sign_buyer", "sign_provider")
CORE_OFFSETS = (-21, -14, -14, -10, -7)  # days before the line start


@dataclass
class Plan:
    """One contract: its parties, kind, line start and dated commands."""

    index: int
    buyer: Municipality
    provider: Provider
    agreed: bool  # a særforanstaltning with agreed prices (else §85 + §104 on a sheet)
    start: dt.date
    notice: bool
    items: list[tuple[dt.date, str]] = field(default_factory=list)


def random_day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A day in ``first..last``."""
    return first + dt.timedelta(days=rng.randint(0, max((last - first).days, 0)))


def build_plans(
    contracts: int, events: int, buyers: list[Municipality], rng: random.Random
) -> list[Plan]:
    """Every contract's commands with their recording days; exactly ``events`` each.

    Each contract is drafted, offered, made final and signed by both parties
    in the three weeks before its line start. Then, spread at random over the
    days from two weeks after the start to the end of the load: follow-ups,
    absences (start, notice, end), renegotiations (a provider request and the
    buyer's answer, approved with retroactive effect), step changes, a
    framework notice in November 2025 and the 2026 regulation in January or
    February 2026; one contract in 20 is given notice and its place re-occupied.
    """
    weights = [1 / (rank + 5) for rank in range(len(buyers))]  # a few large buyers
    plans = []
    for index in range(contracts):
        share = rng.random()
        provider = OFFER_A if share < 0.6 else OFFER_B if share < 0.85 else OFFER_C  # noqa: PLR2004
        start = random_day(rng, FIRST_START, LAST_START)
        plan = Plan(
            index,
            rng.choices(buyers, weights)[0],
            provider,
            agreed=provider is OFFER_C,
            start=start,
            notice=rng.random() < 0.05,  # noqa: PLR2004
        )
        plan.items = [
            (start + dt.timedelta(days=offset), kind)
            for offset, kind in zip(CORE_OFFSETS, CORE, strict=True)
        ][: min(events, len(CORE))]
        budget = events - len(plan.items)
        fixed: list[tuple[dt.date, str]] = []
        if budget >= 1:
            fixed.append((random_day(rng, REGULATION_FROM, REGULATION_TO), "regulation"))
        if budget >= 6:  # noqa: PLR2004
            fixed.append((random_day(rng, FRAMEWORK_FROM, FRAMEWORK_TO), "framework"))
        if plan.notice and budget >= 8:  # noqa: PLR2004
            given = random_day(rng, max(NOTICE_FROM, start + dt.timedelta(days=60)), NOTICE_TO)
            fixed.append((given, "notice"))
            fixed.append((given + dt.timedelta(days=rng.randint(10, 60)), "reoccupation"))
        kinds: list[str] = []
        turn = rng.randrange(len(CYCLE))
        while len(kinds) < budget - len(fixed):
            episode = CYCLE[turn % len(CYCLE)]
            turn += 1
            kinds.extend(episode if len(episode) <= budget - len(fixed) - len(kinds) else FOLLOW_UP)
        first = start + dt.timedelta(days=14)
        days = sorted(random_day(rng, first, LOG_END) for _ in kinds)
        dated = [*zip(days, kinds, strict=True), *fixed]
        # A stable sort keeps the order of an episode's commands on a shared day.
        plan.items.extend(sorted(dated, key=lambda item: item[0]))
        plans.append(plan)
    return plans


# --- the load ----------------------------------------------------------------------------


def draft(plan: Plan, rng: random.Random) -> Contract:
    """Draft the contract of ``plan``."""
    if plan.agreed:
        basis, service = rng.choice(((400, 600), (450, 700), (520, 810)))
        lines: tuple[ServiceLineSpec, ...] = (
            ServiceLineSpec(
                "SEL §108",
                AGREED_MODEL,
                "10",
                Decimal(28),
                Unit.PLACE,
                plan.start,
                pricing=Pricing.AGREED,
                agreed_prices=(
                    ComponentPrice("basis", Decimal(basis)),
                    ComponentPrice("service", Decimal(service)),
                ),
            ),
        )
    else:
        lines = (
            ServiceLineSpec(
                "SEL §85",
                "slotsvaenget-85",
                rng.choice(("2", "3", "4", "5")),
                Decimal(26),
                Unit.HOURS_PER_WEEK,
                plan.start,
            ),
            ServiceLineSpec(
                "SEL §104",
                "slotsvaenget-104",
                rng.choice(("1:2", "2:1", "2:2", "3:3")),
                Decimal(23),
                Unit.HOURS_PER_WEEK,
                plan.start,
            ),
        )
    return Contract.draft(
        buyer=plan.buyer,
        provider=plan.provider,
        citizen_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        lines=lines,
        terms=TERMS,
        actor=buyer_admin(plan.buyer),
    )


def raised(prices: tuple[ComponentPrice, ...], percent: int) -> tuple[ComponentPrice, ...]:
    """Agreed prices raised by ``percent``, to øre."""
    factor = 1 + Decimal(percent) / 100
    return tuple(
        ComponentPrice(c.component, (c.daily * factor).quantize(Decimal("0.01"))) for c in prices
    )


def apply(  # noqa: C901, PLR0912 - one branch per kind of command
    contract: Contract, plan: Plan, kind: str, day: dt.date, rng: random.Random
) -> None:
    """Run the command ``kind`` of ``plan`` on ``contract``, as of ``day``."""
    buyer, provider = buyer_admin(plan.buyer), provider_admin(plan.provider)
    line_id = rng.choice(tuple(contract.lines))
    line = contract.lines[line_id]
    if kind == "offer":
        contract.offer_place(day, actor=provider)
    elif kind == "finalise":
        contract.finalise_placement(day, actor=OPERATOR)
    elif kind == "sign_buyer":
        contract.sign(Party.BUYER, day, actor=buyer)
    elif kind == "sign_provider":
        contract.sign(Party.PROVIDER, day, actor=provider)
    elif kind == "follow_up":
        contract.hold_follow_up(line_id, day, actor=buyer)
    elif kind == "absence_start":
        started = day - dt.timedelta(days=rng.randint(0, 3))
        contract.start_absence(rng.choice(tuple(AbsenceKind)), started, actor=provider)
    elif kind in {"absence_notify", "absence_end"}:
        absence = contract.current_absence
        if absence is None:
            msg = f"contract {plan.index}: no open absence for {kind}"
            raise RuntimeError(msg)
        if kind == "absence_notify":
            contract.notify_absence(absence.absence_id, day, actor=provider)
        else:
            contract.end_absence(absence.absence_id, day, actor=provider)
    elif kind == "renegotiation_request":
        request(contract, plan, "1", day - dt.timedelta(days=3))
    elif kind == "renegotiation_answer":
        answer(contract, plan, day, approved=rng.random() < 0.9)  # noqa: PLR2004
    elif kind == "step_change":
        contract.change_step(
            line_id,
            other_step(line.spec.tariff_model, line.step_on(day)),
            effective_from=day,
            agreed_on=day,
            agreement_ref=f"Aftale {day.isoformat()}",
            actor=buyer,
        )
    elif kind == "framework":
        contract.notify_framework_change(
            received_on=day,
            framework_version="Rammeaftale 2026",
            adoption_year=2025,
            actor=provider,
        )
    elif kind == "regulation":
        regulate(contract, plan)
    elif kind == "notice":
        contract.give_notice(given_by=Party.BUYER, given_on=day, actor=buyer)
    elif kind == "reoccupation":
        contract.record_reoccupation(day, actor=provider)
    else:
        msg = f"unknown command {kind}"
        raise ValueError(msg)


def request(contract: Contract, plan: Plan, line_id: str, received_on: dt.date) -> None:
    """The provider asks for a new step (sheet lines) or new prices (agreed lines)."""
    line = contract.lines[line_id]
    proposal: dict[str, Any] = (
        {"proposed_prices": raised(line.prices_on(received_on), 5)}
        if plan.agreed
        else {"proposed_step": other_step(line.spec.tariff_model, line.step_on(received_on))}
    )
    contract.request_renegotiation(
        line_id,
        requested_by=Party.PROVIDER,
        received_on=received_on,
        nature=RequestNature.LASTING,
        description="Lasting change in need, documented in a Bilag 3 day schedule",
        actor=provider_admin(plan.provider),
        **proposal,
    )


def answer(contract: Contract, plan: Plan, day: dt.date, *, approved: bool) -> None:
    """The buyer answers the open request: approved with retroactive effect, or rejected."""
    open_requests = [r for r in contract.renegotiations.values() if r.is_open]
    if not open_requests:
        msg = f"contract {plan.index}: no open request to answer"
        raise RuntimeError(msg)
    contract.answer_renegotiation(
        open_requests[0].request_id,
        answered_by=Party.BUYER,
        answered_on=day,
        approved=approved,
        agreement_ref=f"Tillæg {day.isoformat()}" if approved else None,
        reason="" if approved else "The day schedule does not show a lasting change",
        actor=buyer_admin(plan.buyer),
    )


def regulate(contract: Contract, plan: Plan) -> None:
    """The 2026 regulation: the new sheet, or KL's index for agreed prices."""
    if plan.agreed:
        contract.regulate_by_index(
            2026,
            pl_percentage=Decimal("2.6"),
            overhead_percentage=Decimal("0.4"),
            source=IndexSource.KL,
            edition="KL juni 2025",
            actor=OPERATOR,
        )
    else:
        contract.regulate_by_tariff_sheet(2026, actor=OPERATOR)


@dataclass
class Loaded:
    """What the load wrote."""

    contracts: dict[int, Contract]
    events: int
    seconds: float
    saves: int
    days: int


def sheet_actions() -> dict[dt.date, list[Callable[[dict[tuple[str, int], TariffSheet]], None]]]:
    """The tariff-sheet events of the load, by recording day."""

    def publish(offer: Provider, year: int) -> Callable[[dict[tuple[str, int], TariffSheet]], None]:
        def action(sheets: dict[tuple[str, int], TariffSheet]) -> None:
            sheets[offer.offer, year] = TariffSheet.publish(
                offer=offer.offer,
                year=year,
                prices=sheet_prices(year),
                source=f"Takstblad {year} (bench)",
                actor=OPERATOR,
            )

        return action

    def correct(sheets: dict[tuple[str, int], TariffSheet]) -> None:
        sheets[OFFER_A.offer, 2025].correct(
            prices=sheet_prices(2025, base=Decimal(102)),
            reason="Corrected service prices (bench)",
            actor=OPERATOR,
        )

    return {
        SHEETS_2025_ON: [publish(offer, 2025) for offer in TARIFF_OFFERS],
        CORRECTION_ON: [correct],
        SHEETS_2026_ON: [publish(offer, 2026) for offer in TARIFF_OFFERS],
    }


class Loader:
    """Records the plans through one ledger, one recording day at a time."""

    def __init__(
        self, ledger: Ledger, clock: FixedClock, plans: list[Plan], rng: random.Random
    ) -> None:
        """Start with nothing recorded."""
        self.ledger, self.clock, self.plans, self.rng = ledger, clock, plans, rng
        self.contracts: dict[int, Contract] = {}
        self.sheets: dict[tuple[str, int], TariffSheet] = {}
        self.events = self.saves = 0

    def record_sheets(
        self, actions: list[Callable[[dict[tuple[str, int], TariffSheet]], None]]
    ) -> None:
        """Publish or correct sheets, and save them."""
        for action in actions:
            action(self.sheets)
            self.clock.advance(dt.timedelta(seconds=1))
        pending = [s for s in self.sheets.values() if s.pending_events]
        if pending:
            self.ledger.save(*pending)
            self.saves += 1
            self.events += len(pending)

    def record_contracts(self, day: dt.date, todo: list[tuple[int, list[str]]]) -> None:
        """Run each contract's commands of ``day`` and save the contracts together."""
        touched = []
        for index, kinds in todo:
            plan = self.plans[index]
            for kind in kinds:
                if kind == "draft":
                    self.contracts[index] = draft(plan, self.rng)
                else:
                    apply(self.contracts[index], plan, kind, day, self.rng)
                self.clock.advance(dt.timedelta(seconds=1))
                self.events += 1
            touched.append(self.contracts[index])
        self.ledger.save(*touched)
        self.saves += 1


def load(
    ledger: Ledger, clock: FixedClock, plans: list[Plan], rng: random.Random, save_batch: int
) -> Loaded:
    """Record every plan, one recording day at a time.

    Each day, the contracts with commands that day are taken in a shuffled
    order; a contract's commands of the day are consecutive (the save writes
    each aggregate's new events together). The day's aggregates are saved
    ``save_batch`` at a time. The clock moves on by a second per command, from
    08:00 Copenhagen time.
    """
    by_day: dict[dt.date, dict[int, list[str]]] = {}
    for plan in plans:
        for day, kind in plan.items:
            by_day.setdefault(day, {}).setdefault(plan.index, []).append(kind)
    sheets_by_day = sheet_actions()
    days = sorted(set(by_day) | set(sheets_by_day))
    loader = Loader(ledger, clock, plans, rng)
    total = sum(len(p.items) for p in plans)
    next_report = 0.1
    started = time.perf_counter()
    for day in days:
        clock.set(local_instant(day, 8))
        with recording_with(clock):
            loader.record_sheets(sheets_by_day.get(day, []))
            todo = list(by_day.get(day, {}).items())
            rng.shuffle(todo)
            for begin in range(0, len(todo), save_batch):
                loader.record_contracts(day, todo[begin : begin + save_batch])
        if loader.events >= next_report * total:
            elapsed = time.perf_counter() - started
            print(f"  loaded {loader.events:>8,} events (to {day}), {elapsed:6.1f} s", flush=True)
            next_report += 0.1
    elapsed = time.perf_counter() - started
    return Loaded(loader.contracts, loader.events, elapsed, loader.saves, len(days))


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Events processed and the time taken."""

    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Events per second."""
        return self.events / self.seconds


def raw_read(ledger: Ledger) -> Rate:
    """Read every notification in pages of 500 and decode it: the library's limit."""
    gc.collect()
    recorder, mapper = ledger.recorder, ledger.mapper
    count = 0
    start = 1
    began = time.perf_counter()
    while True:
        page = recorder.select_notifications(start, PAGE)
        if not page:
            break
        for notification in page:
            mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id + 1
    return Rate(count, time.perf_counter() - began)


@dataclass(frozen=True)
class LogShape:
    """What the log holds: events per type and how contracts share the pages."""

    topics: Counter[str]
    pages: int
    contract_events: int
    distinct_per_page: float  # mean distinct contracts per page of 500
    events_per_contract_in_page: float  # mean contract events per (page, contract)


def log_shape(ledger: Ledger) -> LogShape:
    """Count event types, and how many distinct contracts a page of 500 touches."""
    topics: Counter[str] = Counter()
    distinct: list[int] = []
    contract_events = 0
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start, PAGE)
        if not page:
            break
        ids = set()
        for notification in page:
            topics[notification.topic.rsplit(".", 1)[-1]] += 1
            if notification.topic.startswith("ledger.contract:"):
                ids.add(notification.originator_id)
                contract_events += 1
        distinct.append(len(ids))
        start = page[-1].id + 1
    return LogShape(
        topics,
        len(distinct),
        contract_events,
        statistics.mean(distinct),
        contract_events / max(sum(distinct), 1),
    )


@dataclass(frozen=True)
class ViewRun:
    """One view's catch-up from position 0, between two raw reads."""

    name: str
    rate: Rate
    raw_before: Rate
    raw_after: Rate

    @property
    def raw_per_second(self) -> float:
        """The mean of the neighbouring raw read rates."""
        return (self.raw_before.per_second + self.raw_after.per_second) / 2

    @property
    def ratio(self) -> float:
        """View rate / raw read rate."""
        return self.rate.per_second / self.raw_per_second


def measure_views(views: Views, ledger: Ledger) -> list[ViewRun]:
    """Rebuild each view from position 0, with a raw read before and after each."""
    head = views.head()
    raw = raw_read(ledger)
    print(f"  raw read: {raw.per_second:8.0f} events/s ({raw.seconds:.1f} s)", flush=True)
    runs = []
    for name in VIEWS:
        gc.collect()
        began = time.perf_counter()
        applied = views.rebuild(name)
        rate = Rate(applied, time.perf_counter() - began)
        if applied != head or views.views[name].position() != head:
            msg = f"view {name} applied {applied} events, the log holds {head}"
            raise RuntimeError(msg)
        after = raw_read(ledger)
        runs.append(ViewRun(name, rate, raw, after))
        print(
            f"  {name:<17} {rate.per_second:8.0f} events/s ({rate.seconds:.1f} s); "
            f"raw read after: {after.per_second:8.0f} events/s; ratio {runs[-1].ratio:.3f}",
            flush=True,
        )
        raw = after
    return runs


@dataclass(frozen=True)
class Issue:
    """One month's invoices for all buyers."""

    month: dt.date
    seconds: float
    invoices: int
    lines: int
    adjustments: int
    total: Decimal


def issue(ledger: Ledger, views: Views, clock: FixedClock, month: dt.date, on: dt.date) -> Issue:
    """Time ``issue_invoices`` for ``month`` on day ``on``, from the billing view."""
    clock.set(local_instant(on, 9))
    gc.collect()
    began = time.perf_counter()
    invoices = ledger.issue_invoices(month, views.billing, actor=OPERATOR)
    seconds = time.perf_counter() - began
    return Issue(
        month,
        seconds,
        len(invoices),
        sum(len(i.lines) for i in invoices),
        sum(len(i.adjustments) for i in invoices),
        sum((i.total for i in invoices), Decimal(0)),
    )


def retroactive_changes(
    ledger: Ledger,
    clock: FixedClock,
    *,
    plans: list[Plan],
    contracts: dict[int, Contract],
    share: float,
    rng: random.Random,
) -> int:
    """Record changes reaching back into the invoiced month for ``share`` of the contracts.

    Sheet contracts: a step change agreed on 10 March, effective from 15
    February. Agreed contracts: a renegotiation received on 10 February and
    approved on 12 March (effective from its receipt). Returns the events.
    """
    chosen = [p for p in plans if not p.notice and rng.random() < share]
    events = 0
    with recording_with(clock):
        for begin in range(0, len(chosen), 500):
            batch = chosen[begin : begin + 500]
            for plan in batch:
                contract = contracts[plan.index]
                clock.set(local_instant(RETRO_ON, 8) + dt.timedelta(seconds=events))
                if plan.agreed:
                    request(contract, plan, "1", RETRO_RECEIVED_ON)
                    answer(contract, plan, RETRO_ON + dt.timedelta(days=2), approved=True)
                    events += 2
                else:
                    line = contract.lines["1"]
                    contract.change_step(
                        "1",
                        other_step(line.spec.tariff_model, line.step_on(RETRO_STEP_FROM)),
                        effective_from=RETRO_STEP_FROM,
                        agreed_on=RETRO_ON,
                        agreement_ref="Aftale 2026-03-10 (retroactive)",
                        actor=buyer_admin(plan.buyer),
                    )
                    events += 1
            ledger.save(*(contracts[p.index] for p in batch))
    return events


def timed(operation: Callable[[], object]) -> tuple[object, float]:
    """Run ``operation``; return its result and the seconds it took."""
    gc.collect()
    began = time.perf_counter()
    result = operation()
    return result, time.perf_counter() - began


def profile_view(views: Views, name: str) -> str:
    """Profile a rebuild of one view with cProfile, to see where its time goes."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    views.rebuild(name)
    profiler.disable()
    out = io.StringIO()
    out.write(f"\n=== cProfile: rebuild of {name} ===\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    return out.getvalue()


# --- settings, database and machine -------------------------------------------------------


def bench_settings(dbname: str, schema: str) -> Settings:
    """Settings of the bench database: the tests' server variables, its own database."""
    return Settings(
        storage=Storage.POSTGRES,
        postgres_host=os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        postgres_port=int(os.environ.get("POSTGRES_PORT", "5432")),
        postgres_user=os.environ.get("POSTGRES_USER", "postgres"),
        postgres_password=SecretStr(os.environ.get("POSTGRES_PASSWORD", "")),
        postgres_dbname=dbname,
        postgres_schema=schema,
        cipher_key=None,
        citizen_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        create_tables=True,
    )


def reset_schema(settings: Settings, *, drop_only: bool = False) -> None:
    """Drop the bench schema (and, unless ``drop_only``, recreate and migrate it)."""
    ensure_postgres_database(settings)
    with psycopg.connect(
        settings.server_conninfo(settings.postgres_dbname), autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(settings.postgres_schema)
            )
        )
    if not drop_only:
        migrate(settings)


def vacuum(settings: Settings, *, views: bool = False) -> float:
    """VACUUM ANALYZE the event store's tables (or the views'); returns the seconds.

    After the load, the event store: a freshly loaded table is read slowly
    the first time (hint bits are set on read) and, where autovacuum is on,
    it would start during the timed reads; vacuuming first puts the log in
    the state a long-running system has. The views' tables are left alone
    then: vacuumed while empty, their statistics would make PostgreSQL's
    cached generic plans for the per-contract deletes sequential scans (see
    docs/performance.md). With ``views``, the views' tables instead, once
    they hold rows: what autovacuum would have done during the catch-up.
    """
    began = time.perf_counter()
    with psycopg.connect(
        settings.server_conninfo(settings.postgres_dbname), autocommit=True
    ) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (settings.postgres_schema,)
        ).fetchall()
        view_tables = {t for spec in VIEWS.values() for t in spec.postgres.tables}
        for (table,) in tables:
            if (table in view_tables) if views else table.startswith("ledger_"):
                conn.execute(
                    sql.SQL("VACUUM (ANALYZE) {}.{}").format(
                        sql.Identifier(settings.postgres_schema), sql.Identifier(table)
                    )
                )
    return time.perf_counter() - began


def check_runtime(runtime: Runtime) -> None:
    """Refuse a cache, cipher or compressor: the figures would measure something else."""
    ledger = runtime.ledger
    if ledger.repository.cache is not None:
        msg = "an aggregate cache is on (AGGREGATE_CACHE_MAXSIZE); unset it"
        raise RuntimeError(msg)
    if ledger.mapper.cipher is not None or ledger.mapper.compressor is not None:
        msg = "a payload cipher or compressor is on (CIPHER_TOPIC, COMPRESSOR_TOPIC); unset them"
        raise RuntimeError(msg)


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
    with psycopg.connect(settings.server_conninfo(settings.postgres_dbname)) as conn:
        values = []
        for name in (
            "server_version",
            "fsync",
            "synchronous_commit",
            "shared_buffers",
            "autovacuum",
        ):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            values.append(str(row[0]) if row else "?")
    server, fsync, sync, buffers, autovacuum = values
    where = f"{settings.postgres_host}:{settings.postgres_port}"
    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} logical, {usable} usable by this process"),
        ("memory", memory),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        (
            "PostgreSQL",
            (
                f"{server} at {where} (fsync={fsync}, synchronous_commit={sync}, "
                f"shared_buffers={buffers}, autovacuum={autovacuum})"
            ),
        ),
        ("database", f"{settings.postgres_dbname}, schema {settings.postgres_schema}"),
        ("eventsourcing", importlib.metadata.version("eventsourcing")),
        ("psycopg", importlib.metadata.version("psycopg")),
        ("source", source_state()),
    ]


def source_state() -> str:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    files = sorted(line[3:] for line in changed if line.strip())
    return f"{commit}" + (f" + uncommitted changes in {', '.join(files)}" if files else "")


# --- report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One target of the issue and what was measured."""

    target: str
    measured: str
    met: bool


def checks(
    args: argparse.Namespace, runs: list[ViewRun], months: tuple[Issue, Issue], events: int
) -> list[Check]:
    """The issue's targets against the figures.

    The invoice target is checked for both months: the first invoice of every
    buyer, and the next month, whose invoices also carry adjustments (every
    month after the first does).
    """
    found = [
        Check(
            f"{run.name}: catch-up / raw read >= {TARGET_RATIO}",
            f"{run.ratio:.3f}",
            run.ratio >= TARGET_RATIO,
        )
        for run in runs
    ]
    found.extend(
        Check(
            f"{month.month:%Y-%m} invoices, {args.contracts:,} contracts < {TARGET_INVOICE_S:g} s",
            f"{month.seconds:.2f} s",
            month.seconds < TARGET_INVOICE_S,
        )
        for month in months
    )
    if args.contracts < TARGET_CONTRACTS or events < TARGET_EVENTS:
        found.append(
            Check(
                f"load >= {TARGET_CONTRACTS:,} contracts and {TARGET_EVENTS:,} events",
                f"{args.contracts:,} / {events:,}",
                met=False,
            )
        )
    return found


def print_issue(title: str, result: Issue) -> None:
    """One invoicing run."""
    print(
        f"  {title:<44} {result.seconds:7.2f} s  {result.invoices:>4} invoices, "
        f"{result.lines:>6,} lines, {result.adjustments:>5,} adjustments, "
        f"total {result.total:,.2f} DKK"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contracts", type=int, default=10_000, help="contracts to load")
    parser.add_argument(
        "--events-per-contract",
        type=int,
        default=20,
        help="events each contract receives in the load (at least 5)",
    )
    parser.add_argument("--buyers", type=int, default=98, help="buying municipalities")
    parser.add_argument(
        "--retro-share",
        type=float,
        default=0.1,
        help="share of contracts changed retroactively before the second month",
    )
    parser.add_argument(
        "--save-batch", type=int, default=500, help="aggregates per Ledger.save in the load"
    )
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated data")
    parser.add_argument(
        "--dbname", default="kontraktledger_bench", help="database (created if missing)"
    )
    parser.add_argument(
        "--schema", default="bench", help="schema the bench owns (dropped and recreated)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the schema afterwards (default: drop it)"
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        choices=[*VIEWS, "all"],
        help="after the figures, cProfile a rebuild of this view (repeatable; 'all')",
    )
    args = parser.parse_args(argv)
    if args.events_per_contract < len(CORE):
        parser.error(f"--events-per-contract must be at least {len(CORE)}")
    if args.contracts < 1 or args.buyers < 1:
        parser.error("--contracts and --buyers must be positive")
    return args


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - the run, step by step
    """Run the benchmark and print the figures; exit 1 when a target is missed."""
    args = parse_args(argv)
    settings = bench_settings(args.dbname, args.schema)
    print(
        f"Read-model benchmark on PostgreSQL, database {args.dbname}, "
        f"schema {args.schema} (dropped and recreated)",
        flush=True,
    )
    reset_schema(settings)
    rows = machine(settings)
    clock = FixedClock(local_instant(SHEETS_2025_ON, 8))
    runtime = build(settings, clock=clock)
    views = Views(settings, runtime.ledger)
    ledger = runtime.ledger
    try:
        check_runtime(runtime)
        rng = random.Random(args.seed)
        buyers = municipalities(args.buyers)
        plans = build_plans(args.contracts, args.events_per_contract, buyers, rng)
        print(
            f"Load: {args.contracts:,} contracts x {args.events_per_contract} events, "
            f"{len({p.buyer for p in plans})} buyers",
            flush=True,
        )
        loaded = load(ledger, clock, plans, rng, args.save_batch)
        vacuumed = vacuum(settings)
        shape = log_shape(ledger)  # also warms the caches before the first timed read
        print("Views (raw read, then each view rebuilt from 0 and a raw read after it):")
        runs = measure_views(views, ledger)
        print("Invoices:", flush=True)
        first = issue(ledger, views, clock, FIRST_MONTH, FIRST_ISSUE_ON)
        _, invoices_caught = timed(views.catch_up)
        retro = retroactive_changes(
            ledger,
            clock,
            plans=plans,
            contracts=loaded.contracts,
            share=args.retro_share,
            rng=random.Random(args.seed + 1),
        )
        caught, retro_caught = timed(views.catch_up)
        second = issue(ledger, views, clock, SECOND_MONTH, SECOND_ISSUE_ON)
        again, again_seconds = timed(
            lambda: ledger.issue_invoices(SECOND_MONTH, views.billing, actor=OPERATOR)
        )
        views.catch_up()  # the second month's invoices
        analyzed = vacuum(settings, views=True)
        third = issue(ledger, views, clock, THIRD_MONTH, THIRD_ISSUE_ON)

        print("\nMachine")
        for key, value in rows:
            print(f"  {key:<14} {value}")
        print(
            f"\nLoad: {args.contracts:,} contracts, {loaded.events:,} events "
            f"({args.events_per_contract} per contract + 5 tariff-sheet events), "
            f"{len({p.buyer for p in plans})} buyers; {loaded.days} recording days, "
            f"{loaded.saves} saves; {loaded.seconds:.1f} s = "
            f"{loaded.events / loaded.seconds:,.0f} events/s (not a target); "
            f"then VACUUM ANALYZE {vacuumed:.1f} s"
        )
        print(
            f"  log: {shape.pages} pages of {PAGE}; a page touches on average "
            f"{shape.distinct_per_page:.0f} distinct contracts "
            f"({shape.events_per_contract_in_page:.2f} events per contract per page)"
        )
        print("  events by type: " + ", ".join(f"{t} {n:,}" for t, n in shape.topics.most_common()))
        print(f"\nCatch-up from position 0 ({runs[0].rate.events:,} events, pages of {PAGE})")
        print(f"  {'view':<17} {'events/s':>9} {'seconds':>8} {'raw events/s':>13} {'ratio':>6}")
        for run in runs:
            print(
                f"  {run.name:<17} {run.rate.per_second:9.0f} {run.rate.seconds:8.1f} "
                f"{run.raw_per_second:13.0f} {run.ratio:6.3f}"
            )
        raws = [runs[0].raw_before] + [run.raw_after for run in runs]
        print(
            "  raw read (select_notifications + to_domain_event): "
            + ", ".join(f"{r.per_second:.0f}" for r in raws)
            + f" events/s ({raws[0].seconds:.1f}-{raws[-1].seconds:.1f} s each)"
        )
        print("\nInvoices (Ledger.issue_invoices, all buyers, from the billing view)")
        print_issue(f"{FIRST_MONTH:%Y-%m} (first invoice of every buyer)", first)
        print(f"  billing view catches up with the invoices: {invoices_caught:.2f} s")
        print(
            f"  retroactive changes: {retro:,} events; all views catch up "
            f"({caught}) in {retro_caught:.2f} s"
        )
        print_issue(f"{SECOND_MONTH:%Y-%m} (with adjustments for {FIRST_MONTH:%Y-%m})", second)
        if not isinstance(again, list) or not all(isinstance(i, Invoice) for i in again):
            msg = "issuing again did not return the invoices"
            raise RuntimeError(msg)
        print(
            f"  issuing {SECOND_MONTH:%Y-%m} again (returns the issued invoices): "
            f"{again_seconds:.2f} s"
        )
        print(f"  VACUUM ANALYZE of the views' tables: {analyzed:.1f} s, then")
        print_issue(f"{THIRD_MONTH:%Y-%m} (informative: planner statistics)", third)

        results = checks(args, runs, (first, second), loaded.events)
        print("\nTargets (issue 3)")
        for check in results:
            print(f"  {check.target:<56} {check.measured:>10}  {'PASS' if check.met else 'MISS'}")
        names = list(VIEWS) if "all" in args.profile else list(dict.fromkeys(args.profile))
        for name in names:
            print(profile_view(views, name))
    finally:
        views.close()
        runtime.close()
        if not args.keep:
            reset_schema(settings, drop_only=True)
    return 0 if all(check.met for check in results) else 1


if __name__ == "__main__":
    sys.exit(main())
