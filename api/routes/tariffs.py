"""Tariff models (read) and tariff sheets (takstblade): publish, read, list, correct.

A tariff model is the shape of a price: its steps (takstniveauer) with the
weekly hours each stands for, and its price components. It holds no prices.
A tariff sheet gives one offer's prices for one calendar year, for every
component (and step) of the models the offer sells; a correction replaces
them with a reason and keeps the old prices in the history, so ``known_at``
shows what was known when.

Any authenticated caller reads models and sheets. The ledger decides who
publishes and corrects (an operator, or a provider administrator for an
offer no other provider holds; only the publishing provider corrects its
sheet): anyone else gets 403.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from api.auth import Authenticated, Ctx, authenticate
from api.http import etag, expected_version, idempotent
from api.schemas import Body
from ledger import errors
from ledger.tariff_sheet import SheetPrice, TariffSheet, price
from ledger.tariffs import MODELS, TariffModel, get_model
from ledger.values import Unit

router = APIRouter(prefix="/v1", tags=["tariffs"])

OFFER_PATTERN = r"^[^/]*[^/\s][^/]*$"  # a path segment: no slash, not blank
YEAR_MIN, YEAR_MAX = 2000, 2100

Offer = Annotated[
    str,
    Path(
        description="Offer code (tilbud), as in the contracts' provider.offer",
        examples=["slotsvaenget-stottepakken"],
        pattern=OFFER_PATTERN,
    ),
]
Year = Annotated[
    int,
    Path(
        ge=YEAR_MIN,
        le=YEAR_MAX,
        description="The tariff year (takstår); the sheet applies from 1 January (G3)",
        examples=[2026],
    ),
]
KnownAt = Annotated[
    dt.datetime | None,
    Query(
        description="The sheet as recorded at this instant (record time), with timezone",
        examples=["2025-06-01T12:00:00+02:00"],
    ),
]

SHEET_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's role or organisation may not publish or correct it"},
    404: {"description": "No sheet for this offer and year (as known at `known_at`)"},
    409: {"description": "A rule forbids it, e.g. the year's sheet is already published"},
    412: {"description": "If-Match does not match the sheet's version"},
    422: {"description": "Invalid input (the problem names the field)"},
}


# --- tariff models ----------------------------------------------------------------


class StepOut(BaseModel):
    """One step of a tariff model and the weekly hours it stands for."""

    code: str = Field(description="Step code (takstniveau, trin)", examples=["3", "2:2"])
    label: str = Field(description="The step's name in the source", examples=["Taksttrin 3"])
    min_hours: Decimal = Field(
        description="Lowest weekly hours of the step, inclusive (G9)", examples=["23"]
    )
    max_hours: Decimal = Field(
        description="Highest weekly hours: exclusive, inclusive on the top step (G9)",
        examples=["30"],
    )
    max_inclusive: bool = Field(
        description="True on the top step of its ladder, whose upper bound is included (G9)",
        examples=[False],
    )
    average_hours: Decimal = Field(
        description="The source's stated average hours per week", examples=["26"]
    )
    unconfirmed: bool = Field(
        description="Not confirmed by the provider; usable only with explicit permission (G5)",
        examples=[False],
    )
    staffing: Decimal | None = Field(
        description="Staffing ratio (normering) where the model states one", examples=[None]
    )
    takst: int | None = Field(
        description="The Takst (1-4) of a Slotsvænget §104 step; null elsewhere (G10)",
        examples=[None, 2],
    )
    description: str = Field(
        description="What the step means for the citizen", examples=["support for many daily tasks"]
    )


class ComponentOut(BaseModel):
    """A price component of a tariff model."""

    code: str = Field(description="Component code, used in tariff sheets", examples=["service"])
    label: str = Field(
        description="Name (e.g. basistakst, servicetakst, natdækning)",
        examples=["Servicetakst (service tariff)"],
    )
    per_step: bool = Field(
        description="True when the tariff sheet prices it per step; false: one price for all",
        examples=[True],
    )


class TariffModelOut(BaseModel):
    """A tariff model (takstmodel): the steps and components a line is priced by."""

    code: str = Field(
        description="Stable model code, stored on service lines", examples=["slotsvaenget-85"]
    )
    name: str = Field(
        description="The model's name in the source",
        examples=["Takstmodel Slotsvænget Støttepakken, § 85 (socialpædagogisk støtte)"],
    )
    paragraph: str = Field(description="Legal basis (paragraf)", examples=["SEL §85"])
    unit: Unit = Field(description="Unit of a line's quantity (enhed)")
    requires: list[str] = Field(
        description="Models that must be on the same contract (e.g. §85 needs §104)",
        examples=[["slotsvaenget-104"]],
    )
    takster: list[int] = Field(
        description="The Takst numbers of a model with a staffing dimension (§104); else empty",
        examples=[[]],
    )
    steps: list[StepOut] = Field(description="Steps (takstniveauer) in ascending order")
    components: list[ComponentOut] = Field(
        description="Price components; a daily price is their sum"
    )


class TariffModelList(BaseModel):
    """Every known tariff model."""

    items: list[TariffModelOut] = Field(description="The models, by code")


def _model_out(model: TariffModel) -> TariffModelOut:
    return TariffModelOut(
        code=model.code,
        name=model.name,
        paragraph=model.paragraph,
        unit=model.unit,
        requires=list(model.requires),
        takster=list(model.takster),
        steps=[
            StepOut(
                code=step.code,
                label=step.label,
                min_hours=step.min_hours,
                max_hours=step.max_hours,
                max_inclusive=model.is_top(step.code),
                average_hours=step.average_hours,
                unconfirmed=step.unconfirmed,
                staffing=step.staffing,
                takst=step.takst,
                description=step.description,
            )
            for step in model.steps
        ],
        components=[
            ComponentOut(code=c.code, label=c.label, per_step=c.per_step) for c in model.components
        ],
    )


@router.get(
    "/tariff-models",
    response_model=TariffModelList,
    summary="List the tariff models (takstmodeller)",
    dependencies=[Depends(authenticate)],
)
def list_tariff_models() -> TariffModelList:
    """Every tariff model the ledger knows, with its steps and price components."""
    return TariffModelList(items=[_model_out(model) for model in MODELS.values()])


@router.get(
    "/tariff-models/{code}",
    response_model=TariffModelOut,
    responses={404: {"description": "No tariff model has this code"}},
    summary="Read a tariff model (takstmodel)",
    dependencies=[Depends(authenticate)],
)
def read_tariff_model(
    code: Annotated[
        str, Path(description="The model's code (takstmodel)", examples=["slotsvaenget-104"])
    ],
) -> TariffModelOut:
    """One tariff model: its steps with their weekly hours, and its price components."""
    if code not in MODELS:
        msg = f"no tariff model {code!r} (known: {', '.join(MODELS)})"
        raise errors.NotFound(msg, field="code")
    return _model_out(get_model(code))


# --- tariff sheets: bodies ---------------------------------------------------------


class SheetPriceIn(Body):
    """One price of a tariff sheet: a component (and step) of a model, per day or per year."""

    model: str = Field(description="Tariff model code (takstmodel)", examples=["slotsvaenget-85"])
    component: str = Field(
        description="Price component, e.g. basis (basistakst) or service (servicetakst)",
        examples=["service"],
    )
    step: str | None = Field(
        None,
        description="Step (takstniveau) of a per-step component; null for a fixed one",
        examples=["3"],
    )
    daily: Decimal | None = Field(
        None,
        gt=0,
        max_digits=15,
        decimal_places=6,
        description="DKK per day (døgntakst); give this or `annual`",
        examples=["734.56"],
    )
    annual: Decimal | None = Field(
        None,
        gt=0,
        max_digits=15,
        decimal_places=2,
        description="DKK per year (årstakst); the day rate is annual / 365 to 6 decimals (G4)",
        examples=[None],
    )

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        _domain(lambda: get_model(value))
        return value

    @field_validator("component")
    @classmethod
    def _known_component(cls, value: str, info: ValidationInfo) -> str:
        model = info.data.get("model")
        if model is not None:
            _domain(lambda: get_model(model).component(value))
        return value

    @field_validator("step")
    @classmethod
    def _known_step(cls, value: str | None, info: ValidationInfo) -> str | None:
        model = info.data.get("model")
        if value is not None and model is not None:
            _domain(lambda: get_model(model).step(value))
        return value

    @model_validator(mode="after")
    def _one_amount(self) -> SheetPriceIn:
        if (self.daily is None) == (self.annual is None):
            msg = "give exactly one of `daily` and `annual`"
            raise ValueError(msg)
        return self

    def value(self) -> SheetPrice:
        """The ledger's value (G4 converts an annual amount to a day rate)."""
        return price(self.model, self.component, self.step, daily=self.daily, annual=self.annual)


