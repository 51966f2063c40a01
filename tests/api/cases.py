"""Shared cases of the cross-cutting API tests: who calls, what exists, one valid request each.

The authorisation matrix, the bad-input table, the concurrency tests and the
Schemathesis run need the same things: callers of every role, for an
organisation that is a party and for one that is not; a contract (or
citizen, tariff sheet, invoice) in the state a request needs; and one
request per route that succeeds for the right caller. They live here so the
tables in the test modules stay tables.

Routes are named by a key ``"METHOD PATH [variant]"``. ``~`` in the path
stands for ``/v1/contracts/{contract_id}``. The variant says which party the
body names as acting (its ``party``, ``by``, ``requested_by``,
``answered_by`` or ``given_by``): ``[B]`` the buyer, ``[P]`` the provider.

A new route needs an entry in :data:`REQUESTS` (what must exist, a valid
body, who may send it) and a row in the authorisation matrix.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from adapters.demo import BUYER_NORD, BUYER_SYD, GENTOFTE, OPERATOR, STOTTEPAKKEN
from ledger.clock import FixedClock, local_instant
from ledger.tariff_sheet import price
from ledger.tariffs import get_model
from ledger.values import (
    AbsenceKind,
    Actor,
    ComponentPrice,
    DataRole,
    NoticePeriod,
    Party,
    PaymentOption,
    Pricing,
    RequestNature,
    RespiteBasis,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
)
from tests.api.conftest import TODAY, ApiWorld, draft_body, start_app

CONTRACT = "/v1/contracts/{contract_id}"
PROBLEM_JSON = "application/problem+json"

# --- who calls --------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """A caller: an organisation with a role."""

    label: str
    organisation: str
    role: Role


# The columns of the authorisation matrix, in order. "Own" organisations are
# the parties of every contract made here (buyer Demo Nord, provider
# Støttepakken); "other" ones are the same kind of organisation, not a party.
CALLERS: tuple[Who, ...] = (
    Who("buyer-admin of the buyer", BUYER_NORD.cvr, Role.BUYER_ADMIN),
    Who("buyer-admin of another municipality", BUYER_SYD.cvr, Role.BUYER_ADMIN),
    Who("provider-admin of the provider", STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
    Who("provider-admin of another provider", GENTOFTE.registration, Role.PROVIDER_ADMIN),
    Who("auditor of the buyer", BUYER_NORD.cvr, Role.AUDITOR),
    Who("auditor of the provider", STOTTEPAKKEN.registration, Role.AUDITOR),
    Who("auditor of another municipality", BUYER_SYD.cvr, Role.AUDITOR),
    Who("operator (system administrator)", "system", Role.OPERATOR),
)
BUYER, PROVIDER, SYSTEM = CALLERS[0], CALLERS[2], CALLERS[-1]
NORD_EAN = BUYER_NORD.ean


def headers(api: ApiWorld, who: Who, **more: str) -> dict[str, str]:
    """The caller's Authorization header and ``more`` headers."""
    return {**api.key(who.organisation, who.role), **more}


# --- contracts in a given state -----------------------------------------------------


class Given(Enum):
    """The state a command needs; each builds on the one before it where it says so."""

    NOTHING = "no contract"
    DRAFTED = "drafted"
    OFFERED = "offered"
    FINAL = "final (placement made final)"
    BUYER_ASKED = "final, with the buyer's renegotiation request R1 open"
    PROVIDER_ASKED = "final, with the provider's renegotiation request R1 open"
    ABSENT = "final, with hospitalisation A1 started"
    FORCE_MAJEURE = "final, with force majeure declared"
    UNDER_NOTICE = "final, under notice"
    # Other resources.
    CITIZEN = "a new citizen with a drafted contract (citizen_id)"
    SHEET = "a tariff sheet Støttepakken's provider-admin published for a new year (offer, year)"
    INVOICED = "Demo Nord's invoice for February 2025 issued (buyer_ean, month)"


PLACED_ON = dt.date(2025, 3, 1)
RECEIVED_ON = dt.date(2025, 3, 2)

