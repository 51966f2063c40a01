"""Example parties, lines, terms and facts shared by the ledger tests.

The identifiers pass their check digits; none belongs to a real person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ledger.application import Ledger
from ledger.contract import Contract
from ledger.tariff_sheet import SheetPrice, price
from ledger.tariffs import get_model
from ledger.values import (
    Actor,
    ComponentPrice,
    DataRole,
    Municipality,
    NoticePeriod,
    Operator,
    PaymentOption,
    Pricing,
    Provider,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
)
from tests.ledger.given_when_then import Fact, fact, given

BUYER_CVR = "29189919"
PROVIDER_CVR = "11715311"
BUYER = Municipality("Eksempel Kommune", BUYER_CVR, "5798000000018")
PAYER = Municipality("Betaler Kommune", "29189927", "5798000000025")
PROVIDER = Provider(
    "slotsvaenget-stottepakken", "Støttepakken, Slotsvænget", PROVIDER_CVR, Operator.MUNICIPAL
)
REGIONAL_PROVIDER = Provider("region-tilbud", "Regionalt tilbud", "29189935", Operator.REGIONAL)

OPERATOR = Actor("system", Role.OPERATOR, "key-ops", "req-1")
BUYER_ADMIN = Actor(BUYER_CVR, Role.BUYER_ADMIN, "key-buyer", "req-2")
PROVIDER_ADMIN = Actor(PROVIDER_CVR, Role.PROVIDER_ADMIN, "key-provider", "req-3")
AUDITOR = Actor(BUYER_CVR, Role.AUDITOR, "key-audit", "req-4")

START = dt.date(2025, 1, 1)
CITIZEN = uuid.UUID("00000000-0000-4000-8000-000000000001")


def line_85(step: str = "3", start: dt.date = START, **kw: Any) -> ServiceLineSpec:
    """A Støttepakken §85 line."""
    return ServiceLineSpec(
        "SEL §85", "slotsvaenget-85", step, Decimal(26), Unit.HOURS_PER_WEEK, start, **kw
    )


def line_104(step: str = "2:2", start: dt.date = START, **kw: Any) -> ServiceLineSpec:
    """A Støttepakken §104 line."""
    return ServiceLineSpec(
        "SEL §104", "slotsvaenget-104", step, Decimal(23), Unit.HOURS_PER_WEEK, start, **kw
    )


def agreed_line(
    start: dt.date = START, basis: str = "400", service: str = "600"
) -> ServiceLineSpec:
    """A særforanstaltning line with agreed prices on the Gentofte botilbud model."""
    return ServiceLineSpec(
        "SEL §108",
        "gentofte-botilbud",
        "10",
        Decimal(28),
        Unit.PLACE,
        start,
        pricing=Pricing.AGREED,
        agreed_prices=(
            ComponentPrice("basis", Decimal(basis)),
            ComponentPrice("service", Decimal(service)),
        ),
    )


TERMS = Terms(
    payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED,
    notice_period=NoticePeriod(months=3),
    data_role=DataRole.INDEPENDENT_CONTROLLER,
)


def terms(**changes: Any) -> Terms:
    """The example terms with ``changes``."""
    values = {**TERMS.__dict__, **changes}
    return Terms(**values)


def drafted(
    *lines: ServiceLineSpec,
    contract_terms: Terms = TERMS,
    provider: Provider = PROVIDER,
) -> Fact:
    """The fact that a contract was drafted (default: §85 step 3 + §104 2:2)."""
    return fact(
        Contract.Drafted,
        buyer=BUYER,
        payer=None,
        provider=provider,
        citizen_id=CITIZEN,
        lines=lines or (line_85(), line_104()),
        terms=contract_terms,
        actor=OPERATOR,
    )


def placed(day: dt.date = START) -> tuple[Fact, Fact]:
    """The facts that the place was offered and the placement made final on ``day``."""
    return (
        fact(Contract.PlaceOffered, offered_on=day, actor=OPERATOR),
        fact(Contract.PlacementFinalised, final_on=day, actor=OPERATOR),
    )


def final_contract(*more: Fact, draft: Fact | None = None) -> Contract:
    """A contract whose placement is final, plus ``more`` facts."""
    return given(Contract, draft or drafted(), *placed(), *more)


def sheet_prices(
    models: tuple[str, ...] = ("slotsvaenget-85", "slotsvaenget-104"),
    base: Decimal = Decimal(100),
    step_increment: Decimal = Decimal(10),
) -> list[SheetPrice]:
    """A complete price list: fixed components at ``base``/2, steps rising by an increment."""
    prices: list[SheetPrice] = []
    for code in models:
        model = get_model(code)
        for component in model.components:
            if component.per_step:
                prices.extend(
                    price(code, component.code, step, daily=base + index * step_increment)
                    for index, step in enumerate(model.step_codes)
                )
            else:
                prices.append(price(code, component.code, daily=base / 2))
    return prices


def placed_contract(ledger: Ledger) -> uuid.UUID:
    """Through the ledger: §85 step 3 + §104 2:2, offered and final on 1 January 2025 (v3)."""
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104()],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )
    ledger.offer_place(contract_id, START, actor=PROVIDER_ADMIN)
    ledger.finalise_placement(contract_id, START, actor=OPERATOR)
    return contract_id


def publish_sheet(
    ledger: Ledger, year: int, base: int = 100, actor: Actor = PROVIDER_ADMIN
) -> uuid.UUID:
    """Through the ledger: the example offer's complete sheet for ``year``."""
    return ledger.publish_tariff_sheet(
        offer=PROVIDER.offer,
        year=year,
        prices=sheet_prices(base=Decimal(base)),
        source=f"Takstblad {year}",
        actor=actor,
    )
