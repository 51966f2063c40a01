"""Bad input for every POST route: the right status and problem, and nothing recorded.

Two tables. ``SHAPES``, for every POST route: malformed JSON, no body, a list
for a body, a missing required field, a field of the wrong type and an
unknown field (bodies forbid extra fields); each is a 422 problem naming the
field. ``VALUES``: values that parse but that the ledger refuses, each with
the status, rule and field of its problem: check digits, unknown steps,
models and lines, dates out of order (422), unknown sub-resources (404: the
path names something that does not exist) and rules of the contract (409
with the clause).

Each case is sent by the caller that may send the request, to what the valid
request succeeds on (the authorisation matrix shows that it does), so the
bad part is the only reason for the refusal. The event log's head must not
move. A case marked ``known`` is a defect found and not fixed here: it fails
(strict xfail) until someone fixes it, and then must lose its mark.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.cases import (
    BUYER,
    REQUESTS,
    Given,
    body_for,
    headers,
    is_problem,
    module_app,
    prepare,
    route_of,
    sheet_prices,
    url,
)
from tests.api.conftest import API_BACKENDS, ApiWorld

# One key per POST route (its first variant).
POSTS: list[str] = []
for _key in REQUESTS:
    if _key.startswith("POST") and route_of(_key) not in {route_of(k) for k in POSTS}:
        POSTS.append(_key)


@pytest.fixture(scope="module", params=API_BACKENDS)
def shared_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiWorld]:
    """One app per backend for the module; every case makes its own contract."""
    yield from module_app(str(request.param), tmp_path_factory)


# --- SHAPES: malformed bodies, for every POST route --------------------------------------


def _scalar_required(api: ApiWorld, key: str, body: dict[str, Any]) -> tuple[str, str]:
    """A required scalar field of the route's body, and the prefix its fields are named with.

    The prefix is ``body``, or ``body.<kind>`` for a union tagged by ``kind``
    (pydantic names the variant).
    """
    method, path = route_of(key)
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    content = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    ref = content["schema"].get("$ref") or content["schema"]["oneOf"][0]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    tag = content["schema"].get("discriminator", {}).get("propertyName")
    name = next(
        str(name)
        for name in schema["required"]
        if name != tag and name in body and not isinstance(body[name], dict | list)
    )
    return name, "body" if tag is None else f"body.{body[tag]}"


SHAPES: dict[str, Callable[[dict[str, Any], str], tuple[Any, str]]] = {
    # name: (the valid body, a required scalar field) -> (the body to send, the field named)
    "malformed JSON": lambda _, __: (b'{"on": "2025-03-', ""),
    "a missing required field": lambda b, f: ({k: v for k, v in b.items() if k != f}, f".{f}"),
    "a field of the wrong type": lambda b, f: ({**b, f: {"not": "this"}}, f".{f}"),
    "an unknown field": lambda b, _: ({**b, "surprise": 1}, ".surprise"),
    "no body": lambda _, __: (None, ""),
    "a list for a body": lambda b, _: ([b], ""),
}


@pytest.mark.parametrize("key", list(POSTS))
def test_a_malformed_body_is_a_422_naming_the_field(shared_api, key):
    api = shared_api
    request = REQUESTS[key]
    made = prepare(api, request.given)
    valid = body_for(api, key)
    assert valid is not None
    required, where = _scalar_required(api, key, valid)
    wrong = []
    for shape, make in SHAPES.items():
        body, named = make(valid, required)
        named = "body" if not named else where + named
        before = api.head()
        response = api.client.post(
            url(key, made),
            content=body if isinstance(body, bytes) else None,
            json=None if isinstance(body, bytes) else body,
            headers=headers(api, request.by, **{"Content-Type": "application/json"}),
        )
        problem = response.json() if is_problem(response) else {}
        got = (response.status_code, is_problem(response), str(problem.get("field")))
        # Malformed JSON names the position: body.<offset>.
        if shape == "malformed JSON" and got[2].startswith("body."):
            got = (got[0], got[1], "body")
        if (422, True, named) != got or api.head() != before:
            wrong.append(f"{shape}: {got}, head {before} -> {api.head()}: {response.text[:200]}")
    assert [] == wrong


# --- VALUES: bodies that parse but that the contract refuses ------------------------------


@dataclass(frozen=True)
class Bad:
    """A valid request of ``key`` with ``change``; the problem it must get."""

    key: str
    what: str
    change: dict[str, Any]  # dotted paths into the body ("lines.0.step"); None removes
    status: int
    rule: str
    field: str | None = None  # as the problem names it, with or without "body."
    given: Given | None = None  # default: the state where the valid body succeeds
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    clause: str | None = None  # a part of the problem's clause
    known: str | None = None  # a known defect: the case fails until it is fixed
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    drop: tuple[str, ...] = ()  # fields of the valid body to leave out


D = "POST /v1/contracts"
S = "POST /v1/tariff-sheets"
C = "POST /v1/tariff-sheets/{offer}/{year}/corrections"
R = "POST /v1/regulations"
INDEX_ONLY = ("pl_percentage", "source", "edition")

# fmt: off
VALUES: list[Bad] = [
    # The draft: identifiers, steps, models, dates and terms.
    Bad(D, "a CVR check digit", {"buyer.cvr": "29189918"}, 422, "invalid-value", "buyer.cvr"),
    Bad(D, "an EAN check digit", {"buyer.ean": "5798000000019"}, 422, "invalid-value",
        "buyer.ean"),
    Bad(D, "a provider CVR check digit", {"provider.registration": "11715312"}, 422,
        "invalid-identifier", "provider.registration"),
    Bad(D, "an unknown step", {"lines.0.step": "9:9"}, 422, "unknown-step", "lines.0.step"),
    Bad(D, "an unknown tariff model", {"lines.0.tariff_model": "no-such-model"}, 422,
        "unknown-tariff-model", "lines.0.tariff_model"),
    Bad(D, "a line that ends before it starts", {"lines.0.end": "2025-02-01"}, 422,
        "date-out-of-order", "lines.0.end"),
    Bad(D, "a citizen not registered", {"citizen_id": str(uuid.UUID(int=7))}, 422,
        "citizen-not-found", "citizen_id"),
    Bad(D, "a quantity of 0", {"lines.0.quantity": "0"}, 422, "invalid-value", "lines.0.quantity"),
    Bad(D, "no lines", {"lines": []}, 422, "invalid-value", "lines"),
    Bad(D, "an unknown unit", {"lines.0.unit": "litres"}, 422, "invalid-value", "lines.0.unit"),
    Bad(D, "option 4 without its text", {"terms.payment_option": "4"}, 409, "terms-incomplete",
        "terms.payment_other_text"),
    # Placement and signatures (4.1, pkt. 18).
    Bad("POST ~/offer", "a second offer", {}, 409, "place-already-offered", given=Given.OFFERED),
    Bad("POST ~/finalise", "finalising what was not offered", {}, 409, "place-not-offered",
        given=Given.DRAFTED),
    Bad("POST ~/finalise", "final before the offer", {"on": "2025-02-28"}, 422,
        "date-out-of-order", "final_on"),
    Bad("POST ~/signatures [B]", "signing before the placement is final", {}, 409,
        "placement-not-final", given=Given.OFFERED),
    Bad("POST ~/signatures [B]", "an unknown party", {"party": "citizen"}, 422, "invalid-value",
        "party"),
    # Step changes and renegotiation (pkt. 16).
    Bad("POST ~/step-changes", "an unknown line", {"line_id": "9"}, 422, "unknown-service-line",
        "line_id"),
    Bad("POST ~/step-changes", "an unknown step", {"step": "9:9"}, 422, "unknown-step", "step"),
    Bad("POST ~/step-changes", "effective before the line starts",
        {"effective_from": "2025-02-01"}, 422, "date-out-of-order", "effective_from"),
    Bad("POST ~/step-changes", "a blank agreement", {"agreement_ref": " "}, 409,
        "written-agreement-required", "agreement_ref", clause="pkt. 16"),
    Bad("POST ~/step-changes", "before the placement is final", {}, 409, "placement-not-final",
        given=Given.OFFERED),
    Bad("POST ~/renegotiations [B]", "a temporary change as ground", {"nature": "temporary"},
        409, "temporary-change-not-a-ground", "nature", clause="pkt. 16"),
    Bad("POST ~/renegotiations [B]", "an unknown line", {"line_id": "9"}, 422,
        "unknown-service-line", "line_id"),
    Bad("POST ~/renegotiations [B]", "neither step nor prices", {"proposed_step": None}, 422,
        "invalid-value", "proposed_step"),
    Bad("POST ~/renegotiations [B]", "a second open request", {}, 409,
        "renegotiation-already-open", "line_id", given=Given.BUYER_ASKED),
    Bad("POST ~/renegotiations/{request_id}/answer [P]", "an unknown request", {}, 404,
        "unknown-renegotiation", "request_id", params={"request_id": "R9"}),
    Bad("POST ~/renegotiations/{request_id}/answer [B]", "the requester answering", {}, 409,
        "wrong-party", "answered_by", given=Given.BUYER_ASKED),
    Bad("POST ~/renegotiations/{request_id}/answer [P]", "approval without agreement",
        {"agreement_ref": None}, 409, "written-agreement-required", "agreement_ref"),
    Bad("POST ~/renegotiations/{request_id}/answer [P]", "an answer before the request",
        {"answered_on": "2025-03-01"}, 422, "date-out-of-order", "answered_on"),
    # Allonges (G6).
    Bad("POST ~/allonges", "valid_to before valid_from", {"valid_to": "2025-03-09"}, 422,
        "date-out-of-order", "valid_to"),
    Bad("POST ~/allonges", "a price change the buyer did not accept",
        {"buyer_accepted": False}, 409, "buyer-acceptance-required", "buyer_accepted"),
    Bad("POST ~/allonges", "an amount that is no number", {"daily_delta": "lots"}, 422,
        "invalid-value", "daily_delta"),
    Bad("POST ~/allonges", "an unknown line", {"line_id": "9"}, 422, "unknown-service-line",
        "line_id"),
    # Absences (pkt. 14).
    Bad("POST ~/absences", "an unknown kind", {"kind": "holiday"}, 422, "invalid-value", "kind"),
    Bad("POST ~/absences", "a second open absence", {}, 409, "absence-already-open",
        given=Given.ABSENT),
    Bad("POST ~/absences/{absence_id}/notice", "an unknown absence", {}, 404, "unknown-absence",
        "absence_id", params={"absence_id": "A9"}),
    Bad("POST ~/absences/{absence_id}/notice", "notice before the absence began",
        {"on": "2025-03-01"}, 422, "date-out-of-order", "notified_on"),
    Bad("POST ~/absences/{absence_id}/end", "an unknown absence", {}, 404, "unknown-absence",
        "absence_id", params={"absence_id": "A9"}),
    Bad("POST ~/absences/{absence_id}/end", "an end before the start", {"on": "2025-03-01"}, 422,
        "date-out-of-order", "ended_on"),
    # Non-delivery, force majeure and rescission (pkt. 10).
    Bad("POST ~/non-delivery [B]", "a blank cause", {"cause": " "}, 422, "invalid-value",
        "cause"),
    Bad("POST ~/force-majeure [B]", "a blank description", {"description": " "}, 422,
        "invalid-value", "description"),
    Bad("POST ~/rescission [B]", "non-delivery never reported", {"ground": "non-delivery"}, 409,
        "rescission-not-allowed", "ground", clause="pkt. 10"),
    Bad("POST ~/rescission [B]", "force majeure never declared", {}, 409,
        "rescission-not-allowed", "ground", given=Given.FINAL),
    Bad("POST ~/rescission [B]", "an unknown ground", {"ground": "boredom"}, 422,
        "invalid-value", "ground"),
    # Framework, notice, re-occupation and payment end (pkt. 4, 9).
    Bad("POST ~/framework-changes", "a year out of range", {"adoption_year": 1999}, 422,
        "invalid-value", "adoption_year"),
    Bad("POST ~/notice [B]", "a second notice", {}, 409, "notice-already-given",
        given=Given.UNDER_NOTICE),
    Bad("POST ~/reoccupation", "re-occupied without notice", {}, 409, "not-under-notice",
        given=Given.FINAL),
    Bad("POST ~/reoccupation", "re-occupied before the notice", {"on": "2025-03-01"}, 422,
        "date-out-of-order", "reoccupied_on"),
    Bad("POST ~/payment-end", "an end before the notice", {"payment_end": "2025-03-01"}, 422,
        "date-out-of-order", "payment_end"),
    Bad("POST ~/payment-end", "without notice", {}, 409, "not-under-notice", given=Given.FINAL),
    # Follow-ups and respite (4.5, pkt. 5).
    Bad("POST ~/follow-ups", "an unknown line", {"line_id": "9"}, 422, "unknown-service-line",
        "line_id"),
    Bad("POST ~/follow-ups", "before the line starts", {"held_on": "2025-02-01"}, 422,
        "date-out-of-order", "held_on"),
    Bad("POST ~/respite-days", "a line that is no respite", {"line_id": "1"}, 409,
        "not-a-respite-line", "line_id"),
    Bad("POST ~/respite-days", "a month not given by its first day", {"month": "2025-03-02"},
        422, "invalid-value", "month"),
    Bad("POST ~/respite-days", "a day outside the month", {"days": ["2025-04-02"]}, 422,
        "invalid-value", "days"),
    # Index regulation (pkt. 8).
    Bad("POST ~/index-regulations", "another index than KL's", {"source": "Danske Regioner"},
        409, "wrong-index-source", "source"),
    Bad("POST ~/index-regulations", "the contract's first year", {"year": 2025}, 409,
        "regulation-not-applicable", "year"),
    Bad("POST ~/index-regulations", "an unknown index", {"source": "Statistics"}, 422,
        "invalid-value", "source"),
    # Lines and provisional steps (4.1, pkt. 5).
    Bad("POST ~/lines", "an unknown step", {"step": "9:9"}, 422, "unknown-step", "step"),
    Bad("POST ~/lines", "an end before the start", {"end": "2025-03-31"}, 422,
        "date-out-of-order", "end"),
    Bad("POST ~/provisional-steps", "after the placement is final", {}, 409,
        "placement-already-final", given=Given.FINAL),
    Bad("POST ~/provisional-steps", "an unknown line", {"line_id": "9"}, 422,
        "unknown-service-line", "line_id"),
    # Citizens: the CPR number's birth date, the name.
    Bad("POST /v1/citizens", "a CPR number with no such birth date", {"cpr": "3002901234"}, 422,
        "invalid-value", "cpr"),
    Bad("POST /v1/citizens", "a blank name", {"name": " "}, 422, "invalid-value", "name"),
    # Tariff sheets (G3).
    Bad(S, "an unknown model", {"prices.0.model": "no-such-model"}, 422, "invalid-value",
        "prices.0.model"),
    Bad(S, "a price list that misses a price", {"prices.0": None}, 409,
        "tariff-sheet-incomplete", "prices"),
    Bad(S, "a year already published", {"year": 2025}, 409, "tariff-sheet-already-published",
        "year"),
    Bad(C, "a sheet never published", {}, 404, "tariff-sheet-not-found",
        params={"year": "2099"}),
    Bad(C, "the prices as published", {"prices": sheet_prices()}, 422, "invalid-value",
        "prices"),
    Bad(C, "a stale If-Match", {}, 412, "concurrent-modification",
        headers={"If-Match": '"7"'}),
    # Invoices (G12) and the annual regulation (pkt. 8).
    Bad("POST /v1/invoices", "a month 13", {"month": "2025-13"}, 422, "invalid-value", "month"),
    Bad("POST /v1/invoices", "a month too far ahead", {"month": "2025-06"}, 409,
        "invoice-month-too-far-ahead"),
    Bad("POST /v1/invoices", "an EAN check digit", {"buyer_ean": "5798000000026"}, 422,
        "invalid-value", "buyer_ean"),
    Bad("POST /v1/invoices", "an EAN nobody is billed on", {"buyer_ean": "5798000000094"}, 404,
        "buyer-not-found"),
    Bad(R, "a year without a tariff sheet", {"kind": "tariff-sheet", "year": 2029}, 422,
        "invalid-value", "year", drop=INDEX_ONLY),
    Bad(R, "an unknown kind", {"kind": "whim"}, 422, "invalid-value", "body"),
    # The path.
    Bad("POST ~/follow-ups", "a contract id that is no UUID", {}, 422, "invalid-value",
        "path.contract_id", params={"contract_id": "not-a-uuid"}),
    Bad("POST ~/follow-ups", "a contract that does not exist", {}, 404, "contract-not-found",
        "contract_id", params={"contract_id": str(uuid.UUID(int=1))}),
]
# fmt: on


def _patched(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``body`` with each dotted path in ``change`` set (None: removed)."""
    result = copy.deepcopy(body)
    for path, value in change.items():
        *parents, last = path.split(".")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        index: Any = int(last) if isinstance(target, list) else last
        if value is None:
            target.pop(index)
        else:
            target[index] = value
    return result