TERMS = Terms(
    payment_option=PaymentOption.OTHER,
    notice_period=NoticePeriod(months=3),
    data_role=DataRole.INDEPENDENT_CONTROLLER,
    payment_other_text="Payment ends on the day the parties agree",
    respite_basis=RespiteBasis.USED_DAYS,
)
LINES = (
    # Line 1: a §104 day service priced from Støttepakken's tariff sheet.
    ServiceLineSpec(
        "SEL §104", "slotsvaenget-104", "1:2", Decimal(1), Unit.DAYS_PER_WEEK, PLACED_ON
    ),
    # Line 2: respite (aflastning) at agreed prices, so every command has a line to act on.
    ServiceLineSpec(
        "SEL §108",
        "gentofte-botilbud",
        "10",
        Decimal(28),
        Unit.DAYS_PER_YEAR,
        PLACED_ON,
        end=dt.date(2025, 12, 31),
        pricing=Pricing.AGREED,
        agreed_prices=(
            ComponentPrice("basis", Decimal(400)),
            ComponentPrice("service", Decimal(600)),
        ),
        respite=True,
    ),
)


def given_contract(api: ApiWorld, given: Given, *, citizen: uuid.UUID | None = None) -> uuid.UUID:
    """A new contract between Demo Nord and Støttepakken in state ``given``.

    Built through the application service as the operator (faster than HTTP
    and independent of the routes under test). Its renegotiation request is
    ``R1`` and its absence ``A1``.
    """
    ledger = api.ctx.ledger
    citizen = citizen or api.ctx.citizens.register("0101901234", "Test Borger")
    contract_id = ledger.draft_contract(
        buyer=BUYER_NORD,
        provider=STOTTEPAKKEN,
        citizen_id=citizen,
        lines=LINES,
        terms=TERMS,
        actor=OPERATOR,
    )
    if given is Given.DRAFTED:
        return contract_id
    ledger.offer_place(contract_id, PLACED_ON, actor=OPERATOR)
    if given is Given.OFFERED:
        return contract_id
    ledger.finalise_placement(contract_id, PLACED_ON, actor=OPERATOR)
    if given in (Given.BUYER_ASKED, Given.PROVIDER_ASKED):
        ledger.request_renegotiation(
            contract_id,
            "1",
            requested_by=Party.BUYER if given is Given.BUYER_ASKED else Party.PROVIDER,
            received_on=RECEIVED_ON,
            nature=RequestNature.LASTING,
            description="A lasting rise in need",
            proposed_step="1:3",
            actor=OPERATOR,
        )
    elif given is Given.ABSENT:
        ledger.start_absence(contract_id, AbsenceKind.HOSPITAL, RECEIVED_ON, actor=OPERATOR)
    elif given is Given.FORCE_MAJEURE:
        ledger.declare_force_majeure(
            contract_id,
            by=Party.BUYER,
            declared_on=RECEIVED_ON,
            description="Flood",
            actor=OPERATOR,
        )
    elif given is Given.UNDER_NOTICE:
        ledger.give_notice(contract_id, given_by=Party.BUYER, given_on=RECEIVED_ON, actor=OPERATOR)
    return contract_id


@dataclass(frozen=True)
class Made:
    """What a :class:`Given` made: the contract, path parameters, what a list shows of it."""

    contract_id: uuid.UUID | None = None
    params: dict[str, str] = field(default_factory=dict)
    marker: str | None = None  # text in a list answer that includes it (default: the id)


YEARS = itertools.count(2030)  # a tariff year nobody has published yet
CPRS = itertools.count(1000)  # sequence numbers of new citizens' CPR numbers
FEBRUARY = dt.date(2025, 2, 1)
SHEET_PUBLISHER = Actor(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN, "tests", "tests")


def prepare(api: ApiWorld, given: Given) -> Made:
    """Make what ``given`` names, new (a contract, citizen or tariff sheet) or as it is.

    Made as somebody else, so the views are let to take it in before the test reads.
    """
    made = _make(api, given)
    api.settle()
    return made


