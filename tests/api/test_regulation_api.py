"""The annual regulation (årlig regulering, pkt. 8) of an offer through HTTP.

The demo has two Støttepakken contracts (both regulated for 2026 already) and
two Gentofte contracts. One request regulates every affected contract of the
offer; sending it again records nothing, with or without an Idempotency-Key.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from ledger.values import Role
from tests.api.conftest import ApiWorld, draft_body
from tests.api.test_tariffs_api import sheet_body

OPERATOR_ORG = "12345674"
OFFER = STOTTEPAKKEN.offer
SHEET_2027 = {"kind": "tariff-sheet", "offer": OFFER, "year": 2027}
INDEX_2026 = {
    "kind": "index",
    "offer": OFFER,
    "year": 2026,
    "pl_percentage": "2",
    "overhead_percentage": "0.5",
    "source": "KL",
    "edition": "KL PL-skøn juni 2025",
}


def operator(api: ApiWorld) -> dict[str, str]:
    return api.key(OPERATOR_ORG, Role.OPERATOR)


def nord(api: ApiWorld) -> dict[str, str]:
    return api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)


def draft(api: ApiWorld, *, agreed: bool = False, start: str = "2025-03-01") -> str:
    """A Demo Nord contract with Støttepakken (§104); with agreed prices if ``agreed``."""
    body = draft_body(api.ctx)
    line = body["lines"][0]
    line["start"] = start
    if agreed:
        line["pricing"] = "agreed"
        line["agreed_prices"] = [
            {"component": "basis", "daily": "300"},
            {"component": "service", "daily": "500"},
            {"component": "night", "daily": "200"},
        ]
    response = api.client.post("/v1/contracts", json=body, headers=nord(api))
    assert 201 == response.status_code, response.text
    return str(response.json()["contract_id"])


def publish_2027(api: ApiWorld) -> None:
    published = api.client.post("/v1/tariff-sheets", json=sheet_body(2027), headers=operator(api))
    assert 201 == published.status_code, published.text


def outcomes(answer: dict[str, Any]) -> dict[str, str]:
    return {c["contract_id"]: c["outcome"] for c in answer["contracts"]}


def demo_stottepakken_ids(api: ApiWorld) -> set[str]:
    return {str(i) for i in api.ctx.ledger.offer_contract_ids(OFFER)}


def test_one_request_regulates_every_affected_contract_of_the_offer(api):
    publish_2027(api)
    earlier = demo_stottepakken_ids(api)
    sheet_priced = draft(api)
    agreed = draft(api, agreed=True)
    starts_2027 = draft(api, start="2027-02-01")
    before = api.head()

    response = api.client.post("/v1/regulations", json=SHEET_2027, headers=operator(api))

    assert 200 == response.status_code, response.text
    answer = response.json()
    assert {
        **dict.fromkeys(earlier, "regulated"),
        sheet_priced: "regulated",
        agreed: "not-affected",
        starts_2027: "not-affected",
    } == outcomes(answer)
    regulated = len(earlier) + 1
    assert {"regulated": regulated, "already_regulated": 0, "not_affected": 2, "failed": 0} == (
        answer["counts"]
    )
    assert before + regulated == api.head()  # one event per regulated contract
    read = api.client.get(f"/v1/contracts/{sheet_priced}", headers=nord(api))
    assert read.headers["etag"] == f'"{_version(answer, sheet_priced)}"'
    reasons = {c["contract_id"]: c["reason"] for c in answer["contracts"]}
    assert "no line is priced from a tariff sheet" in reasons[agreed]


def test_sending_the_regulation_again_records_nothing(api):
    publish_2027(api)
    draft(api)
    first = api.client.post("/v1/regulations", json=SHEET_2027, headers=operator(api)).json()
    before = api.head()

    again = api.client.post("/v1/regulations", json=SHEET_2027, headers=operator(api))

    assert 200 == again.status_code
    assert dict.fromkeys(outcomes(first), "already-regulated") == outcomes(again.json())
    assert 0 == again.json()["counts"]["regulated"]
    assert [c["version"] for c in first["contracts"]] == [
        c["version"] for c in again.json()["contracts"]
    ]
    assert before == api.head()


def test_an_idempotency_key_replays_the_first_answer(api):
    publish_2027(api)
    headers = {**operator(api), "Idempotency-Key": "regulation-2027"}
    first = api.client.post("/v1/regulations", json=SHEET_2027, headers=headers)
    before = api.head()

    again = api.client.post("/v1/regulations", json=SHEET_2027, headers=headers)

    assert (first.json(), "true") == (again.json(), again.headers["idempotent-replayed"])
    assert before == api.head()


def test_the_index_regulation_indexes_only_the_offers_agreed_prices(api):
    agreed = draft(api, agreed=True)
    sheet_priced = draft(api)
    before = api.head()

    response = api.client.post("/v1/regulations", json=INDEX_2026, headers=operator(api))
    again = api.client.post("/v1/regulations", json=INDEX_2026, headers=operator(api))

    assert 200 == response.status_code, response.text
    first = outcomes(response.json())
    assert ("regulated", "not-affected") == (first[agreed], first[sheet_priced])
    assert before + 1 == api.head()
    assert "already-regulated" == outcomes(again.json())[agreed]
    price = api.client.get(
        f"/v1/contracts/{agreed}", params={"as_of": "2026-01-01"}, headers=nord(api)
    ).json()
    assert "1025.00" == price["total_daily"]  # 1,000 DKK + 2 % PL + 0.5 % overhead


def test_a_wrong_index_source_fails_per_contract_and_records_nothing(api):
    agreed = draft(api, agreed=True)
    before = api.head()

    response = api.client.post(
        "/v1/regulations", json={**INDEX_2026, "source": "Danske Regioner"}, headers=operator(api)
    )

    assert 200 == response.status_code
    failed = next(c for c in response.json()["contracts"] if c["contract_id"] == agreed)
    assert ("failed", "wrong-index-source") == (failed["outcome"], failed["rule"])
    assert before == api.head()


@pytest.mark.parametrize(
    ("organisation", "role"),
    [
        (BUYER_NORD.cvr, Role.BUYER_ADMIN),
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
        (BUYER_NORD.cvr, Role.AUDITOR),
    ],
)
def test_only_the_operator_regulates(api, organisation, role):
    publish_2027(api)
    before = api.head()

    for body in (SHEET_2027, INDEX_2026):
        response = api.client.post(
            "/v1/regulations", json=body, headers=api.key(organisation, role)
        )
        assert 403 == response.status_code
        assert "not-permitted" == response.json()["rule"]
    assert before == api.head()


def test_a_year_without_a_sheet_is_422_naming_the_year_and_records_nothing(api):
    before = api.head()

    response = api.client.post(
        "/v1/regulations", json={**SHEET_2027, "year": 2030}, headers=operator(api)
    )

    assert 422 == response.status_code
    assert "body.year" == response.json()["field"]
    assert before == api.head()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SHEET_2027, "kind": "guess"}, "body"),
        ({**SHEET_2027, "year": "next"}, "body.tariff-sheet.year"),
        ({**SHEET_2027, "year": 1999}, "body.tariff-sheet.year"),
        ({"kind": "tariff-sheet", "year": 2027}, "body.tariff-sheet.offer"),
        ({k: v for k, v in INDEX_2026.items() if k != "pl_percentage"}, "body.index.pl_percentage"),
        ({**INDEX_2026, "pl_percentage": "-100"}, "body.index.pl_percentage"),
        ({**INDEX_2026, "source": "Danmarks Statistik"}, "body.index.source"),
        ({**INDEX_2026, "edition": " "}, "body.index.edition"),
        ({**SHEET_2027, "pl_percentage": "2"}, "body.tariff-sheet.pl_percentage"),
    ],
    ids=[
        "unknown-kind",
        "year-not-a-number",
        "year-out-of-range",
        "no-offer",
        "no-pl-percentage",
        "index-wipes-out-prices",
        "unknown-source",
        "blank-edition",
        "index-field-on-a-sheet-regulation",
    ],
)
def test_bad_input_is_422_naming_the_field_and_records_nothing(sqlite_api, body, field):
    # The subject is the input's validation, not the backend: SQLite only keeps the table fast.
    api = sqlite_api
    before = api.head()

    response = api.client.post("/v1/regulations", json=body, headers=operator(api))

    assert 422 == response.status_code
    assert field == response.json()["field"]
    assert before == api.head()


def _version(answer: dict[str, Any], contract_id: str) -> int:
    return int(next(c["version"] for c in answer["contracts"] if c["contract_id"] == contract_id))


def test_an_offer_without_contracts_answers_an_empty_list(api):
    response = api.client.post(
        "/v1/regulations",
        json={**INDEX_2026, "offer": f"no-such-offer-{uuid.uuid4()}"},
        headers=operator(api),
    )

    assert 200 == response.status_code
    assert [] == response.json()["contracts"]
