"""A contract's history, event by event.

Every recorded event of a contract in order: when it was recorded, by whom
(organisation, role, API key, request), its business dates and a one-line
description (built by :mod:`ledger.history`). Only parties to the contract
see it; anyone else gets a 404. No CPR number or name ever appears.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.auth import Authenticated, Ctx, visible_contract
from ledger.history import contract_history
from ledger.values import Actor

router = APIRouter(prefix="/v1", tags=["history"])

ContractIdPath = Annotated[uuid.UUID, Path(description="The contract's id")]


class ActorOut(BaseModel):
    """Who recorded an event (architecture section 8)."""

    organisation: str = Field(
        description="CVR or P-number (CVR-/P-nummer) of the organisation, or `demo`/`system`",
        examples=["29189919"],
    )
    role: str = Field(
        description="buyer-admin, provider-admin, auditor or operator", examples=["buyer-admin"]
    )
    key_id: str = Field(description="The API key's id (never the key itself)", examples=["k_3f9a"])
    request_id: str = Field(
        description="The request that recorded it (also in the request log)",
        examples=["5b1d0c8e9f2a4e7c"],
    )


def actor_out(actor: Actor) -> ActorOut:
    """The response body of an actor."""
    return ActorOut(
        organisation=actor.organisation,
        role=actor.role.value,
        key_id=actor.key_id,
        request_id=actor.request_id,
    )


class HistoryEventOut(BaseModel):
    """One event of the contract's history (hændelse)."""

    version: int = Field(description="The contract version this event made", examples=[7])
    event_type: str = Field(description="The event's type", examples=["RenegotiationAnswered"])
    recorded_at: dt.datetime = Field(
        description="When the ledger recorded it (record time, UTC)",
        examples=["2025-05-03T10:00:00Z"],
    )
    recorded_by: ActorOut | None = Field(description="Who recorded it")
    business_dates: dict[str, dt.date] = Field(
        description=(
            "The business dates in the event (valid time), by field: e.g. `received_on` "
            "(modtaget), `effective_from` (ikrafttræden), `lines.1.start` (startdato)"
        ),
        examples=[{"answered_on": "2025-05-03", "effective_from": "2025-04-10"}],
    )
    description: str = Field(
        description="One line a person can read; never CPR, names or free text",
        examples=[
            (
                "The buyer approved request R1 on line 1 on 2025-05-03: step 4 from 2025-04-10 "
                "(agreement Tillæg 2025-05-03)"
            )
        ],
    )


class HistoryOut(BaseModel):
    """Every event of a contract, oldest first."""

    contract_id: uuid.UUID = Field(
        description="The contract (kontrakt)", examples=["2f492832-1fe7-40ed-aac7-81b9846c9e5c"]
    )
    events: list[HistoryEventOut] = Field(description="The events in the order recorded")


@router.get(
    "/contracts/{contract_id}/history",
    response_model=HistoryOut,
    responses={404: {"description": "No such contract, or not visible to the caller"}},
    summary="A contract's history (historik)",
)
def contract_history_route(
    contract_id: ContractIdPath, caller: Authenticated, ctx: Ctx
) -> HistoryOut:
    """Every event of the contract in order: when, by whom, its business dates, what happened."""
    visible_contract(ctx, caller, contract_id)
    entries = contract_history(ctx.ledger.events.get(contract_id))
    return HistoryOut(
        contract_id=contract_id,
        events=[
            HistoryEventOut(
                version=entry.version,
                event_type=entry.event_type,
                recorded_at=entry.recorded_at,
                recorded_by=None if entry.actor is None else actor_out(entry.actor),
                business_dates=entry.business_dates,
                description=entry.description,
            )
            for entry in entries
        ],
    )
