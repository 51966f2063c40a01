"""Every error as an RFC 9457 problem document, mapped in this one module.

Status codes:

- 401: no valid API key (:class:`Unauthenticated`).
- 404: unknown, or not visible to the caller. Another party's contract is a
  404, never a 403, so ids cannot be probed.
- 422: invalid input. Pydantic's validation errors, the domain's
  :class:`~ledger.errors.InvalidValue`, a body that names something that
  does not exist (an unknown step, tariff model, line or citizen), and a date
  before the date it must follow (an end before its start), with ``field``
  naming the input.
- 409: a rule of the contract, with its ``rule`` code and ``clause``.
- 403: the caller sees the contract but the clause gives the act to the
  other party.
- 412: ``If-Match`` names a version the contract is no longer at.
- 409: any other concurrent change, caught when saving.

The ``type`` of each problem is a stable URN built from the rule code
(``urn:kontraktledger:problem:<rule>``), so clients can branch on it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import errors

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:kontraktledger:problem:"


class FieldProblem(BaseModel):
    """One invalid input."""

    field: str = Field(description="Where the input is, e.g. `body.lines.0.step`")
    message: str = Field(description="What is wrong with it", examples=["Field required"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(
        description="Stable URN of the problem kind", examples=[f"{TYPE_PREFIX}not-found"]
    )
    title: str = Field(description="The kind of problem, for people", examples=["Not found"])
    status: int = Field(description="The HTTP status", examples=[404])
    detail: str = Field(
        description="This occurrence, for people",
        examples=["no contract 6f0d9b1e-2c4a-5e8f-9a37-1b5c7d9e0f24"],
    )
    instance: str | None = Field(None, description="The request path")
    rule: str | None = Field(None, description="The rule broken (stable code)")
    clause: str | None = Field(
        None, description="The clause of Bilag 1 or the tariff model, or a gap id (G1-G25)"
    )
    field: str | None = Field(None, description="The offending input, when there is one")
    errors: list[FieldProblem] | None = Field(
        None, description="Every invalid input, when the request had several"
    )


class Unauthenticated(Exception):
    """No valid bearer API key."""


class PreconditionFailed(Exception):
    """``If-Match`` does not match the contract's version."""