def _field(name: str | None) -> str | None:
    """A field as the domain or pydantic names it, in one form: ``lines.0.end``."""
    if name is None:
        return None
    name = name.removeprefix("body.")
    return name.replace("[", ".").replace("]", "")


def _case(bad: Bad) -> Any:
    known = [pytest.mark.xfail(reason=bad.known, strict=True)] if bad.known else []
    return pytest.param(bad, marks=known, id=f"{bad.key} {bad.what}")


@pytest.mark.parametrize("bad", [_case(bad) for bad in VALUES])
def test_a_bad_value_is_refused_with_its_problem_and_records_nothing(shared_api, bad):
    api = shared_api
    request = REQUESTS[bad.key]
    made = prepare(api, bad.given or request.given)
    valid = body_for(api, bad.key)
    assert valid is not None
    before = api.head()
    response = api.client.post(
        url(bad.key, made, bad.params),
        json=_patched({k: v for k, v in valid.items() if k not in bad.drop}, bad.change),
        headers=headers(api, request.by, **bad.headers),
    )
    assert bad.status == response.status_code, response.text
    assert is_problem(response)
    problem = response.json()
    assert bad.rule == problem["rule"]
    if bad.field is not None:
        assert _field(bad.field) == _field(problem.get("field"))
    if bad.clause is not None:
        assert bad.clause in problem["clause"]
    assert before == api.head()


def test_a_malformed_if_match_is_a_412_and_records_nothing(shared_api):
    api = shared_api
    made = prepare(api, Given.FINAL)
    before = api.head()
    response = api.client.post(
        url("POST ~/follow-ups", made),
        json=REQUESTS["POST ~/follow-ups"].body,
        headers=headers(api, BUYER, **{"If-Match": "version three"}),
    )
    assert (412, True, "If-Match") == (
        response.status_code,
        is_problem(response),
        response.json()["field"],
    )
    assert before == api.head()


def test_every_post_route_has_a_bad_value_case():
    assert set() == {route_of(key) for key in POSTS} - {route_of(bad.key) for bad in VALUES}
