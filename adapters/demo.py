"""Demo data: two offers' tariff sheets and a handful of contracts through their lifecycle.

ALL PRICES ARE ILLUSTRATIVE. The source documents give no kroner amounts
("Taksterne ajourføres og udgives årligt i et separat takstblad"); the numbers
below only make the demo's arithmetic visible. Citizens are fictional and
their CPR numbers synthetic.

The demo moves an injected clock along the business dates, so each event is
recorded on the day it happened and "as known at" queries give sensible
answers. Loading is idempotent: a second run finds the demo sheets and stops.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ledger.application import Ledger
from ledger.citizens import CitizenRegister
from ledger.clock import FixedClock, local_instant
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.tariff_sheet import SheetPrice, price, sheet_id
from ledger.tariffs import get_model
from ledger.values import (
    AbsenceKind,
    Actor,
    DataRole,
    Municipality,
    NoticePeriod,
    Operator,
    Party,
    PaymentOption,
    Provider,
    RequestNature,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
)

ILLUSTRATIVE = "ILLUSTRATIVE demo prices - not from any published takstblad"
OPERATOR = Actor("demo", Role.OPERATOR, "demo-loader", "demo")

STOTTEPAKKEN = Provider(
    "slotsvaenget-stottepakken",
    "Støttepakken, Slotsvænget (Lyngby-Taarbæk Kommune)",
    "11715311",
    Operator.MUNICIPAL,
)
GENTOFTE = Provider(
    "gentofte-botilbud-demo", "Botilbud (Gentofte Kommune, demo)", "19438414", Operator.MUNICIPAL
)
BUYER_NORD = Municipality("Demo Nord Kommune", "29189919", "5798000000018")
BUYER_SYD = Municipality("Demo Syd Kommune", "29189927", "5798000000025")


def _sheet(models: tuple[str, ...], year: int) -> list[SheetPrice]:
    """Illustrative daily prices: base 600/300 DKK, steps rising; +3 % in 2026."""
    factor = Decimal("1.03") ** (year - 2025)
    prices: list[SheetPrice] = []
    for code in models:
        model = get_model(code)
        for component in model.components:
            base = {"basis": Decimal(300), "night": Decimal(45), "service": Decimal(250)}
            amount = base.get(component.code, Decimal(100))
            if component.per_step:
                for index, step in enumerate(model.step_codes):
                    daily = (amount + index * Decimal(85)) * factor
                    prices.append(
                        price(code, component.code, step, daily=daily.quantize(Decimal("0.01")))
                    )
            else:
                prices.append(
                    price(code, component.code, daily=(amount * factor).quantize(Decimal("0.01")))
                )
    return prices


@dataclass(frozen=True)
class DemoResult:
    """What the demo loaded."""

    loaded: bool
    contract_ids: tuple[str, ...]


def load(ledger: Ledger, citizens: CitizenRegister) -> DemoResult:
    """Load the demo into ``ledger`` unless it is already there."""
    if ledger.recorder.select_events(sheet_id(STOTTEPAKKEN.offer, 2025), limit=1):
        return DemoResult(loaded=False, contract_ids=tuple(str(i) for i in ledger.contract_ids()))
    clock = FixedClock(local_instant(dt.date(2024, 12, 1)))
    original_clock = ledger.clock
    ledger.clock = clock
    try:
        ids = _load(ledger, citizens, clock)
    finally:
        ledger.clock = original_clock
    return DemoResult(loaded=True, contract_ids=tuple(str(i) for i in ids))


def _load(ledger: Ledger, citizens: CitizenRegister, clock: FixedClock) -> list[uuid.UUID]:
    def on(day: dt.date) -> dt.date:
        clock.set(local_instant(day))
        return day

    on(dt.date(2024, 12, 1))
    for year in (2025, 2026):
        on(dt.date(year - 1, 12, 1))
        ledger.publish_tariff_sheet(
            offer=STOTTEPAKKEN.offer,
            year=year,
            prices=_sheet(("slotsvaenget-85", "slotsvaenget-104"), year),
            source=ILLUSTRATIVE,
            actor=OPERATOR,
        )
        ledger.publish_tariff_sheet(
            offer=GENTOFTE.offer,
            year=year,
            prices=_sheet(("gentofte-botilbud",), year),
            source=ILLUSTRATIVE,
            actor=OPERATOR,
        )
    terms = Terms(
        payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED,
        notice_period=NoticePeriod(months=3),
        data_role=DataRole.INDEPENDENT_CONTROLLER,
    )
    ids: list[uuid.UUID] = []

    # 1. A §85 + §104 placement in Støttepakken, signed, regulated for 2026.
    first = _signed_contract(
        ledger,
        citizens,
        on,
        drafted_on=dt.date(2025, 1, 6),
        buyer=BUYER_NORD,
        provider=STOTTEPAKKEN,
        citizen=("0101901234", "Anna Demo"),
        terms=terms,
        lines=[
            _line("SEL §85", "slotsvaenget-85", "3", "26", dt.date(2025, 2, 1)),
            _line("SEL §104", "slotsvaenget-104", "2:2", "23", dt.date(2025, 2, 1)),
        ],
    )
    ids.append(first)

    # 2. A renegotiation received 10 April, approved 23 days later (3 May).
    second = _signed_contract(
        ledger,
        citizens,
        on,
        drafted_on=dt.date(2025, 2, 20),
        buyer=BUYER_SYD,
        provider=STOTTEPAKKEN,
        citizen=("1502851234", "Bo Demo"),
        terms=terms,
        lines=[
            _line("SEL §85", "slotsvaenget-85", "2", "19", dt.date(2025, 3, 1)),
            _line("SEL §104", "slotsvaenget-104", "1:2", "23", dt.date(2025, 3, 1)),
        ],
    )
    request = ledger.request_renegotiation(
        second,
        "1",
        requested_by=Party.PROVIDER,
        received_on=on(dt.date(2025, 4, 10)),
        nature=RequestNature.LASTING,
        description="Lasting rise in need, documented in a Bilag 3 day schedule",
        proposed_step="4",
        schedule=DaySchedule(
            completed_on="2025-04-08",
            segments=(
                ScheduleSegment("Morgenrutine", "Støtte til opstart af dagen", 120),
                ScheduleSegment("Aftensmad", "Madlavning sammen med borger", 90),
                ScheduleSegment("Aften", "Samtale og struktur for næste dag", 60, 2),
                ScheduleSegment(
                    "Øvrige aktiviteter/indirekte borgertid",
                    "Dokumentation og koordinering med egen læge",
                    60,
                    direct=False,
                    days_per_week=5,
                ),
            ),
        ),
        actor=OPERATOR,
    )
    ledger.answer_renegotiation(
        second,
        request,
        answered_by=Party.BUYER,
        answered_on=on(dt.date(2025, 5, 3)),
        approved=True,
        agreement_ref="Tillæg 2025-05-03",
        actor=OPERATOR,
    )
    ids.append(second)

    # 3. A Gentofte botilbud placement with a hospitalisation.
    third = _signed_contract(
        ledger,
        citizens,
        on,
        drafted_on=dt.date(2025, 3, 10),
        buyer=BUYER_NORD,
        provider=GENTOFTE,
        citizen=("2007781234", "Cille Demo"),
        terms=terms,
        lines=[
            _line(
                "SEL §108",
                "gentofte-botilbud",
                "12",
                "35",
                dt.date(2025, 4, 1),
                unit=Unit.PLACE,
                address="Demovej 1, 2900 Hellerup",
            )
        ],
    )
    absence = ledger.start_absence(
        third, AbsenceKind.HOSPITAL, on(dt.date(2025, 6, 3)), actor=OPERATOR
    )
    ledger.notify_absence(third, absence, on(dt.date(2025, 6, 6)), actor=OPERATOR)
    ledger.end_absence(third, absence, on(dt.date(2025, 6, 20)), actor=OPERATOR)
    ids.append(third)

    # 4. Notice given, place re-occupied before the notice ends (option 1).
    fourth = _signed_contract(
        ledger,
        citizens,
        on,
        drafted_on=dt.date(2025, 1, 15),
        buyer=BUYER_SYD,
        provider=GENTOFTE,
        citizen=("0311691234", "Dan Demo"),
        terms=terms,
        lines=[
            _line("SEL §108", "gentofte-botilbud", "8", "21", dt.date(2025, 2, 1), unit=Unit.PLACE)
        ],
    )
    ledger.give_notice(
        fourth, given_by=Party.BUYER, given_on=on(dt.date(2025, 9, 15)), actor=OPERATOR
    )
    ledger.record_reoccupation(fourth, on(dt.date(2025, 11, 1)), actor=OPERATOR)
    ids.append(fourth)

    # The 2026 regulation, recorded after January had begun (pkt. 8).
    on(dt.date(2026, 1, 20))
    for contract_id in (first, second, third):
        ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=OPERATOR)
    return ids


def _line(
    paragraph: str,
    model: str,
    step: str,
    quantity: str,
    start: dt.date,
    *,
    unit: Unit = Unit.HOURS_PER_WEEK,
    address: str | None = None,
) -> ServiceLineSpec:
    return ServiceLineSpec(
        paragraph,
        model,
        step,
        Decimal(quantity),
        unit,
        start,
        first_follow_up=start + dt.timedelta(days=91),
        dwelling_address=address,
    )


def _signed_contract(
    ledger: Ledger,
    citizens: CitizenRegister,
    on: Callable[[dt.date], dt.date],
    *,
    drafted_on: dt.date,
    buyer: Municipality,
    provider: Provider,
    citizen: tuple[str, str],
    terms: Terms,
    lines: list[ServiceLineSpec],
) -> uuid.UUID:
    """Register the citizen, draft, offer, finalise and sign: the usual way in."""
    day = on(drafted_on)
    cpr, name = citizen
    cid = ledger.draft_contract(
        buyer=buyer,
        provider=provider,
        citizen_id=citizens.register(cpr, name),
        lines=lines,
        terms=terms,
        actor=OPERATOR,
    )
    ledger.offer_place(cid, day, actor=OPERATOR)
    ledger.finalise_placement(cid, on(day + dt.timedelta(days=3)), actor=OPERATOR)
    signed = on(day + dt.timedelta(days=5))
    ledger.sign(cid, Party.BUYER, signed, actor=OPERATOR)
    ledger.sign(cid, Party.PROVIDER, signed, actor=OPERATOR)
    return cid
