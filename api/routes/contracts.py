"""Contracts: draft, read (as of a day, as known at a time), list, and every command.

Each route parses, finds the contract the caller may see (else 404), calls
the application service with the ``If-Match`` version, and answers with the
contract's state after the command and its new ETag.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import (
    Authenticated,
    Caller,
    Ctx,
    check_visible,
    require_role,
    visible_contract,
)
from api.context import Context
from api.http import contract_response, expected_version, idempotent, sees_own_writes
from api.schemas import Body, ComponentPriceIn, ContractDraftIn, ContractOut, ServiceLineIn
from ledger.errors import LedgerError
from ledger.values import (
    AbsenceKind,
    ComponentPrice,
    IndexSource,
    Party,
    RequestNature,
    RescissionGround,
    Role,
)

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])

ContractId = Annotated[uuid.UUID, "the contract's id"]
COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "Auditors only read; the clause gives this act to the other party"},
    404: {"description": "No such contract, or not visible to the caller"},
    409: {"description": "A rule of the contract forbids it (problem names rule and clause)"},
    412: {"description": "If-Match does not match the contract's version"},
    422: {"description": "Invalid input (problem names the field)"},
}


class SummaryLineOut(BaseModel):
    """A line in a contract list: its step and price today."""

    line_id: str = Field(description="The line's id within the contract", examples=["1"])
    paragraph: str = Field(description="Legal basis (paragraf)", examples=["SEL §104"])
    step: str = Field(description="Step in force today (takstniveau)", examples=["2:2"])
    daily: Decimal | None = Field(description="DKK per day today (døgnpris); null if unpriced")


class ContractSummaryOut(BaseModel):
    """One contract in a list (from the contract_summary view)."""

    contract_id: uuid.UUID = Field(description="The contract's id")
    version: int = Field(description="The contract's version (its ETag)", examples=[5])
    status: str = Field(description="draft, offered, final, signed, under-notice or ended")
    buyer: dict[str, str] = Field(description="Buyer (handlekommune): name, cvr, ean")
    provider: dict[str, str] = Field(description="Provider (leverandør): name, registration")
    offer: str = Field(description="Offer code (tilbud)", examples=["slotsvaenget-stottepakken"])
    citizen_id: uuid.UUID = Field(description="Pseudonymous citizen id")
    total_daily: Decimal = Field(description="Sum of the lines' daily prices today")
    lines: list[SummaryLineOut] = Field(description="Service lines (indsatser)")


class ContractPage(BaseModel):
    """One page of contracts and the cursor of the next."""

    items: list[ContractSummaryOut] = Field(description="The contracts on this page, by id")
    next_cursor: uuid.UUID | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


@router.post(
    "",
    status_code=201,
    response_model=ContractOut,
    responses=COMMAND_RESPONSES,
    summary="Draft a placement (indplacering)",
)
def draft_contract(
    body: ContractDraftIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Draft a contract for a registered citizen; the buyer drafts (pkt. 1-5, 9, 15, 17)."""
    require_role(caller, Role.BUYER_ADMIN)  # the system administrator is no contract party

    def produce() -> Response:
        contract_id = ctx.ledger.draft_contract(
            buyer=body.buyer.value(),
            payer=None if body.payer is None else body.payer.value(),
            provider=body.provider.value(),
            citizen_id=body.citizen_id,
            lines=[line.value() for line in body.lines],
            terms=body.terms.value(),
            actor=caller.actor,
        )
        contract = ctx.ledger.get_contract(contract_id, shared=True)
        return contract_response(ctx, contract, status=201, location=f"/v1/contracts/{contract_id}")

    return idempotent(ctx, caller, request, body, produce)


@router.get(
    "/{contract_id}",
    response_model=ContractOut,
    responses={404: COMMAND_RESPONSES[404]},
    summary="Read a contract",
)
def read_contract(
    contract_id: ContractId,
    caller: Authenticated,
    ctx: Ctx,
    as_of: Annotated[
        dt.date | None, Query(description="Prices and steps on this day (default: today)")
    ] = None,
    known_at: Annotated[
        dt.datetime | None,
        Query(description="As recorded at this instant (auditors' record time), with timezone"),
    ] = None,
) -> Response:
    """The contract's state and each line's daily price on ``as_of``, as known at ``known_at``."""
    contract = visible_contract(ctx, caller, contract_id, known_at)
    return contract_response(ctx, contract, as_of=as_of, known_at=known_at)


