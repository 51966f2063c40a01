"""The authorisation matrix: every role against every route, for its own and another's things.

Read a row as: this request, sent by each caller in turn, gets this status.
The callers (columns, see ``tests.api.cases.CALLERS``):

- ``B``  buyer-admin of the contract's buyer (Demo Nord)
- ``B'`` buyer-admin of another municipality (Demo Syd)
- ``P``  provider-admin of the contract's provider (Støttepakken)
- ``P'`` provider-admin of another provider (Gentofte)
- ``AB`` auditor of the buyer, ``AP`` auditor of the provider
- ``A'`` auditor of another municipality
- ``OP`` the operator (system administrator): not a party to any contract

"Own" is the contract's parties; for a citizen, the parties to one of the
citizen's contracts; for invoices and adjustments, Demo Nord's EAN; for a
tariff sheet correction, the provider that published it.

Statuses: 2xx the request is carried out; 403 the caller may not do this
(auditors read only; the clause gives the act to the other party; the role
may not); 404 the caller is not a party (never 403 on a contract, so ids
cannot be probed). ``IN``/``OUT``: a list answers 200 with/without it.
Every refusal must be a problem document and record nothing; every success
of a command must record something.

``~`` is ``/v1/contracts/{contract_id}``; ``[B]``/``[P]`` mark the variant whose
body names the buyer/provider as the acting party (``party``, ``by``,
``requested_by``, ``answered_by``, ``given_by``).

A new route must get a row: ``test_every_route_under_v1_has_a_row`` fails
until it has one, and the request that succeeds for it goes into
``tests.api.cases.REQUESTS``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.cases import (
    CALLERS,
    REQUESTS,
    Made,
    Who,
    api_routes,
    body_for,
    headers,
    is_problem,
    module_app,
    prepare,
    route_of,
    url,
)
from tests.api.conftest import API_BACKENDS, ApiWorld

IN, OUT = "listed", "not listed"
Expect = int | str

# fmt: off
MATRIX: dict[str, tuple[Expect, ...]] = {
    #                                              B    B'   P    P'   AB   AP   A'   OP
    "GET /v1/contracts":                          (IN,  OUT, IN,  OUT, IN,  IN,  OUT, OUT),
    "POST /v1/contracts":                         (201, 403, 403, 403, 403, 403, 403, 403),
    "GET ~":                                      (200, 404, 200, 404, 200, 200, 404, 404),
    "POST ~/lines":                               (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/provisional-steps":                   (200, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/offer":                               (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/finalise":                            (200, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/signatures [B]":                      (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/signatures [P]":                      (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/step-changes":                        (200, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/renegotiations [B]":                  (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/renegotiations [P]":                  (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/renegotiations/{request_id}/answer [P]": (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/renegotiations/{request_id}/answer [B]": (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/allonges":                            (200, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/absences":                            (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/absences/{absence_id}/notice":        (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/absences/{absence_id}/end":           (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/non-delivery [B]":                    (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/non-delivery [P]":                    (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/force-majeure [B]":                   (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/force-majeure [P]":                   (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/rescission [B]":                      (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/rescission [P]":                      (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/framework-changes":                   (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/notice [B]":                          (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/notice [P]":                          (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/reoccupation":                        (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/payment-end":                         (200, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/follow-ups":                          (200, 404, 403, 404, 403, 403, 404, 404),
    "POST ~/respite-days":                        (403, 404, 200, 404, 403, 403, 404, 404),
    "POST ~/index-regulations":                   (200, 404, 200, 404, 403, 403, 404, 404),
    "GET ~/history":                              (200, 404, 200, 404, 200, 200, 404, 404),
    "GET ~/price-timeline":                       (200, 404, 200, 404, 200, 200, 404, 404),
    "GET ~/billing-feed":                         (200, 404, 200, 404, 200, 200, 404, 404),
    "GET /v1/deadlines":                          (IN,  OUT, IN,  OUT, IN,  IN,  OUT, OUT),
    # A buyer EAN's money: its buyer's admins and auditors, and the operator.
    "GET /v1/adjustments":                        (200, 404, 404, 404, 200, 404, 404, 200),
    "GET /v1/invoices":                           (IN,  OUT, OUT, OUT, IN,  OUT, OUT, IN),
    "GET /v1/invoices/{buyer_ean}/{month}":       (200, 404, 404, 404, 200, 404, 404, 200),
    "POST /v1/invoices":                          (403, 403, 403, 403, 403, 403, 403, 201),
    # Citizens: a buyer registers; parties to one of the citizen's contracts read.
    "POST /v1/citizens":                          (201, 201, 403, 403, 403, 403, 403, 403),
    "GET /v1/citizens/{citizen_id}":              (200, 404, 200, 404, 200, 200, 404, 404),
    "DELETE /v1/citizens/{citizen_id}":           (204, 404, 403, 403, 403, 403, 403, 204),
    # Tariff models and sheets: everyone reads; providers and the operator publish.
    "GET /v1/tariff-models":                      (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /v1/tariff-models/{code}":               (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /v1/tariff-sheets":                      (200, 200, 200, 200, 200, 200, 200, 200),
    "GET /v1/tariff-sheets/{offer}/{year}":       (200, 200, 200, 200, 200, 200, 200, 200),
    # P' publishes Støttepakken's sheet: the ledger does not know whose an offer is.
    "POST /v1/tariff-sheets":                     (403, 403, 201, 403, 403, 403, 403, 201),
    "POST /v1/tariff-sheets/{offer}/{year}/corrections": (403, 403, 200, 403, 403, 403, 403, 200),
    "POST /v1/regulations":                       (403, 403, 403, 403, 403, 403, 403, 200),
}
# fmt: on


@pytest.fixture(scope="module", params=API_BACKENDS)
def shared_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiWorld]:
    """One app per backend for the whole matrix; every row makes its own contracts."""
    yield from module_app(str(request.param), tmp_path_factory)


def test_every_route_under_v1_has_a_row(shared_api):
    served = api_routes(shared_api)
    rows = {route_of(key) for key in MATRIX}
    assert set() == served - rows, "routes without a row in the authorisation matrix"
    assert set() == rows - served, "rows for routes the app does not serve"
    assert set(MATRIX) == set(REQUESTS), "each row needs its request in cases.REQUESTS"
    # Other tests send each request as its ``by``: the matrix must let that caller.
    refused = [
        key
        for key, row in MATRIX.items()
        if dict(zip(CALLERS, row, strict=True))[REQUESTS[key].by] not in (IN, 200, 201, 204)
    ]
    assert [] == refused


@pytest.mark.parametrize("key", list(MATRIX))
def test_the_matrix(shared_api, key):
    api = shared_api
    expected = dict(zip(CALLERS, MATRIX[key], strict=True))
    request = REQUESTS[key]
    made = prepare(api, request.given)
    wrong: list[str] = []
    # The refusals first, all on one thing: none may change anything.
    for who, status in expected.items():
        if not _carried_out(status):
            wrong += _check(api, key, who, status, made)
    # Each caller that may act does so on a thing of its own in the same state.
    for who, status in expected.items():
        if _carried_out(status):
            fresh = made if key.startswith("GET") else prepare(api, request.given)
            wrong += _check(api, key, who, status, fresh)
    assert [] == wrong


def _carried_out(status: Expect) -> bool:
    return isinstance(status, int) and status < 300


def _check(api: ApiWorld, key: str, who: Who, expected: Expect, made: Made) -> list[str]:
    """What is wrong with ``who``'s answer to ``key`` (nothing: an empty list)."""
    method, _ = route_of(key)
    request = REQUESTS[key]
    query = {"limit": "500"} if key == "GET /v1/contracts" else request.query
    before = api.head()
    response = api.client.request(
        method,
        url(key, made),
        json=body_for(api, key),
        headers=headers(api, who),
        params=query or None,
    )
    got: Expect = response.status_code
    if expected in (IN, OUT) and got == 200:
        got = IN if (made.marker or str(made.contract_id)) in response.text else OUT
    wrong = []
    if got != expected:
        wrong.append(f"{who.label}: expected {expected}, got {got}: {response.text[:300]}")
    if response.status_code >= 300:
        problem = response.json() if is_problem(response) else {}
        rule = str(problem.get("rule"))
        if not problem:
            wrong.append(f"{who.label}: a {response.status_code} that is no problem document")
        if api.head() != before:
            wrong.append(f"{who.label}: a {response.status_code} recorded events")
        if response.status_code == 403 and rule != "not-permitted":
            wrong.append(f"{who.label}: a 403 with rule {rule}, not not-permitted")
        if response.status_code == 404 and not rule.endswith("not-found"):
            wrong.append(f"{who.label}: a 404 with rule {rule}, not a not-found")
    elif method != "GET" and request.records and api.head() == before:
        wrong.append(f"{who.label}: a {response.status_code} that recorded nothing")
    return wrong
