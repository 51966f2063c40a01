"""Citizens (borgere): register CPR number and name, read them, erase them.

Personal data lives in the citizen register, encrypted, outside the events;
contracts and events name a citizen only by a pseudonymous ``citizen_id``
(architecture section 8). These routes are the only way in and out:

- ``POST /v1/citizens``: a buyer administrator registers a citizen and gets
  the id to draft contracts with. The same CPR number always gets the same
  id, and the answer is the same 201 whether or not it was known, so the
  route does not tell whether someone is already in care.
- ``GET /v1/citizens/{id}``: CPR number and name, only to an organisation that
  is a party to one of the citizen's contracts (in the caller's role, as the
  contract list scopes it); to anyone else the citizen does not exist (404).
- ``DELETE /v1/citizens/{id}``: erase the personal data. DELETE, not
  ``POST .../erasure``: the resource (CPR and name) ceases to exist and a
  later read is 404, which is what DELETE means; and DELETE is idempotent by
  definition, so a retry needs no Idempotency-Key. The contracts and their
  history stay as they were, now naming an id that resolves to nothing.

No route logs or echoes a CPR number or name; validation messages never
repeat the value.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from api.auth import Authenticated, Caller, Ctx, require_role
from api.context import Context
from api.http import idempotent, sees_own_writes
from api.schemas import Body
from ledger import errors
from ledger.citizens import CitizenRecord
from ledger.identifiers import validate_cpr
from ledger.values import Role

router = APIRouter(prefix="/v1", tags=["citizens"])

CitizenId = Annotated[
    uuid.UUID,
    Path(
        description="Pseudonymous citizen id (from POST /v1/citizens)",
        examples=["6c0d3f0e-8a1b-4c55-9d2e-0f4b7b1e9a11"],
    ),
]
NO_STORE = {"Cache-Control": "no-store"}  # personal data: no cache keeps a copy
CITIZEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's role may not do this"},
    404: {"description": "No such citizen, erased, or not a party to any of their contracts"},
}


class CitizenIn(Body):
    """A citizen (borger) to register: CPR number and name."""

    cpr: str = Field(
        description=(
            "CPR number (CPR-nummer), DDMMYY-SSSS with or without the hyphen; "
            "stored encrypted, never in events or logs"
        ),
        examples=["010190-1234"],
    )
    name: str = Field(
        min_length=1,
        max_length=200,
        description="The citizen's full name (navn); stored encrypted",
        examples=["Anna Demo"],
    )

    @field_validator("cpr")
    @classmethod
    def _cpr(cls, value: str) -> str:
        try:
            return validate_cpr(value)
        except errors.LedgerError as error:
            raise ValueError(error.message) from None  # the message never repeats the number

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            msg = "a citizen's name must not be blank"
            raise ValueError(msg)
        return value.strip()


class CitizenRegistered(BaseModel):
    """The pseudonymous id of a registered citizen."""

    citizen_id: uuid.UUID = Field(
        description="Pseudonymous citizen id: use it as `citizen_id` when drafting a contract",
        examples=["6c0d3f0e-8a1b-4c55-9d2e-0f4b7b1e9a11"],
    )


class CitizenOut(BaseModel):
    """A citizen's personal data, shown only to a party to one of their contracts."""

    citizen_id: uuid.UUID = Field(
        description="Pseudonymous citizen id", examples=["6c0d3f0e-8a1b-4c55-9d2e-0f4b7b1e9a11"]
    )
    cpr: str = Field(description="CPR number (CPR-nummer), 10 digits", examples=["0101901234"])
    name: str = Field(description="Name (navn)", examples=["Anna Demo"])


@router.post(
    "/citizens",
    status_code=201,
    response_model=CitizenRegistered,
    responses={
        403: CITIZEN_RESPONSES[403],
        422: {"description": "Invalid CPR number or blank name (the problem names the field)"},
    },
    summary="Register a citizen (borger)",
)
def register_citizen(
    body: CitizenIn, request: Request, caller: Authenticated, ctx: Ctx
) -> Response:
    """Register a citizen's CPR number and name; answers the pseudonymous id.

    A buyer administrator registers. The same CPR number always answers the
    same id (the name first registered is kept).
    """
    require_role(caller, Role.BUYER_ADMIN)

    def produce() -> Response:
        citizen_id = ctx.citizens.register(body.cpr, body.name)
        answer = CitizenRegistered(citizen_id=citizen_id)
        return JSONResponse(
            answer.model_dump(mode="json"),
            status_code=201,
            headers={"Location": f"/v1/citizens/{citizen_id}"},
        )

    return idempotent(ctx, caller, request, body, produce)


@router.get(
    "/citizens/{citizen_id}",
    response_model=CitizenOut,
    responses={404: CITIZEN_RESPONSES[404]},
    summary="Read a citizen's CPR number and name",
)
def read_citizen(citizen_id: CitizenId, caller: Authenticated, ctx: Ctx) -> Response:
    """CPR number and name, for an organisation party to one of the citizen's contracts."""
    record = _visible_citizen(ctx, caller, citizen_id)
    answer = CitizenOut(citizen_id=record.citizen_id, cpr=record.cpr, name=record.name)
    return JSONResponse(answer.model_dump(mode="json"), headers=NO_STORE)


@router.delete(
    "/citizens/{citizen_id}",
    status_code=204,
    responses=CITIZEN_RESPONSES,
    summary="Erase a citizen's personal data",
)
def erase_citizen(citizen_id: CitizenId, caller: Authenticated, ctx: Ctx) -> Response:
    """Delete the citizen's CPR number and name; the contracts and their history stay.

    A buyer administrator whose municipality buys one of the citizen's
    contracts erases, or the operator. Afterwards the citizen reads as 404,
    and so does a second erasure.
    """
    require_role(caller, Role.BUYER_ADMIN, Role.OPERATOR)
    if caller.role is not Role.OPERATOR:
        _visible_citizen(ctx, caller, citizen_id)
    if not ctx.citizens.erase(citizen_id):
        raise _not_found(citizen_id)
    return Response(status_code=204)


def _visible_citizen(ctx: Context, caller: Caller, citizen_id: uuid.UUID) -> CitizenRecord:
    """The citizen's record if the caller is a party to one of their contracts; else 404.

    Not a party and not registered (or erased) give the same 404, so ids cannot be probed.
    """
    sees_own_writes(ctx, caller, "contract_summary")
    if not ctx.views.summary.citizen_contract_ids(citizen_id, party=caller.scope):
        raise _not_found(citizen_id)
    record = ctx.citizens.find(citizen_id)
    if record is None:
        raise _not_found(citizen_id)
    return record


def _not_found(citizen_id: uuid.UUID) -> errors.NotFound:
    return errors.NotFound(f"no citizen {citizen_id}", field="citizen_id")