def _make(api: ApiWorld, given: Given) -> Made:
    ledger = api.ctx.ledger
    if given is Given.NOTHING:
        return Made()
    if given is Given.CITIZEN:
        citizen = api.ctx.citizens.register(f"010190{next(CPRS):04d}", "Test Borger")
        contract = given_contract(api, Given.DRAFTED, citizen=citizen)
        return Made(contract, {"citizen_id": str(citizen)})
    if given is Given.SHEET:
        year = next(YEARS)
        ledger.publish_tariff_sheet(
            offer=STOTTEPAKKEN.offer,
            year=year,
            prices=[
                price(p["model"], p["component"], p["step"], daily=Decimal(p["daily"]))
                for p in sheet_prices()
            ],
            source=f"Takstblad {year}",
            actor=SHEET_PUBLISHER,
        )
        return Made(params={"offer": STOTTEPAKKEN.offer, "year": str(year)})
    if given is Given.INVOICED:
        api.ctx.views.wait()
        ledger.issue_invoices(FEBRUARY, api.ctx.views.billing, actor=OPERATOR, buyer_ean=NORD_EAN)
        href = f"/v1/invoices/{NORD_EAN}/2025-02"
        return Made(params={"buyer_ean": NORD_EAN, "month": "2025-02"}, marker=href)
    return Made(given_contract(api, given))


def sheet_prices(base: int = 400) -> list[dict[str, Any]]:
    """A complete price list of Støttepakken's two models: ``base`` DKK, steps rising by 10."""
    models = ("slotsvaenget-85", "slotsvaenget-104")
    prices: list[dict[str, Any]] = []
    for code in models:
        model = get_model(code)
        for component in model.components:
            steps = model.step_codes if component.per_step else (None,)
            prices.extend(
                {
                    "model": code,
                    "component": component.code,
                    "step": step,
                    "daily": str(base + 10 * i),
                }
                for i, step in enumerate(steps)
            )
    return prices


# --- one valid request per route ---------------------------------------------------


Bodies = dict[str, Any] | Callable[[ApiWorld], dict[str, Any]] | None


@dataclass(frozen=True)
class Command:
    """A request that succeeds for the right caller on what ``given`` makes."""

    given: Given
    body: Bodies = None  # a callable makes a new body each time (e.g. a new year)
    params: dict[str, str] = field(default_factory=dict)
    by: Who = BUYER  # a caller that may send it (the matrix shows who else may)
    query: dict[str, str] = field(default_factory=dict)
    records: bool = True  # a success records events (the citizen register has none)


def _answer(by: str) -> dict[str, Any]:
    return {
        "answered_by": by,
        "answered_on": "2025-03-05",
        "approved": True,
        "agreement_ref": "Tillæg 2025-03-05",
    }


ON = {"on": "2025-03-03"}
NEW_LINE = {
    "paragraph": "SEL §104",
    "tariff_model": "slotsvaenget-104",
    "step": "1:3",
    "quantity": "1",
    "unit": "days-per-week",
    "start": "2025-04-01",
}