def _domain(check: Any) -> None:  # noqa: ANN401 - any ledger look-up
    """Run a ledger look-up; its error becomes a validation error of this field."""
    try:
        check()
    except errors.LedgerError as error:
        raise ValueError(error.message) from None


class TariffSheetIn(Body):
    """A year's tariff sheet (takstblad) of one offer: complete for every model it names."""

    offer: str = Field(
        pattern=OFFER_PATTERN,
        max_length=200,
        description="Offer code (tilbud), as in the contracts' provider.offer",
        examples=["slotsvaenget-stottepakken"],
    )
    year: int = Field(
        ge=YEAR_MIN, le=YEAR_MAX, description="Tariff year (takstår)", examples=[2027]
    )
    prices: list[SheetPriceIn] = Field(
        min_length=1,
        description="Every component (and step) of each model the offer sells (takster)",
    )
    source: str = Field(
        min_length=1,
        max_length=500,
        description="Where the prices come from: the takstblad's reference",
        examples=["Takstblad 2027, Lyngby-Taarbæk Kommune"],
    )
    valid_from: dt.date | None = Field(
        None,
        description="First day the prices apply (default 1 January of `year`, G3)",
        examples=[None],
    )


class TariffSheetCorrectionIn(Body):
    """A correction of a published sheet: the complete new price list and why."""

    prices: list[SheetPriceIn] = Field(
        min_length=1, description="The complete corrected price list (takster)"
    )
    reason: str = Field(
        min_length=1,
        max_length=1000,
        description="Why the prices are corrected (begrundelse); kept in the history",
        examples=["Trykfejl i servicetakst trin 3"],
    )