class IdempotencyMismatch(Exception):
    """An ``Idempotency-Key`` reused with a different request."""


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    request: Request | None = None,
    rule: str | None = None,
    clause: str | None = None,
    field: str | None = None,
    field_errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem response."""
    document = Problem(
        type=TYPE_PREFIX + (rule or _slug(title)),
        title=title,
        status=status,
        detail=detail,
        instance=None if request is None else request.url.path,
        rule=rule,
        clause=clause or None,
        field=field,
        errors=field_errors,
    )
    return JSONResponse(
        document.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


_INPUT_NOT_FOUND = (
    errors.UnknownStep,
    errors.UnknownTariffModel,
    errors.UnknownServiceLine,
    errors.CitizenNotFound,
)
# Rule violations that are a value of the request itself: a date before the
# one it must follow (e.g. an allonge's valid_to before its valid_from).
_INVALID_INPUT = (errors.InvalidValue, errors.DateOutOfOrder)


def ledger_error_response(request: Request, error: errors.LedgerError) -> JSONResponse:  # noqa: PLR0911 - one return per status
    """The problem for a domain error."""
    common: dict[str, Any] = {
        "request": request,
        "rule": error.rule,
        "clause": error.clause,
        "field": error.field,
    }
    if isinstance(error, _INPUT_NOT_FOUND):
        # The body names something that does not exist: invalid input, not a missing resource.
        return problem(422, "Invalid input", error.message, **common)
    if isinstance(error, errors.NotFound):
        return problem(404, "Not found", error.message, **common)
    if isinstance(error, _INVALID_INPUT):
        return problem(422, "Invalid input", str(error), **common)
    if isinstance(error, errors.NotPermitted):
        return problem(403, "Not permitted", str(error), **common)
    if isinstance(error, errors.ConcurrencyConflict):
        if request.headers.get("if-match") is not None:
            return problem(412, "Precondition failed", str(error), **common)
        return problem(409, "Concurrent change", str(error), **common)
    return problem(409, "Rule violated", str(error), **common)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error the app can raise to a problem document, and document them so."""
    _document_problems(app)

    @app.exception_handler(errors.LedgerError)
    async def _ledger(request: Request, error: errors.LedgerError) -> JSONResponse:
        return ledger_error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        found = [
            FieldProblem(
                field=".".join(str(part) for part in item.get("loc", ())),
                message=str(item.get("msg", "invalid")),
            )
            for item in error.errors()
        ]
        first = found[0].field if found else None
        detail = "; ".join(f"{f.field}: {f.message}" for f in found) or "invalid input"
        return problem(
            422,
            "Invalid input",
            detail,
            request=request,
            rule="invalid-value",
            field=first,
            field_errors=found,
        )

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(request: Request, error: Unauthenticated) -> JSONResponse:
        return problem(
            401,
            "Unauthenticated",
            str(error) or "a valid API key is required: Authorization: Bearer <key>",
            request=request,
            rule="unauthenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(PreconditionFailed)
    async def _precondition(request: Request, error: PreconditionFailed) -> JSONResponse:
        return problem(
            412,
            "Precondition failed",
            str(error),
            request=request,
            rule="concurrent-modification",
            field="If-Match",
        )

    @app.exception_handler(IdempotencyMismatch)
    async def _idempotency(request: Request, error: IdempotencyMismatch) -> JSONResponse:
        return problem(
            422,
            "Idempotency key reused",
            str(error),
            request=request,
            rule="idempotency-key-reused",
            field="Idempotency-Key",
        )

    @app.exception_handler(TimeoutError)
    async def _timeout(request: Request, error: TimeoutError) -> JSONResponse:
        # A view did not take in the caller's own writes (or, for invoices, the
        # whole log) in time, e.g. no projection worker runs on PostgreSQL:
        # answering from it would break read-your-writes (ADR 0015).
        return problem(
            503,
            "Service unavailable",
            str(error) or "a dependency did not answer in time",
            request=request,
            rule="views-behind",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # noqa: PLR2004 - FastAPI: a body it cannot decode
            return problem(
                422,
                "Invalid input",
                f"the body is not JSON: {error.detail}",
                request=request,
                rule="invalid-value",
                field="body",
            )
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem(
            error.status_code,
            titles.get(error.status_code, "HTTP error"),
            str(error.detail),
            request=request,
            headers=dict(error.headers or {}),
        )


# --- the OpenAPI document -----------------------------------------------------------

_PROBLEM_REF = "#/components/schemas/Problem"
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")
_UNAUTHENTICATED = "No valid API key (`Authorization: Bearer <key>`)"
_INVALID = "Invalid input: the problem's `field` names it"


def _document_problems(app: FastAPI) -> None:
    """Declare every error response of every operation as a problem document.

    Routes declare which statuses they answer; this gives each 4xx and 5xx
    without a model of its own the content the handlers above send
    (``application/problem+json`` with the :class:`Problem` schema), replaces
    FastAPI's own validation error schema (never sent: validation errors are
    problems too) and adds the 401 of every authenticated operation.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        for name in _FRAMEWORK_SCHEMAS:
            components.pop(name, None)
        for item in document.get("paths", {}).values():
            for operation in item.values():
                _problem_responses(operation)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if operation.get("security"):
        responses.setdefault("401", {"description": _UNAUTHENTICATED})
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        if "HTTPValidationError" in str(response.get("content", "")):
            response["description"] = _INVALID
            response.pop("content")
        # A route that declares its own model (e.g. /readyz's 503) keeps it.
        response.setdefault("content", {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}})
    operation["responses"] = dict(sorted(responses.items()))