# Keyed as the matrix is; the draft's body is made per test (it needs a citizen).
REQUESTS: dict[str, Command] = {
    "GET /v1/contracts": Command(Given.DRAFTED),
    "GET ~": Command(Given.DRAFTED),
    "POST /v1/contracts": Command(Given.NOTHING, lambda api: draft_body(api.ctx)),
    "POST ~/offer": Command(Given.DRAFTED, ON, by=PROVIDER),
    "POST ~/finalise": Command(Given.OFFERED, ON),
    "POST ~/signatures [B]": Command(Given.FINAL, {"party": "buyer", "signed_on": "2025-03-03"}),
    "POST ~/signatures [P]": Command(
        Given.FINAL, {"party": "provider", "signed_on": "2025-03-03"}, by=PROVIDER
    ),
    "POST ~/step-changes": Command(
        Given.FINAL,
        {
            "line_id": "1",
            "step": "1:3",
            "effective_from": "2025-03-10",
            "agreed_on": "2025-03-05",
            "agreement_ref": "Aftale 2025-03-05",
        },
    ),
    "POST ~/renegotiations [B]": Command(
        Given.FINAL,
        {
            "line_id": "1",
            "requested_by": "buyer",
            "received_on": "2025-03-02",
            "nature": "lasting",
            "description": "A lasting fall in need",
            "proposed_step": "1:3",
        },
    ),
    "POST ~/renegotiations [P]": Command(
        Given.FINAL,
        {
            "line_id": "1",
            "requested_by": "provider",
            "received_on": "2025-03-02",
            "nature": "lasting",
            "description": "A lasting rise in need",
            "proposed_step": "1:3",
        },
        by=PROVIDER,
    ),
    "POST ~/renegotiations/{request_id}/answer [P]": Command(
        Given.BUYER_ASKED, _answer("provider"), {"request_id": "R1"}, by=PROVIDER
    ),
    "POST ~/renegotiations/{request_id}/answer [B]": Command(
        Given.PROVIDER_ASKED, _answer("buyer"), {"request_id": "R1"}
    ),
    "POST ~/allonges": Command(
        Given.FINAL,
        {
            "line_id": "1",
            "valid_from": "2025-03-10",
            "valid_to": "2025-03-20",
            "daily_delta": "100.00",
            "description": "Extra support after a move",
            "agreement_ref": "Allonge 1",
            "buyer_accepted": True,
        },
    ),
    "POST ~/absences": Command(
        Given.FINAL, {"kind": "hospital", "started_on": "2025-03-02"}, by=PROVIDER
    ),
    "POST ~/absences/{absence_id}/notice": Command(
        Given.ABSENT, ON, {"absence_id": "A1"}, by=PROVIDER
    ),
    "POST ~/absences/{absence_id}/end": Command(
        Given.ABSENT, ON, {"absence_id": "A1"}, by=PROVIDER
    ),
    "POST ~/non-delivery [B]": Command(
        Given.FINAL,
        {"by": "buyer", "reported_on": "2025-03-03", "cause": "No staff", "citizen_related": False},
    ),
    "POST ~/non-delivery [P]": Command(
        Given.FINAL,
        {
            "by": "provider",
            "reported_on": "2025-03-03",
            "cause": "Closed",
            "citizen_related": False,
        },
        by=PROVIDER,
    ),
    "POST ~/force-majeure [B]": Command(
        Given.FINAL, {"by": "buyer", "declared_on": "2025-03-03", "description": "Flood"}
    ),
    "POST ~/force-majeure [P]": Command(
        Given.FINAL,
        {"by": "provider", "declared_on": "2025-03-03", "description": "Fire"},
        by=PROVIDER,
    ),
    "POST ~/rescission [B]": Command(
        Given.FORCE_MAJEURE,
        {"by": "buyer", "effective_on": "2025-03-04", "ground": "force-majeure"},
    ),
    "POST ~/rescission [P]": Command(
        Given.FORCE_MAJEURE,
        {"by": "provider", "effective_on": "2025-03-04", "ground": "force-majeure"},
        by=PROVIDER,
    ),
    "POST ~/framework-changes": Command(
        Given.FINAL,
        {"received_on": "2025-03-03", "framework_version": "2026", "adoption_year": 2025},
        by=PROVIDER,
    ),
    "POST ~/notice [B]": Command(Given.FINAL, {"given_by": "buyer", "given_on": "2025-03-03"}),
    "POST ~/notice [P]": Command(
        Given.FINAL, {"given_by": "provider", "given_on": "2025-03-03"}, by=PROVIDER
    ),
    "POST ~/reoccupation": Command(Given.UNDER_NOTICE, ON, by=PROVIDER),
    "POST ~/follow-ups": Command(Given.FINAL, {"line_id": "1", "held_on": "2025-03-03"}),
    "POST ~/respite-days": Command(
        Given.FINAL, {"line_id": "2", "month": "2025-03-01", "days": ["2025-03-02"]}, by=PROVIDER
    ),
    "POST ~/index-regulations": Command(
        Given.FINAL,
        {"year": 2026, "pl_percentage": "2.5", "source": "KL", "edition": "KL juni 2025"},
    ),
    "POST ~/lines": Command(Given.DRAFTED, NEW_LINE),
    "POST ~/provisional-steps": Command(Given.DRAFTED, {"line_id": "1", "step": "1:3"}),
    "POST ~/payment-end": Command(
        Given.UNDER_NOTICE, {"payment_end": "2025-04-30", "agreement_ref": "Aftale om ophør"}
    ),
    # Contract reads (history, read models).
    "GET ~/history": Command(Given.FINAL),
    "GET ~/price-timeline": Command(Given.FINAL),
    "GET ~/billing-feed": Command(Given.FINAL),
    "GET /v1/deadlines": Command(Given.BUYER_ASKED),  # the provider's answer is due
    # Billing: a buyer EAN's adjustments and invoices.
    "GET /v1/adjustments": Command(Given.NOTHING, query={"buyer_ean": NORD_EAN}),
    "POST /v1/invoices": Command(
        Given.NOTHING, {"month": "2025-02", "buyer_ean": BUYER_SYD.ean}, by=SYSTEM
    ),
    "GET /v1/invoices": Command(Given.INVOICED),
    "GET /v1/invoices/{buyer_ean}/{month}": Command(Given.INVOICED),
    # Citizens (outside the event store: nothing is recorded).
    "POST /v1/citizens": Command(Given.NOTHING, lambda _: _new_citizen(), records=False),
    "GET /v1/citizens/{citizen_id}": Command(Given.CITIZEN),
    "DELETE /v1/citizens/{citizen_id}": Command(Given.CITIZEN, records=False),
    # Tariff models and sheets, and the annual regulation.
    "GET /v1/tariff-models": Command(Given.NOTHING),
    "GET /v1/tariff-models/{code}": Command(Given.NOTHING, params={"code": "slotsvaenget-104"}),
    "GET /v1/tariff-sheets": Command(Given.NOTHING),
    "GET /v1/tariff-sheets/{offer}/{year}": Command(
        Given.NOTHING, params={"offer": STOTTEPAKKEN.offer, "year": "2025"}
    ),
    "POST /v1/tariff-sheets": Command(Given.NOTHING, lambda _: _new_sheet(), by=PROVIDER),
    "POST /v1/tariff-sheets/{offer}/{year}/corrections": Command(
        Given.SHEET, {"prices": sheet_prices(base=410), "reason": "A typing error"}, by=PROVIDER
    ),
    "POST /v1/regulations": Command(
        Given.NOTHING,
        {
            "kind": "index",
            "offer": STOTTEPAKKEN.offer,
            "year": 2026,
            "pl_percentage": "2.5",
            "source": "KL",
            "edition": "KL juni 2025",
        },
        by=SYSTEM,
    ),
}


