"""Schemathesis against the app's own OpenAPI document: no 500, no answer that breaks it.

Every operation is called with requests Schemathesis generates from the
document: valid ones (positive) and ones the document forbids (negative).
Each answer is checked: no server error, a status the operation declares,
a declared content type, and a body that matches the declared schema
(problem documents included). Path parameters are generated, and in a
second pass set to things that exist (a contract of the caller in the final
state, its renegotiation and absence, a registered citizen, a published
tariff sheet) so the requests get past the lookup.

The number of examples per operation is bounded and generation is
derandomised, so a run is fast and the same on every machine. SQLite only:
the subject is the HTTP contract, not the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Ok

from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from adapters.demo import OPERATOR as LOADER
from ledger.values import AbsenceKind
from tests.api.cases import (
    CALLERS,
    PROBLEM_JSON,
    RECEIVED_ON,
    Given,
    Who,
    given_contract,
    headers,
    module_app,
)
from tests.api.conftest import ApiWorld

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
BUYER, OPERATOR = CALLERS[0], CALLERS[-1]

ASGIApp = Callable[..., Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    yield from module_app("sqlite", tmp_path_factory)


def _without_lifespan(app: ASGIApp) -> ASGIApp:
    """``app`` for Schemathesis: the fixture's test client owns its start and stop."""

    async def serve(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            msg = "the lifespan belongs to the test client"
            raise RuntimeError(msg)  # before any message: "no lifespan support"
        await app(scope, receive, send)

    return serve


def _existing(world: ApiWorld) -> dict[str, Any]:
    """Path parameter values that name something the buyer may see."""
    contract = given_contract(world, Given.BUYER_ASKED)  # renegotiation R1
    world.ctx.ledger.start_absence(contract, AbsenceKind.HOSPITAL, RECEIVED_ON, actor=LOADER)
    return {
        "contract_id": str(contract),
        "request_id": "R1",
        "absence_id": "A1",
        "citizen_id": str(world.ctx.citizens.register("0101901234", "Test Borger")),
        "offer": STOTTEPAKKEN.offer,
        "year": 2025,
        "code": "slotsvaenget-104",
        "buyer_ean": BUYER_NORD.ean,
        "month": "2025-03",
    }


def _fuzz(
    operation: Any,
    who: dict[str, str],
    mode: GenerationMode,
    fixed: dict[str, Any],
    examples: int,
) -> int:
    """Send up to ``examples`` generated requests to ``operation``; raise on a failure."""
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its request
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def run(case: schemathesis.Case[Any]) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(headers=who, checks=CHECKS)

    run()
    return sent


# Examples per operation: (mode, with existing path parameters) -> count. The
# operator is no contract party (every contract route is a 404 for it, as the
# authorisation matrix shows), so it runs only the other operations, valid ones.
PLAN: dict[str, dict[tuple[GenerationMode, bool], int]] = {
    "buyer-admin": {
        (GenerationMode.POSITIVE, False): 3,
        (GenerationMode.POSITIVE, True): 5,
        (GenerationMode.NEGATIVE, False): 3,
        (GenerationMode.NEGATIVE, True): 3,
    },
    "operator": {
        (GenerationMode.POSITIVE, False): 3,
        (GenerationMode.POSITIVE, True): 5,
    },
}


@pytest.mark.parametrize("caller", [BUYER, OPERATOR], ids=lambda who: who.role.value)
def test_every_answer_keeps_to_the_openapi_document(world, caller: Who):
    schema = schemathesis.openapi.from_asgi("/openapi.json", _without_lifespan(world.client.app))
    existing = _existing(world)
    auth = headers(world, caller)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures[str(result)] = "the OpenAPI document of this operation is invalid"
            continue
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        if caller is OPERATOR and "contract_id" in names:
            continue
        for (mode, with_existing), examples in PLAN[caller.role.value].items():
            if with_existing and not names:
                continue
            fixed = {n: v for n, v in existing.items() if n in names} if with_existing else {}
            label = f"{operation.label} {mode.value}{' (existing)' if fixed else ''}"
            try:
                if _fuzz(operation, auth, mode, fixed, examples) == 0:
                    failures[label] = "no request was sent"
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - reported below
                failures[label] = str(failure)[:2000]
    if failures:
        pytest.fail("\n\n".join(f"=== {label}\n{text}" for label, text in failures.items()))


def test_every_error_an_operation_declares_is_a_problem_document(world):
    document = world.client.app.openapi()
    wrong = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path.startswith("/v1") and "401" not in responses:
                wrong.append(f"{method.upper()} {path}: no 401")
            for status, response in responses.items():
                content = response.get("content", {})
                if path.startswith("/v1") and status >= "400" and list(content) != [PROBLEM_JSON]:
                    wrong.append(f"{method.upper()} {path} {status}: {list(content)}")
    assert [] == wrong
    assert {"type", "title", "status", "detail"} <= set(
        document["components"]["schemas"]["Problem"]["required"]
    )
    assert "HTTPValidationError" not in document["components"]["schemas"]
