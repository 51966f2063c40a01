"""The contract API through HTTP: draft, read, list, commands, and their conventions.

Every rejected request is checked to record nothing (the event log's head
does not move).
"""

from __future__ import annotations

import hashlib
import hmac

from adapters.demo import BUYER_NORD, BUYER_SYD, STOTTEPAKKEN
from api.routes.citizens import CitizenIn
from ledger.values import Role
from tests.api.conftest import draft_body


def test_a_request_without_a_valid_key_is_a_401_problem(api):
    client = api.client
    for headers in ({}, {"Authorization": "Bearer kl_nope_nope"}):
        response = client.get("/v1/contracts", headers=headers)
        assert 401 == response.status_code
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "urn:kontraktledger:problem:unauthenticated" == response.json()["type"]


def test_a_buyer_drafts_a_contract_and_reads_it_back_with_its_etag(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    created = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer)
    assert 201 == created.status_code, created.text
    body = created.json()
    assert '"1"' == created.headers["etag"]
    assert f"/v1/contracts/{body['contract_id']}" == created.headers["location"]
    assert "draft" == body["status"]
    read = client.get(created.headers["location"], headers=buyer)
    assert 200 == read.status_code
    assert body["contract_id"] == read.json()["contract_id"]
    assert "1:2" == read.json()["lines"][0]["step"]


def test_another_partys_contract_is_not_found(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    location = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer).headers["location"]
    for stranger in (
        api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN),
        api.key(BUYER_SYD.cvr, Role.AUDITOR),
        api.key("12345674", Role.PROVIDER_ADMIN),
    ):
        response = client.get(location, headers=stranger)
        assert 404 == response.status_code
        assert "contract-not-found" == response.json()["rule"]
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    assert 200 == client.get(location, headers=provider).status_code
    auditor = api.key(BUYER_NORD.cvr, Role.AUDITOR)
    assert 200 == client.get(location, headers=auditor).status_code


def test_a_bad_check_digit_is_a_422_naming_the_field_and_records_nothing(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    before = api.head()
    body = draft_body(ctx)
    body["buyer"]["ean"] = "5798000000019"  # wrong check digit
    response = client.post("/v1/contracts", json=body, headers=buyer)
    assert 422 == response.status_code
    assert "body.buyer.ean" == response.json()["field"]
    assert before == api.head()


def test_a_buyer_cannot_draft_for_another_municipality(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    before = api.head()
    response = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer)
    assert 403 == response.status_code
    assert "not-permitted" == response.json()["rule"]
    assert before == api.head()


def test_a_stale_if_match_is_a_412_and_the_current_one_succeeds(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    location = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer).headers["location"]
    before = api.head()
    stale = client.post(
        f"{location}/offer", json={"on": "2025-03-01"}, headers={**provider, "If-Match": '"7"'}
    )
    assert 412 == stale.status_code
    assert before == api.head()
    offered = client.post(
        f"{location}/offer", json={"on": "2025-03-01"}, headers={**provider, "If-Match": '"1"'}
    )
    assert 200 == offered.status_code, offered.text
    assert '"2"' == offered.headers["etag"]
    assert "offered" == offered.json()["status"]


def test_two_clients_with_the_same_if_match_one_wins_one_gets_412(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    location = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer).headers["location"]
    follow_up = {"line_id": "1", "held_on": "2025-03-02"}
    first = client.post(
        f"{location}/follow-ups", json=follow_up, headers={**buyer, "If-Match": '"1"'}
    )
    second = client.post(
        f"{location}/follow-ups", json=follow_up, headers={**buyer, "If-Match": '"1"'}
    )
    assert [200, 412] == [first.status_code, second.status_code]
    assert 2 == client.get(location, headers=buyer).json()["version"]


def test_a_rule_violation_is_a_409_with_rule_and_clause_and_records_nothing(api):
    client, ctx = api.client, api.ctx
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    location = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer).headers["location"]
    placed = {"on": "2025-03-01"}
    assert 200 == client.post(f"{location}/offer", json=placed, headers=provider).status_code
    assert 200 == client.post(f"{location}/finalise", json=placed, headers=buyer).status_code
    before = api.head()
    response = client.post(
        f"{location}/renegotiations",
        json={
            "line_id": "1",
            "requested_by": "buyer",
            "received_on": "2025-03-02",
            "nature": "temporary",
            "description": "a short stay elsewhere",
            "proposed_step": "1:3",
        },
        headers=buyer,
    )
    assert 409 == response.status_code, response.text
    problem = response.json()
    assert "temporary-change-not-a-ground" == problem["rule"]
    assert "pkt. 16" in problem["clause"]
    assert before == api.head()