# --- tariff sheets: responses --------------------------------------------------------


class SheetPriceOut(BaseModel):
    """One price of a sheet."""

    model: str = Field(description="Tariff model code (takstmodel)", examples=["slotsvaenget-85"])
    component: str = Field(description="Price component", examples=["service"])
    step: str | None = Field(description="Step (takstniveau), or null", examples=["3"])
    daily: Decimal = Field(description="DKK per day (døgntakst)", examples=["734.56"])
    annual: Decimal | None = Field(
        description="The published annual amount (årstakst), when given (G4)", examples=[None]
    )


class SheetChangeOut(BaseModel):
    """The publication or a correction of a sheet, as recorded."""

    version: int = Field(description="The sheet's version after it", examples=[2])
    kind: str = Field(description="published or corrected", examples=["corrected"])
    recorded_at: dt.datetime = Field(
        description="When it was recorded (record time)", examples=["2025-12-01T11:00:00Z"]
    )
    organisation: str = Field(description="Who recorded it (CVR/P-number)", examples=["11715311"])
    role: str = Field(description="The recorder's role", examples=["provider-admin"])
    reason: str | None = Field(
        description="Why a correction was made (begrundelse); null for the publication",
        examples=["Trykfejl i servicetakst trin 3"],
    )


class TariffSheetOut(BaseModel):
    """A tariff sheet (takstblad): an offer's prices for a year, as known at ``known_at``."""

    offer: str = Field(description="Offer code (tilbud)", examples=["slotsvaenget-stottepakken"])
    year: int = Field(description="Tariff year (takstår)", examples=[2026])
    valid_from: dt.date = Field(
        description="First day the prices apply (gyldig fra, G3)", examples=["2026-01-01"]
    )
    version: int = Field(description="Also the ETag; send it back in If-Match", examples=[1])
    known_at: dt.datetime | None = Field(
        description="The record time asked for, if any", examples=[None]
    )
    source: str = Field(description="The takstblad's reference", examples=["Takstblad 2026"])
    publisher: str = Field(
        description="Organisation that published it (CVR/P-number)", examples=["11715311"]
    )
    models: list[str] = Field(
        description="Tariff models priced", examples=[["slotsvaenget-85", "slotsvaenget-104"]]
    )
    prices: list[SheetPriceOut] = Field(description="The prices in force (takster)")
    history: list[SheetChangeOut] = Field(description="Publication and corrections, in order")


class TariffSheetSummary(BaseModel):
    """A sheet in a list, without its prices."""

    offer: str = Field(description="Offer code (tilbud)", examples=["slotsvaenget-stottepakken"])
    year: int = Field(description="Tariff year (takstår)", examples=[2026])
    valid_from: dt.date = Field(
        description="First day the prices apply (gyldig fra, G3)", examples=["2026-01-01"]
    )
    version: int = Field(description="Current version (ETag)", examples=[1])
    corrections: int = Field(description="How many times it was corrected", examples=[0])
    publisher: str = Field(description="Publishing organisation", examples=["11715311"])
    models: list[str] = Field(description="Tariff models priced", examples=[["slotsvaenget-85"]])
    href: str = Field(
        description="Where to read it",
        examples=["/v1/tariff-sheets/slotsvaenget-stottepakken/2026"],
    )


class TariffSheetList(BaseModel):
    """Published sheets, by offer and year."""

    items: list[TariffSheetSummary] = Field(description="The sheets, by offer and year")


