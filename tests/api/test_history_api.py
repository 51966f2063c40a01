"""A contract's history through HTTP: every event in order, when, by whom, and what happened."""

from __future__ import annotations

from adapters.demo import BUYER_NORD, BUYER_SYD, GENTOFTE, STOTTEPAKKEN
from ledger.values import Role
from tests.api.conftest import draft_body


def test_the_history_of_the_hospitalisation_contract_reads_event_by_event(api):
    client = api.client
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    items = client.get(
        "/v1/contracts", params={"provider": GENTOFTE.registration}, headers=nord
    ).json()["items"]
    contract = items[0]["contract_id"]

    response = client.get(f"/v1/contracts/{contract}/history", headers=nord)

    assert 200 == response.status_code, response.text
    events = response.json()["events"]
    assert list(range(1, len(events) + 1)) == [e["version"] for e in events]
    assert [
        "Drafted",
        "PlaceOffered",
        "PlacementFinalised",
        "Signed",
        "Signed",
        "AbsenceStarted",
        "AbsenceNotified",
        "AbsenceEnded",
        "RegulatedByTariffSheet",
    ] == [e["event_type"] for e in events]
    started, notified, ended, regulated = events[5:]
    assert (
        "A hospitalisation began on 2025-06-03 (absence A1); "
        "the provider's notice is due by 2025-06-10"
    ) == started["description"]
    assert "The provider notified the hospitalisation A1 on 2025-06-06" == notified["description"]
    assert {"ended_on": "2025-06-20"} == ended["business_dates"]
    assert {"effective_from": "2026-01-01"} == regulated["business_dates"]
    assert regulated["recorded_at"].startswith("2026-01-20")  # recorded after 1 January
    assert {
        "organisation": "demo",
        "role": "operator",
        "key_id": "demo-loader",
        "request_id": "demo",
    } == started["recorded_by"]
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)


def test_the_history_records_the_caller_of_each_command_and_never_the_citizens_data(api):
    client, ctx = api.client, api.ctx
    buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    body = draft_body(ctx)  # registers "Test Borger", CPR 0101901234
    location = client.post(
        "/v1/contracts", json=body, headers={**buyer, "X-Request-ID": "req-draft-1"}
    ).headers["location"]
    client.post(
        f"{location}/offer",
        json={"on": "2025-03-01"},
        headers={**provider, "X-Request-ID": "req-offer-1"},
    )
    provider_key = ctx.keys.authenticate(provider["Authorization"].split()[1])
    assert provider_key is not None

    response = client.get(f"{location}/history", headers=buyer)

    assert 200 == response.status_code, response.text
    drafted, offered = response.json()["events"]
    assert (BUYER_NORD.cvr, "buyer-admin", "req-draft-1") == (
        drafted["recorded_by"]["organisation"],
        drafted["recorded_by"]["role"],
        drafted["recorded_by"]["request_id"],
    )
    assert {
        "organisation": STOTTEPAKKEN.registration,
        "role": "provider-admin",
        "key_id": provider_key.key_id,
        "request_id": "req-offer-1",
    } == offered["recorded_by"]
    assert "The citizen was offered the place on 2025-03-01" == offered["description"]
    assert {"lines.1.start": "2025-03-01"} == drafted["business_dates"]
    assert drafted["recorded_at"].startswith("2025-03-03")  # the app's clock
    assert "Test Borger" not in response.text
    assert "0101901234" not in response.text
    assert body["citizen_id"] not in response.text


def test_another_partys_history_is_not_found(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    items = client.get("/v1/contracts", headers=syd).json()["items"]

    for contract in (i["contract_id"] for i in items):
        for stranger in (
            api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN),
            api.key(BUYER_NORD.cvr, Role.AUDITOR),
            api.key("system", Role.OPERATOR),
        ):
            response = client.get(f"/v1/contracts/{contract}/history", headers=stranger)
            assert 404 == response.status_code
            assert "contract-not-found" == response.json()["rule"]
    unknown = client.get("/v1/contracts/00000000-0000-4000-8000-000000000000/history", headers=syd)
    assert 404 == unknown.status_code