def test_the_provider_notifies_a_hospitalisation_and_the_buyer_may_not(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    location = client.post("/v1/contracts", json=draft_body(ctx), headers=buyer).headers["location"]
    started = client.post(
        f"{location}/absences",
        json={"kind": "hospital", "started_on": "2025-03-02"},
        headers=provider,
    )
    assert 200 == started.status_code, started.text
    absence = started.json()["absences"][0]["absence_id"]
    before = api.head()
    refused = client.post(
        f"{location}/absences/{absence}/notice", json={"on": "2025-03-03"}, headers=buyer
    )
    assert 403 == refused.status_code
    assert before == api.head()
    notified = client.post(
        f"{location}/absences/{absence}/notice", json={"on": "2025-03-03"}, headers=provider
    )
    assert 200 == notified.status_code
    assert "2025-03-03" == notified.json()["absences"][0]["notified_on"]


def test_an_idempotency_key_replays_the_first_response_and_records_once(api):
    client, ctx = api.client, api.ctx
    buyer = {**api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN), "Idempotency-Key": "draft-1"}
    body = draft_body(ctx)
    first = client.post("/v1/contracts", json=body, headers=buyer)
    after_first = api.head()
    again = client.post("/v1/contracts", json=body, headers=buyer)
    assert 201 == again.status_code
    assert first.json() == again.json()
    assert "true" == again.headers["idempotent-replayed"]
    assert after_first == api.head()
    changed = client.post("/v1/contracts", json={**body, "lines": body["lines"] * 2}, headers=buyer)
    assert 422 == changed.status_code
    assert "Idempotency-Key" == changed.json()["field"]
    assert after_first == api.head()


def test_the_list_shows_only_the_callers_contracts_with_a_cursor(api):
    client, ctx = api.client, api.ctx
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    earlier = {i["contract_id"] for i in client.get("/v1/contracts", headers=nord).json()["items"]}
    mine = {
        client.post("/v1/contracts", json=draft_body(ctx), headers=nord).json()["contract_id"]
        for _ in range(3)
    }
    client.post("/v1/contracts", json=draft_body(ctx, buyer=BUYER_SYD), headers=syd)
    seen: set[str] = set()
    cursor = None
    for _ in range(10):
        query = "/v1/contracts?limit=2" + (f"&after={cursor}" if cursor else "")
        page = client.get(query, headers=nord).json()
        assert len(page["items"]) <= 2
        seen |= {item["contract_id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert earlier | mine == seen
    assert all(
        i["buyer"]["cvr"] == BUYER_NORD.cvr
        for i in client.get("/v1/contracts", headers=nord).json()["items"]
    )
    drafts = client.get("/v1/contracts?status=draft", headers=nord).json()
    assert mine <= {i["contract_id"] for i in drafts["items"]}


def test_the_paying_municipality_finds_the_contract_in_its_list_as_it_does_by_id(api):
    """Syd pays (betalingskommune) for a placement Nord buys: Syd's lists show it too."""
    client, ctx = api.client, api.ctx
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    body = draft_body(ctx)
    body["payer"] = {"name": BUYER_SYD.name, "cvr": BUYER_SYD.cvr, "ean": BUYER_SYD.ean}
    drafted = client.post("/v1/contracts", json=body, headers=nord).json()["contract_id"]
    api.settle()  # written with Nord's key; Syd reads

    def listed(organisation: str, role: Role) -> set[str]:
        page = client.get("/v1/contracts?limit=500", headers=api.key(organisation, role))
        return {item["contract_id"] for item in page.json()["items"]}

    assert drafted in listed(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    assert drafted in listed(BUYER_SYD.cvr, Role.AUDITOR)
    assert drafted not in listed("19438414", Role.BUYER_ADMIN)  # neither buyer nor payer
    by_id = client.get(f"/v1/contracts/{drafted}", headers=api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN))
    assert 200 == by_id.status_code


def test_an_unknown_step_is_a_422_naming_the_field_and_records_nothing(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    body = draft_body(ctx)
    body["lines"][0]["step"] = "9:9"
    before = api.head()
    response = client.post("/v1/contracts", json=body, headers=buyer)
    assert 422 == response.status_code
    assert "unknown-step" == response.json()["rule"]
    assert "step" in response.json()["field"]
    assert before == api.head()


def test_readyz_reports_each_dependency_of_the_app(api):
    client = api.client
    response = client.get("/readyz")
    assert 200 == response.status_code
    assert {"store": True, "views": True} == response.json()["checks"]


def test_a_view_that_cannot_catch_up_is_a_503_problem_not_stale_data(sqlite_api, monkeypatch):
    def behind(*_: object, **__: object) -> None:
        msg = "view contract_summary is at 3, not 9: is `ledger project` running?"
        raise TimeoutError(msg)

    monkeypatch.setattr(sqlite_api.ctx.views, "wait", behind)
    response = sqlite_api.client.get(
        "/v1/contracts", headers=sqlite_api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    )
    assert 503 == response.status_code
    assert "application/problem+json" == response.headers["content-type"]
    assert "views-behind" == response.json()["rule"]
    assert "ledger project" in response.json()["detail"]
    assert response.headers["retry-after"]


def test_a_stored_request_digest_is_keyed_so_a_guessed_cpr_cannot_be_confirmed(sqlite_api):
    ctx = sqlite_api.ctx
    key, token = ctx.keys.create(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "register-1"}
    body = {"cpr": "0101901234", "name": "Test Borger"}
    first = sqlite_api.client.post("/v1/citizens", json=body, headers=headers)
    assert 201 == first.status_code, first.text

    stored = ctx.idempotency.get(f"{BUYER_NORD.cvr}/{key.key_id}", "register-1")
    message = f"POST /v1/citizens\n{CitizenIn(**body).model_dump_json()}".encode()
    assert stored is not None
    assert hashlib.sha256(message).hexdigest() != stored.request_hash
    assert hmac.new(ctx.request_key, message, hashlib.sha256).hexdigest() == stored.request_hash
    again = sqlite_api.client.post("/v1/citizens", json=body, headers=headers)
    assert "true" == again.headers["idempotent-replayed"]
    assert first.json() == again.json()
