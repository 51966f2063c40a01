"""Who is calling: bearer API keys, roles, and which contracts a caller sees.

A key belongs to one organisation (a municipality's CVR, or a provider's CVR
or P-number) and has one role. A caller sees a contract only when its
organisation is a party to it: the buyer (or the paying municipality) for
buyer administrators, the provider for provider administrators, either for
auditors. Anything else is reported as not found (404), never as forbidden,
so contract ids cannot be probed. What a party may *do* follows the contract
and is checked by the application service (architecture section 8).

The system administrator (role ``operator`` in the ledger) publishes tariff
sheets, applies the annual regulation, issues invoices and manages keys; it
is not a contract party and sees no contract through the contract routes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.api_keys import ApiKey
from api.context import Context, context
from api.problems import Unauthenticated
from ledger import errors
from ledger.contract import Contract
from ledger.values import Actor, Role

bearer = HTTPBearer(auto_error=False, description="An API key from `ledger keys create`")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    key: ApiKey
    request_id: str

    @property
    def organisation(self) -> str:
        """The caller's organisation (CVR or P-number)."""
        return self.key.organisation

    @property
    def role(self) -> Role:
        """The caller's role."""
        return self.key.role

    @property
    def actor(self) -> Actor:
        """Who is recorded on the events this request causes."""
        return Actor(self.organisation, self.role, self.key.key_id, self.request_id)

    @property
    def scope(self) -> tuple[str, str]:
        """The side of its contracts the caller's organisation is on, for the views' filters.

        ``("buyer" | "provider" | "either" | "none", organisation)``; the operator
        is no party (``none``). A buyer administrator's side also covers the
        contracts its municipality pays for (betalingskommune), as :meth:`sees` does.
        """
        sides = {Role.BUYER_ADMIN: "buyer", Role.PROVIDER_ADMIN: "provider", Role.AUDITOR: "either"}
        return (sides.get(self.role, "none"), self.organisation)

    def sees(self, contract: Contract) -> bool:
        """Whether the caller's organisation is a party to ``contract``."""
        buyers = {contract.buyer.cvr}
        if contract.payer is not None:
            buyers.add(contract.payer.cvr)
        if self.role is Role.BUYER_ADMIN:
            return self.organisation in buyers
        if self.role is Role.PROVIDER_ADMIN:
            return self.organisation == contract.provider.registration
        if self.role is Role.AUDITOR:
            return self.organisation in {*buyers, contract.provider.registration}
        return False


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ctx: Annotated[Context, Depends(context)],
) -> Caller:
    """The caller of this request; 401 without a valid key."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated
    key = ctx.keys.authenticate(credentials.credentials)
    if key is None:
        msg = "the API key is unknown or revoked"
        raise Unauthenticated(msg)
    request.state.organisation = key.organisation
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    return Caller(key, request_id)


def require_role(caller: Caller, *roles: Role) -> None:
    """Refuse (403) a caller whose role is not one of ``roles``."""
    if caller.role not in roles:
        names = ", ".join(role.value for role in roles)
        msg = f"this needs the role {names}; the key has {caller.role.value}"
        raise errors.NotPermitted(msg)


def visible_contract(
    ctx: Context,
    caller: Caller,
    contract_id: uuid.UUID,
    known_at: dt.datetime | None = None,
) -> Contract:
    """The contract (as known at ``known_at``) if the caller is a party to it; else 404.

    Read-only: it may be the instance the ledger shares between requests.

    Visibility is decided on the contract as it is now: parties do not change.
    """
    contract = ctx.ledger.get_contract(contract_id, shared=True)
    _check_sees(caller, contract)
    if known_at is not None:
        return ctx.ledger.get_contract(contract_id, known_at=known_at)
    return contract


def check_visible(ctx: Context, caller: Caller, contract_id: uuid.UUID) -> None:
    """404 unless the caller is a party to the contract; for a command about to load it.

    Parties never change, so the copy kept in memory decides without asking
    the store for newer events: the command itself loads the latest state.
    """
    _check_sees(caller, ctx.ledger.get_contract(contract_id, shared=True, latest=False))


def _check_sees(caller: Caller, contract: Contract) -> None:
    if not caller.sees(contract):
        msg = f"no contract {contract.id}"
        raise errors.ContractNotFound(msg, field="contract_id")


Authenticated = Annotated[Caller, Depends(authenticate)]
Ctx = Annotated[Context, Depends(context)]