def route_of(key: str) -> tuple[str, str]:
    """The method and path template a key names: ``"POST ~/offer [x]"`` -> POST, full path."""
    method, path, *_ = key.split()
    return method, path.replace("~", CONTRACT, 1)


def body_for(api: ApiWorld, key: str) -> dict[str, Any] | None:
    """A valid body for ``key``, made anew where it must be new (a citizen, a year)."""
    body = REQUESTS[key].body
    return body(api) if callable(body) else body


def url(key: str, made: Made, params: dict[str, str] | None = None) -> str:
    """The concrete URL of ``key`` for what was ``made`` (``params`` may replace any part)."""
    _, path = route_of(key)
    found = {"contract_id": str(made.contract_id), **made.params}
    return path.format(**{**found, **REQUESTS[key].params, **(params or {})})


def _new_citizen() -> dict[str, str]:
    return {"cpr": f"010190{next(CPRS):04d}", "name": "Test Borger"}


def _new_sheet() -> dict[str, Any]:
    year = next(YEARS)
    return {
        "offer": STOTTEPAKKEN.offer,
        "year": year,
        "prices": sheet_prices(),
        "source": f"Takstblad {year}",
    }


def api_routes(api: ApiWorld) -> set[tuple[str, str]]:
    """Every (method, path) the app serves under /v1, through included routers too."""
    app: FastAPI = api.client.app  # type: ignore[assignment]
    found = set()
    for route in iter_route_contexts(app.routes):
        path, methods = route.path, route.methods or set()
        if path is not None and path.startswith("/v1"):
            found |= {(method, path) for method in methods - {"HEAD"}}
    return found


def is_problem(response: httpx.Response) -> bool:
    """Whether ``response`` is an RFC 9457 problem document."""
    return response.headers.get("content-type", "").startswith(PROBLEM_JSON)


# --- a shared app per test module ---------------------------------------------------


def module_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """One app with the demo data for a whole module (tests make their own contracts)."""
    clock = FixedClock(local_instant(TODAY))
    yield from start_app(backend, Path(tmp_path_factory.mktemp(backend)), clock)