def _sheet_response(
    ctx: Ctx,
    offer: str,
    year: int,
    *,
    status: int = 200,
    known_at: dt.datetime | None = None,
    location: str | None = None,
) -> JSONResponse:
    sheet = ctx.ledger.get_tariff_sheet(offer, year, known_at=known_at)
    history = ctx.ledger.tariff_sheet_history(offer, year, known_at=known_at)
    body = TariffSheetOut(
        offer=sheet.offer,
        year=sheet.year,
        valid_from=sheet.valid_from,
        version=sheet.version,
        known_at=known_at,
        source=sheet.source,
        publisher=sheet.publisher,
        models=list(sheet.models),
        prices=[
            SheetPriceOut(
                model=p.model, component=p.component, step=p.step, daily=p.daily, annual=p.annual
            )
            for p in sheet.prices
        ],
        history=[_change(event) for event in history],
    )
    headers = {"ETag": etag(sheet.version)}
    if location is not None:
        headers["Location"] = location
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _change(event: TariffSheet.Event) -> SheetChangeOut:
    corrected = isinstance(event, TariffSheet.Corrected)
    actor = getattr(event, "actor", None)
    return SheetChangeOut(
        version=event.originator_version,
        kind="corrected" if corrected else "published",
        recorded_at=event.timestamp,
        organisation="" if actor is None else actor.organisation,
        role="" if actor is None else actor.role.value,
        reason=getattr(event, "reason", None) if corrected else None,
    )


def _href(offer: str, year: int) -> str:
    return f"/v1/tariff-sheets/{offer}/{year}"


# --- tariff sheets: routes ------------------------------------------------------------


@router.post(
    "/tariff-sheets",
    status_code=201,
    response_model=TariffSheetOut,
    responses=SHEET_RESPONSES,
    summary="Publish a tariff sheet (takstblad)",
)
def publish_tariff_sheet(
    body: TariffSheetIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Publish an offer's prices for a year; one sheet per offer and year (G3).

    An operator publishes for any offer. A provider administrator publishes
    only for an offer no other provider holds (published one of its sheets, or
    is the provider of a contract for it): otherwise 403. A second sheet for
    the same offer and year is refused (409): correct the first instead.
    """

    def produce() -> Response:
        ctx.ledger.publish_tariff_sheet(
            offer=body.offer,
            year=body.year,
            prices=[p.value() for p in body.prices],
            source=body.source,
            valid_from=body.valid_from,
            actor=caller.actor,
        )
        location = _href(body.offer, body.year)
        return _sheet_response(ctx, body.offer, body.year, status=201, location=location)

    return idempotent(ctx, caller, request, body, produce)


@router.get(
    "/tariff-sheets",
    response_model=TariffSheetList,
    responses={422: SHEET_RESPONSES[422]},
    summary="List tariff sheets (takstblade)",
    dependencies=[Depends(authenticate)],
)
def list_tariff_sheets(
    ctx: Ctx,
    offer: Annotated[
        str | None,
        Query(description="Only this offer (tilbud)", examples=["slotsvaenget-stottepakken"]),
    ] = None,
    year: Annotated[
        int | None,
        Query(ge=YEAR_MIN, le=YEAR_MAX, description="Only this tariff year", examples=[2026]),
    ] = None,
) -> TariffSheetList:
    """The published sheets as they are now, by offer and year, without their prices."""
    return TariffSheetList(
        items=[
            TariffSheetSummary(
                offer=sheet.offer,
                year=sheet.year,
                valid_from=sheet.valid_from,
                version=sheet.version,
                corrections=sheet.corrections,
                publisher=sheet.publisher,
                models=list(sheet.models),
                href=_href(sheet.offer, sheet.year),
            )
            for sheet in ctx.ledger.tariff_sheets(offer=offer, year=year)
        ]
    )


@router.get(
    "/tariff-sheets/{offer}/{year}",
    response_model=TariffSheetOut,
    responses={404: SHEET_RESPONSES[404], 422: SHEET_RESPONSES[422]},
    summary="Read a tariff sheet (takstblad)",
    dependencies=[Depends(authenticate)],
)
def read_tariff_sheet(offer: Offer, year: Year, ctx: Ctx, known_at: KnownAt = None) -> Response:
    """An offer's prices for a year with their history, as known at ``known_at``."""
    return _sheet_response(ctx, offer, year, known_at=known_at)


@router.post(
    "/tariff-sheets/{offer}/{year}/corrections",
    response_model=TariffSheetOut,
    responses=SHEET_RESPONSES,
    summary="Correct a tariff sheet (rettelse af takstblad)",
)
def correct_tariff_sheet(
    offer: Offer,
    year: Year,
    body: TariffSheetCorrectionIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Replace a sheet's prices, with a reason; the old prices stay in the history.

    Send the sheet's ETag as If-Match: a stale one is a 412. Contracts priced
    by the sheet are repriced from the sheet's first day; billing turns the
    difference into adjustments on the next invoice.
    """

    def produce() -> Response:
        ctx.ledger.correct_tariff_sheet(
            offer=offer,
            year=year,
            prices=[p.value() for p in body.prices],
            reason=body.reason,
            actor=caller.actor,
            expected_version=expected_version(request),
        )
        return _sheet_response(ctx, offer, year)

    return idempotent(ctx, caller, request, body, produce)
