"""Conventions every route shares: ETags, If-Match, Idempotency-Key, contract bodies."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from adapters.idempotency import StoredResponse
from api.auth import Caller
from api.context import Context
from api.problems import IdempotencyMismatch, PreconditionFailed
from api.schemas import contract_out
from ledger.application import tracking_writes
from ledger.contract import Contract
from ledger.errors import LedgerError

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


def etag(version: int) -> str:
    """The ETag of a contract version."""
    return f'"{version}"'


def expected_version(request: Request) -> int | None:
    """The version named by ``If-Match``, or None when the header is absent."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        msg = f'If-Match must be a contract ETag such as "3", not {header!r}'
        raise PreconditionFailed(msg)
    return int(match.group(1))


def contract_response(
    ctx: Context,
    contract: Contract,
    *,
    status: int = 200,
    as_of: dt.date | None = None,
    known_at: dt.datetime | None = None,
    location: str | None = None,
) -> Response:
    """The contract as a response with its version as ETag."""
    day = as_of or ctx.ledger.today()
    try:
        prices = ctx.ledger.contract_prices(contract, day, known_at=known_at)
        price_error = None
    except LedgerError as error:  # e.g. no tariff sheet for the year yet (G3)
        prices, price_error = {}, str(error)
    body = contract_out(contract, prices, day, known_at, price_error)
    headers = {"ETag": etag(contract.version)}
    if location is not None:
        headers["Location"] = location
    # Encoded by pydantic's serializer in one step (not to a dict, then by json.dumps).
    return Response(
        body.model_dump_json(), status_code=status, headers=headers, media_type="application/json"
    )


def idempotent(
    ctx: Context,
    caller: Caller,
    request: Request,
    body: BaseModel | None,
    produce: Callable[[], Response],
) -> Response:
    """Run ``produce`` once per ``Idempotency-Key``; a repeat returns the first response.

    The key is scoped to the caller's organisation and API key. The same key
    with a different method, path or body is refused (422): it would
    otherwise hide a second, different command.
    """
    produce = _noting_writes(ctx, caller, produce)
    key = request.headers.get("idempotency-key")
    if key is None:
        return produce()
    scope = f"{caller.organisation}/{caller.key.key_id}"
    content = "" if body is None else body.model_dump_json()
    # Keyed (HMAC): the body of POST /v1/citizens holds a CPR number and a name, and
    # a plain hash of it would let anyone with the table confirm a guess.
    message = f"{request.method} {request.url.path}\n{content}".encode()
    digest = hmac.new(ctx.request_key, message, hashlib.sha256).hexdigest()
    stored = ctx.idempotency.get(scope, key)
    if stored is None:
        response = produce()
        if response.status_code >= 500:  # noqa: PLR2004 - server errors are not remembered
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() in {"etag", "location"}}
        stored = ctx.idempotency.put(
            scope,
            key,
            StoredResponse(digest, response.status_code, headers, bytes(response.body)),
        )
        if stored.request_hash == digest and bytes(response.body) == stored.body:
            return response
    if stored.request_hash != digest:
        msg = "this Idempotency-Key was used with a different request"
        raise IdempotencyMismatch(msg)
    media = "application/problem+json" if stored.status >= 400 else "application/json"  # noqa: PLR2004
    return Response(
        stored.body,
        status_code=stored.status,
        headers={**stored.headers, "Idempotent-Replayed": "true"},
        media_type=media,
    )


def _noting_writes(
    ctx: Context, caller: Caller, produce: Callable[[], Response]
) -> Callable[[], Response]:
    """``produce``, remembering on the caller's key how far into the log it wrote.

    Reads served from a view wait for that position (read-your-writes, ADR 0015).
    """

    def noted() -> Response:
        with tracking_writes() as written:
            try:
                return produce()
            finally:
                ctx.keys.note_written(caller.key.key_id, written.position)

    return noted


def sees_own_writes(ctx: Context, caller: Caller, *views: str) -> None:
    """Wait until ``views`` include every event the caller's key has written.

    Read-your-writes (ADR 0015): a command's events reach a view a moment
    later (its projection worker runs apart on PostgreSQL). Waiting only for
    the caller's own last write, not for the head of the log, spares every
    other reader the wait. Others' writes show up as soon as the worker has
    them. Reads that must include everything recorded (invoices, the
    adjustments the next invoice carries) wait for the head instead.
    """
    ctx.views.wait(caller.key.written_through, views)