@router.get("", response_model=ContractPage, summary="List contracts")
def list_contracts(
    caller: Authenticated,
    ctx: Ctx,
    buyer: Annotated[str | None, Query(description="Buyer CVR or EAN")] = None,
    provider: Annotated[str | None, Query(description="Provider CVR or P-number")] = None,
    offer: Annotated[str | None, Query(description="Offer code (tilbud)")] = None,
    paragraph: Annotated[str | None, Query(description="e.g. 85 or §104")] = None,
    status: Annotated[
        str | None,
        Query(
            description="draft, offered, final, signed, under-notice or ended",
            pattern="^(draft|offered|final|signed|under-notice|ended)$",
        ),
    ] = None,
    after: Annotated[uuid.UUID | None, Query(description="Cursor: the last id seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ContractPage:
    """The contracts the caller is a party to, matching every filter, by id."""
    sees_own_writes(ctx, caller, "contract_summary")
    found = ctx.views.summary.search(
        today=ctx.ledger.today(),
        buyer=buyer,
        provider=provider,
        offer=offer,
        paragraph=paragraph,
        status=status,
        after=after,
        limit=limit,
        party=caller.scope,
    )
    items = [
        ContractSummaryOut(
            contract_id=s.contract_id,
            version=s.version,
            status=s.status,
            buyer={"name": s.buyer_name, "cvr": s.buyer_cvr, "ean": s.buyer_ean},
            provider={"name": s.provider_name, "registration": s.provider_registration},
            offer=s.offer,
            citizen_id=s.citizen_id,
            total_daily=s.total_daily,
            lines=[
                SummaryLineOut(
                    line_id=line.line_id, paragraph=line.paragraph, step=line.step, daily=line.daily
                )
                for line in s.lines
            ],
        )
        for s in found
    ]
    next_cursor = found[-1].contract_id if len(found) == limit else None
    return ContractPage(items=items, next_cursor=next_cursor)


# --- commands ------------------------------------------------------------------------


def _command(
    ctx: Context,
    caller: Caller,
    request: Request,
    contract_id: uuid.UUID,
    body: BaseModel | None,
    act: Callable[[int | None], object],
) -> Response:
    """Run one contract command: visible, If-Match, act, answer with the new state."""

    def produce() -> Response:
        check_visible(ctx, caller, contract_id)
        act(expected_version(request))
        # The command's save left the new state in memory (or something newer).
        after = ctx.ledger.get_contract(contract_id, shared=True, latest=False)
        return contract_response(ctx, after)

    return idempotent(ctx, caller, request, body, produce)


def _post(path: str, summary: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    return router.post(
        path, response_model=ContractOut, responses=COMMAND_RESPONSES, summary=summary
    )


class OnDay(Body):
    """A dated act."""

    on: dt.date = Field(description="The business date of the act", examples=["2025-03-01"])


class SignIn(Body):
    """A party's signature (underskrift, pkt. 18)."""

    party: Party = Field(description="Who signs: buyer (køber) or provider (leverandør)")
    signed_on: dt.date = Field(
        description="Date of signature (underskriftsdato)", examples=["2025-03-01"]
    )


class StepChangeIn(Body):
    """An agreed step change (ændring af takstniveau, pkt. 16 / 4.1)."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    step: str = Field(description="The new step (takstniveau, trin)", examples=["2:2"])
    effective_from: dt.date = Field(
        description="First day of the new step (ikrafttræden)", examples=["2025-04-01"]
    )
    agreed_on: dt.date = Field(
        description="The day the parties agreed (aftaledato)", examples=["2025-03-20"]
    )
    agreement_ref: str = Field(
        min_length=1,
        description="Reference to the written agreement (skriftlig aftale)",
        examples=["AFT-2025-031"],
    )


class RenegotiationIn(Body):
    """A request to renegotiate a line (anmodning om genforhandling, pkt. 16)."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    requested_by: Party = Field(description="The requesting party (buyer or provider)")
    received_on: dt.date = Field(
        description="The day the other party received the written description (modtaget); "
        "the 30-day answer deadline runs from here",
        examples=["2025-04-10"],
    )
    nature: RequestNature = Field(
        description="lasting (vedblivende karakter) or temporary (midlertidig karakter); "
        "only a lasting change is a ground (pkt. 16)"
    )
    description: str = Field(
        min_length=1,
        description="What changed in the citizen's needs (beskrivelse)",
        examples=["Needs support at night since March"],
    )
    proposed_step: str | None = Field(
        None, description="The step asked for (ønsket takstniveau)", examples=["3:2"]
    )
    proposed_prices: list[ComponentPriceIn] = Field(
        default_factory=list, description="Proposed agreed prices (særforanstaltning) only"
    )
    requested_effective_from: dt.date | None = Field(
        None,
        description="Asked-for first day of the new price; by default the day of receipt",
        examples=["2025-04-10"],
    )


class AnswerIn(Body):
    """The answer to a renegotiation request (svar, pkt. 16)."""

    answered_by: Party = Field(description="The answering party: the one that did not request")
    answered_on: dt.date = Field(
        description="Date of the answer (svardato)", examples=["2025-05-03"]
    )
    approved: bool = Field(description="true: approved (godkendt); false: rejected (afvist)")
    reason: str = Field(
        "",
        description="Reason, above all for a rejection (begrundelse)",
        examples=["The change is temporary"],
    )
    agreement_ref: str | None = Field(
        None,
        description="The written agreement an approval rests on (skriftlig aftale); "
        "required to approve",
        examples=["AFT-2025-044"],
    )


class AllongeIn(Body):
    """A temporary price supplement (allonge)."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    valid_from: dt.date = Field(description="First day (gyldig fra)", examples=["2025-05-01"])
    valid_to: dt.date = Field(description="Last day (gyldig til)", examples=["2025-06-30"])
    daily_delta: Decimal = Field(
        description="DKK per day added (negative: a reduction) (tillæg pr. døgn)",
        examples=["250.00"],
    )
    description: str = Field(
        min_length=1, description="What the allonge pays for", examples=["Escort to treatment"]
    )
    agreement_ref: str = Field(
        min_length=1, description="Reference to the signed allonge", examples=["ALL-2025-7"]
    )
    buyer_accepted: bool = Field(description="The buyer accepted it in writing (accept)")


class AbsenceIn(Body):
    """The start of a hospitalisation, imprisonment or custody (pkt. 14)."""

    kind: AbsenceKind = Field(
        description="hospital (sygehusindlæggelse), prison (fængsling), custody (surrogatfængsling)"
    )
    started_on: dt.date = Field(description="First day of the absence", examples=["2025-03-02"])


class NonDeliveryIn(Body):
    """A report that the service is not delivered (misligholdelse, pkt. 10)."""

    by: Party = Field(description="The reporting party")
    reported_on: dt.date = Field(description="Date of the report", examples=["2025-03-03"])
    cause: str = Field(
        min_length=1, description="Why the service is not delivered (årsag)", examples=["No staff"]
    )
    citizen_related: bool = Field(description="The cause lies with the citizen (borgerrelateret)")


class ForceMajeureIn(Body):
    """Force majeure (pkt. 10)."""

    by: Party = Field(description="The declaring party")
    declared_on: dt.date = Field(description="Date of the declaration", examples=["2025-03-03"])
    description: str = Field(
        min_length=1, description="What happened", examples=["Fire in the building"]
    )


class RescissionIn(Body):
    """Ending the contract without notice (ophævelse, pkt. 10)."""

    by: Party = Field(description="The rescinding party")
    effective_on: dt.date = Field(
        description="Day the contract ends (ophørsdato)", examples=["2025-03-31"]
    )
    ground: RescissionGround = Field(
        description="non-delivery (misligholdelse; buyer only) or force-majeure (either party)"
    )


class FrameworkChangeIn(Body):
    """A framework-agreement change notified by 1 December (rammeaftale, pkt. 4)."""

    received_on: dt.date = Field(
        description="The day the buyer received the notice", examples=["2025-11-28"]
    )
    framework_version: str = Field(
        min_length=1, description="The new framework agreement", examples=["Rammeaftale 2026"]
    )
    adoption_year: int = Field(
        ge=2000, le=2100, description="Year it was adopted (vedtaget)", examples=[2025]
    )


class NoticeIn(Body):
    """Notice of termination (opsigelse, pkt. 9)."""

    given_by: Party = Field(description="The party giving notice (either may)")
    given_on: dt.date = Field(
        description="Day notice is given (opsigelsesdato)", examples=["2025-08-05"]
    )


class FollowUpIn(Body):
    """A follow-up held (opfølgning, G20)."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    held_on: dt.date = Field(description="Day the follow-up was held", examples=["2025-06-01"])


class RespiteUsedIn(Body):
    """Respite døgn used in a month (aflastning, pkt. 5)."""

    line_id: str = Field(description="The respite line (aflastning)", examples=["2"])
    month: dt.date = Field(description="Any day of the month", examples=["2025-03-01"])
    days: list[dt.date] = Field(
        description="The døgn used that month", examples=[["2025-03-02", "2025-03-09"]]
    )


class IndexRegulationIn(Body):
    """The yearly index regulation of agreed prices (særforanstaltning, pkt. 8)."""

    year: int = Field(
        ge=2000, le=2100, description="Regulated from 1 January of this year", examples=[2026]
    )
    pl_percentage: Decimal = Field(
        description="Price-and-wage index (pris- og lønfremskrivning), percent", examples=["2.5"]
    )
    overhead_percentage: Decimal = Field(
        Decimal(0), description="Overhead (overhead), percent", examples=["0"]
    )
    source: IndexSource = Field(description="Who published the index: KL or Danske Regioner")
    edition: str = Field(
        min_length=1, description="The index edition used", examples=["KL juni 2025"]
    )
    beyond_index_percentage: Decimal = Field(
        Decimal(0),
        description="Increase beyond the index; needs the buyer's acceptance (pkt. 8)",
        examples=["0"],
    )


class ProvisionalStepIn(Body):
    """A revised provisional step (foreløbig indplacering, 4.1)."""

    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    step: str = Field(description="The new provisional step (takstniveau)", examples=["1:3"])


class PaymentEndIn(Body):
    """The payment end agreed under payment option 4 (betalingsophør, pkt. 9)."""

    payment_end: dt.date = Field(description="Last day paid for", examples=["2025-10-31"])
    agreement_ref: str = Field(
        min_length=1, description="Reference to the written agreement", examples=["AFT-2025-17"]
    )


@_post("/{contract_id}/offer", "Offer the place (tilbud om plads)")
def offer(
    contract_id: ContractId, body: OnDay, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """The provider offers the citizen the place (4.1)."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.offer_place(
            contract_id, body.on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/finalise", "Make the placement final (endelig indplacering)")
def finalise(
    contract_id: ContractId, body: OnDay, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Make the placement final (4.1); steps are agreed from now on."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.finalise_placement(
            contract_id, body.on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/signatures", "Sign (underskrift)")
def sign(
    contract_id: ContractId, body: SignIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """A party signs (pkt. 18); each party signs for itself."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.sign(
            contract_id, body.party, body.signed_on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/step-changes", "Agree a step change")
def change_step(
    contract_id: ContractId, body: StepChangeIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Record a step change both parties agreed in writing."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.change_step(
            contract_id,
            body.line_id,
            body.step,
            effective_from=body.effective_from,
            agreed_on=body.agreed_on,
            agreement_ref=body.agreement_ref,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/renegotiations", "Request a renegotiation (genforhandling)")
def request_renegotiation(
    contract_id: ContractId,
    body: RenegotiationIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Request a renegotiation of a line (pkt. 16); only lasting changes are a ground."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.request_renegotiation(
            contract_id,
            body.line_id,
            requested_by=body.requested_by,
            received_on=body.received_on,
            nature=body.nature,
            description=body.description,
            proposed_step=body.proposed_step,
            proposed_prices=[ComponentPrice(p.component, p.daily) for p in body.proposed_prices],
            requested_effective_from=body.requested_effective_from,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/renegotiations/{request_id}/answer", "Answer a renegotiation")
def answer_renegotiation(
    contract_id: ContractId,
    request_id: str,
    body: AnswerIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Approve or reject (pkt. 16); the party that did not request it answers."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.answer_renegotiation(
            contract_id,
            request_id,
            answered_by=body.answered_by,
            answered_on=body.answered_on,
            approved=body.approved,
            reason=body.reason,
            agreement_ref=body.agreement_ref,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/allonges", "Add an allonge")
def add_allonge(
    contract_id: ContractId, body: AllongeIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """A temporary price supplement for a period."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.add_allonge(
            contract_id,
            body.line_id,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            daily_delta=body.daily_delta,
            description=body.description,
            agreement_ref=body.agreement_ref,
            buyer_accepted=body.buyer_accepted,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/absences", "Start a hospitalisation, imprisonment or custody")
def start_absence(
    contract_id: ContractId, body: AbsenceIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Record that an absence started (pkt. 14); the provider must notify within 7 days."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.start_absence(
            contract_id, body.kind, body.started_on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/absences/{absence_id}/notice", "Notify an absence (pkt. 14)")
def notify_absence(
    contract_id: ContractId,
    absence_id: str,
    body: OnDay,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """The provider notifies the buyer of the absence."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.notify_absence(
            contract_id, absence_id, body.on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/absences/{absence_id}/end", "End an absence")
def end_absence(
    contract_id: ContractId,
    absence_id: str,
    body: OnDay,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """The absence ended."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.end_absence(
            contract_id, absence_id, body.on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/non-delivery", "Report non-delivery (pkt. 10)")
def report_non_delivery(
    contract_id: ContractId,
    body: NonDeliveryIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Report that the service is not delivered."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.report_non_delivery(
            contract_id,
            by=body.by,
            reported_on=body.reported_on,
            cause=body.cause,
            citizen_related=body.citizen_related,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/force-majeure", "Declare force majeure (pkt. 10)")
def declare_force_majeure(
    contract_id: ContractId,
    body: ForceMajeureIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Declare force majeure."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.declare_force_majeure(
            contract_id,
            by=body.by,
            declared_on=body.declared_on,
            description=body.description,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/rescission", "Rescind without notice (ophævelse, pkt. 10)")
def rescind(
    contract_id: ContractId, body: RescissionIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """End the contract without notice on a pkt. 10 ground."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.rescind_without_notice(
            contract_id,
            by=body.by,
            effective_on=body.effective_on,
            ground=body.ground,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/framework-changes", "Notify a framework change (pkt. 4)")
def notify_framework_change(
    contract_id: ContractId,
    body: FrameworkChangeIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """The provider notifies the yearly framework change by 1 December."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.notify_framework_change(
            contract_id,
            received_on=body.received_on,
            framework_version=body.framework_version,
            adoption_year=body.adoption_year,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/notice", "Give notice (opsigelse, pkt. 9)")
def give_notice(
    contract_id: ContractId, body: NoticeIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Either party gives notice; the notice period and payment end follow the terms."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.give_notice(
            contract_id,
            given_by=body.given_by,
            given_on=body.given_on,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/reoccupation", "Record re-occupation of the place (pkt. 9)")
def record_reoccupation(
    contract_id: ContractId, body: OnDay, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """The place is filled again; payment options 1 and 2 end the payment."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.record_reoccupation(
            contract_id, body.on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/follow-ups", "Record a follow-up (opfølgning)")
def hold_follow_up(
    contract_id: ContractId, body: FollowUpIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """A follow-up was held on a line (G20)."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.hold_follow_up(
            contract_id, body.line_id, body.held_on, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/respite-days", "Record respite days used (aflastning)")
def record_respite_used(
    contract_id: ContractId,
    body: RespiteUsedIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """The provider records the respite døgn used in a month."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.record_respite_used(
            contract_id,
            body.line_id,
            body.month,
            body.days,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/index-regulations", "Regulate agreed prices by index (pkt. 8)")
def regulate_by_index(
    contract_id: ContractId,
    body: IndexRegulationIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Apply the year's price-and-wage index to a særforanstaltning's agreed prices."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.regulate_by_index(
            contract_id,
            body.year,
            pl_percentage=body.pl_percentage,
            overhead_percentage=body.overhead_percentage,
            source=body.source,
            edition=body.edition,
            beyond_index_percentage=body.beyond_index_percentage,
            actor=caller.actor,
            expected_version=v,
        ),
    )


@_post("/{contract_id}/lines", "Add a service line (indsats, pkt. 5)")
def add_service_line(
    contract_id: ContractId,
    body: ServiceLineIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """The buyer adds a service line to the contract (pkt. 5); its id is in the response."""

    def act(version: int | None) -> object:
        try:
            return ctx.ledger.add_service_line(
                contract_id, body.value(), actor=caller.actor, expected_version=version
            )
        except LedgerError as error:
            # The ledger names the new line's fields "line.end"; this body is the line.
            if error.field is not None:
                error.field = error.field.removeprefix("line.")
            raise

    return _command(ctx, caller, request, contract_id, body, act)


@_post("/{contract_id}/provisional-steps", "Revise a provisional step (foreløbig indplacering)")
def revise_provisional_step(
    contract_id: ContractId,
    body: ProvisionalStepIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Change a line's provisional step before the placement is made final (4.1)."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.revise_provisional_step(
            contract_id, body.line_id, body.step, actor=caller.actor, expected_version=v
        ),
    )


@_post("/{contract_id}/payment-end", "Agree the payment end (betalingsophør, option 4)")
def agree_payment_end(
    contract_id: ContractId,
    body: PaymentEndIn,
    request: Request,
    caller: Authenticated,
    ctx: Ctx,
) -> Response:
    """Record the payment end both parties agreed under payment option 4 (pkt. 9)."""
    return _command(
        ctx,
        caller,
        request,
        contract_id,
        body,
        lambda v: ctx.ledger.agree_payment_end(
            contract_id,
            body.payment_end,
            agreement_ref=body.agreement_ref,
            actor=caller.actor,
            expected_version=v,
        ),
    )
