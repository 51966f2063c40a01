"""The annual regulation (årlig regulering, Bilag 1 pkt. 8) of a whole offer, in one request.

The operator sends one request per offer and year:

- ``kind: tariff-sheet``: every contract of the offer with lines priced by
  the tariff sheet moves onto the year's sheet from 1 January (the sheet must
  be published first);
- ``kind: index``: every særforanstaltning of the offer (agreed prices) is
  indexed by the year's price-and-wage estimate (KL for municipal offers,
  Danske Regioner for regional ones).

The ledger (``Ledger.regulate_offer_by_*``) finds the offer's contracts from
their drafting events, not from a read model, so a contract drafted a moment
ago is never missed, and regulates each on its own: every affected contract
gets its own event, and one contract's refusal does not stop the others. The
answer lists each contract as regulated, already regulated, not affected
(with the reason) or failed (with the rule). Sending the same request again
records nothing: every contract regulated before now reads "already
regulated". That holds without an Idempotency-Key; with one, a retry replays
the first answer.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import Authenticated, Ctx
from api.http import idempotent
from api.schemas import Body
from ledger import errors
from ledger.application import (
    ALREADY_REGULATED,
    FAILED,
    NOT_AFFECTED,
    REGULATED,
    RegulationOutcome,
)
from ledger.values import IndexSource

router = APIRouter(prefix="/v1", tags=["regulation"])

OFFER_DESCRIPTION = "Offer code (tilbud) whose contracts are regulated"
YEAR_DESCRIPTION = "The year regulated; prices change from 1 January of it (pkt. 8, G3)"
Outcome = Literal["regulated", "already-regulated", "not-affected", "failed"]


class SheetRegulationIn(Body):
    """Move the offer's tariff-sheet contracts onto the year's sheet (takstblad)."""

    kind: Literal["tariff-sheet"] = Field(
        description="Regulation by the year's tariff sheet", examples=["tariff-sheet"]
    )
    offer: str = Field(
        min_length=1, description=OFFER_DESCRIPTION, examples=["slotsvaenget-stottepakken"]
    )
    year: int = Field(ge=2000, le=2100, description=YEAR_DESCRIPTION, examples=[2027])


class IndexRegulationOfOfferIn(Body):
    """Index the agreed prices of the offer's særforanstaltninger (PL-regulering)."""

    kind: Literal["index"] = Field(
        description="Regulation of agreed prices by the price-and-wage index", examples=["index"]
    )
    offer: str = Field(
        min_length=1, description=OFFER_DESCRIPTION, examples=["slotsvaenget-stottepakken"]
    )
    year: int = Field(ge=2000, le=2100, description=YEAR_DESCRIPTION, examples=[2026])
    pl_percentage: Decimal = Field(
        gt=-100,
        le=100,
        max_digits=7,
        decimal_places=4,
        description="Price-and-wage index (PL-skøn) in percent",
        examples=["2.4"],
    )
    overhead_percentage: Decimal = Field(
        Decimal(0),
        gt=-100,
        le=100,
        max_digits=7,
        decimal_places=4,
        description="Central overhead (centralt overhead) in percent",
        examples=["0"],
    )
    source: IndexSource = Field(
        description="Whose estimate: KL (municipal offers) or Danske Regioner (regional)",
        examples=["KL"],
    )
    edition: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="The estimate's edition current when the tariff was set (G23)",
        examples=["KL PL-skøn juni 2025"],
    )


RegulationIn = Annotated[
    SheetRegulationIn | IndexRegulationOfOfferIn,
    Field(discriminator="kind", description="The regulation: by tariff sheet or by index"),
]


class RegulatedContractOut(BaseModel):
    """What the regulation did to one contract."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["0b6f7f3c-5d1e-4d8a-9a5e-3f2c1b0a9e87"]
    )
    outcome: Outcome = Field(
        description=(
            "regulated (an event was recorded), already-regulated (recorded before; "
            "nothing new), not-affected (see reason) or failed (see rule and reason)"
        ),
        examples=["regulated"],
    )
    version: int = Field(description="The contract's version (ETag) afterwards", examples=[7])
    rule: str | None = Field(
        description="The rule behind a not-affected, already-regulated or failed outcome",
        examples=[None, "regulation-not-applicable"],
    )
    reason: str | None = Field(
        description="Why the contract was not regulated now",
        examples=[None, "no line is priced from a tariff sheet; regulate by index instead"],
    )


class RegulationCounts(BaseModel):
    """How many contracts had each outcome."""

    regulated: int = Field(description="Regulated by this request", examples=[12])
    already_regulated: int = Field(description="Regulated before", examples=[0])
    not_affected: int = Field(description="Not affected", examples=[3])
    failed: int = Field(description="Refused by a rule", examples=[0])


class RegulationOut(BaseModel):
    """The result of an offer's annual regulation, contract by contract."""

    kind: Literal["tariff-sheet", "index"] = Field(
        description="tariff-sheet or index", examples=["tariff-sheet"]
    )
    offer: str = Field(description="Offer code (tilbud)", examples=["slotsvaenget-stottepakken"])
    year: int = Field(description="The year regulated", examples=[2027])
    counts: RegulationCounts = Field(description="How many contracts had each outcome")
    contracts: list[RegulatedContractOut] = Field(
        description="Every contract of the offer, in the order they were drafted"
    )


@router.post(
    "/regulations",
    response_model=RegulationOut,
    responses={
        403: {"description": "Only the operator (system administrator) regulates"},
        422: {"description": "Invalid input, or no tariff sheet for the year (names the field)"},
    },
    summary="Apply the annual regulation (årlig regulering) to an offer",
)
def regulate_offer(
    body: RegulationIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Regulate every affected contract of an offer for a year; safe to send again.

    One request gives every affected contract its own regulation event and
    answers per contract. Sending it again records nothing: the contracts
    regulated before read "already-regulated".
    """

    def produce() -> Response:
        outcomes = _regulate(ctx, caller, body)
        answer = RegulationOut(
            kind=body.kind,
            offer=body.offer,
            year=body.year,
            counts=RegulationCounts(
                regulated=_count(outcomes, REGULATED),
                already_regulated=_count(outcomes, ALREADY_REGULATED),
                not_affected=_count(outcomes, NOT_AFFECTED),
                failed=_count(outcomes, FAILED),
            ),
            contracts=[
                RegulatedContractOut.model_validate(o, from_attributes=True) for o in outcomes
            ],
        )
        return JSONResponse(answer.model_dump(mode="json"))

    return idempotent(ctx, caller, request, body, produce)


def _regulate(
    ctx: Ctx, caller: Authenticated, body: SheetRegulationIn | IndexRegulationOfOfferIn
) -> list[RegulationOutcome]:
    if isinstance(body, IndexRegulationOfOfferIn):
        return ctx.ledger.regulate_offer_by_index(
            body.offer,
            body.year,
            pl_percentage=body.pl_percentage,
            overhead_percentage=body.overhead_percentage,
            source=body.source,
            edition=body.edition,
            actor=caller.actor,
        )
    try:
        return ctx.ledger.regulate_offer_by_tariff_sheet(body.offer, body.year, actor=caller.actor)
    except errors.TariffSheetNotFound as error:
        # The body names a sheet that does not exist: invalid input, as an unknown step is.
        msg = f"{error.message}; publish it before regulating (G3)"
        raise errors.InvalidValue(msg, field="body.year") from error


def _count(outcomes: list[RegulationOutcome], outcome: str) -> int:
    return sum(1 for o in outcomes if o.outcome == outcome)
