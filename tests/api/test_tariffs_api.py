"""Tariff models and tariff sheets (takstblade) through HTTP.

Every rejected request is checked to record nothing (the event log's head
does not move).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from ledger.tariffs import MODELS, get_model
from ledger.values import Role
from tests.api.conftest import ApiWorld

OPERATOR_ORG = "12345674"
OFFER = STOTTEPAKKEN.offer
SHEET_2027 = f"/v1/tariff-sheets/{OFFER}/2027"
SERVICE_3 = ("slotsvaenget-85", "service", "3")
ALL_ROLES = (
    (BUYER_NORD.cvr, Role.BUYER_ADMIN),
    (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
    (BUYER_NORD.cvr, Role.AUDITOR),
    (OPERATOR_ORG, Role.OPERATOR),
)


def sheet_prices(
    models: tuple[str, ...] = ("slotsvaenget-85", "slotsvaenget-104"), base: int = 400
) -> list[dict[str, Any]]:
    """A complete price list: fixed components at ``base``, steps rising by 10 DKK."""
    prices: list[dict[str, Any]] = []
    for code in models:
        model = get_model(code)
        for component in model.components:
            if component.per_step:
                prices.extend(
                    {
                        "model": code,
                        "component": component.code,
                        "step": step,
                        "daily": str(base + 10 * index),
                    }
                    for index, step in enumerate(model.step_codes)
                )
            else:
                prices.append({"model": code, "component": component.code, "daily": str(base)})
    return prices


def sheet_body(year: int = 2027, base: int = 400, offer: str = OFFER) -> dict[str, Any]:
    """A valid sheet for Støttepakken's two models."""
    return {
        "offer": offer,
        "year": year,
        "prices": sheet_prices(base=base),
        "source": f"Takstblad {year}",
    }


def operator(api: ApiWorld) -> dict[str, str]:
    return api.key(OPERATOR_ORG, Role.OPERATOR)


def daily(sheet: dict[str, Any], model: str, component: str, step: str | None = None) -> str:
    found = [
        p["daily"]
        for p in sheet["prices"]
        if (p["model"], p["component"], p["step"]) == (model, component, step)
    ]
    assert 1 == len(found)
    return str(found[0])


# --- tariff models -------------------------------------------------------------------


def test_every_role_reads_the_tariff_models_with_their_steps_and_components(api):
    client = api.client
    for organisation, role in ALL_ROLES:
        listed = client.get("/v1/tariff-models", headers=api.key(organisation, role))
        assert 200 == listed.status_code
        assert list(MODELS) == [m["code"] for m in listed.json()["items"]]
    model = client.get("/v1/tariff-models/slotsvaenget-85", headers=operator(api)).json()
    assert (["slotsvaenget-104"], "SEL §85", "hours-per-week") == (
        model["requires"],
        model["paragraph"],
        model["unit"],
    )
    assert [("basis", False), ("service", True)] == [
        (c["code"], c["per_step"]) for c in model["components"]
    ]
    steps = {s["code"]: s for s in model["steps"]}
    assert ("23", "30", False) == (
        steps["3"]["min_hours"],
        steps["3"]["max_hours"],
        steps["3"]["max_inclusive"],
    )
    assert steps["8"]["max_inclusive"]  # the top step includes its upper bound (G9)
    takster = client.get("/v1/tariff-models/slotsvaenget-104", headers=operator(api)).json()
    assert [1, 2, 3, 4] == takster["takster"]


def test_an_unknown_tariff_model_is_404_and_no_key_is_401(api):
    client = api.client
    missing = client.get("/v1/tariff-models/no-such-model", headers=operator(api))
    assert 404 == missing.status_code
    assert "code" == missing.json()["field"]
    assert 401 == client.get("/v1/tariff-models").status_code
    assert 401 == client.get(f"/v1/tariff-sheets/{OFFER}/2026").status_code


# --- publishing and reading sheets -----------------------------------------------------


def test_the_operator_publishes_a_sheet_and_every_role_reads_it_with_its_etag(api):
    client = api.client

    published = client.post("/v1/tariff-sheets", json=sheet_body(), headers=operator(api))

    assert 201 == published.status_code, published.text
    assert '"1"' == published.headers["etag"]
    assert SHEET_2027 == published.headers["location"]
    body = published.json()
    assert ("2027-01-01", OPERATOR_ORG, "Takstblad 2027") == (
        body["valid_from"],
        body["publisher"],
        body["source"],
    )
    assert [("published", 1, OPERATOR_ORG)] == [
        (h["kind"], h["version"], h["organisation"]) for h in body["history"]
    ]
    for organisation, role in ALL_ROLES:
        read = client.get(SHEET_2027, headers=api.key(organisation, role))
        assert 200 == read.status_code
        assert '"1"' == read.headers["etag"]
        assert "430" == daily(read.json(), "slotsvaenget-85", "service", "3")
        assert "400" == daily(read.json(), "slotsvaenget-104", "night")


def test_an_annual_amount_is_published_as_a_day_rate_of_one_365th(api):
    body = sheet_body()
    body["prices"][0] = {"model": "slotsvaenget-85", "component": "basis", "annual": "146000"}

    published = api.client.post("/v1/tariff-sheets", json=body, headers=operator(api))

    assert 201 == published.status_code, published.text
    basis = next(p for p in published.json()["prices"] if p["component"] == "basis")
    assert (Decimal(400), Decimal(146000)) == (Decimal(basis["daily"]), Decimal(basis["annual"]))


def test_sheets_are_listed_by_offer_and_year(api):
    client = api.client
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    client.post("/v1/tariff-sheets", json=sheet_body(), headers=provider)

    by_offer = client.get("/v1/tariff-sheets", params={"offer": OFFER}, headers=provider).json()
    by_year = client.get("/v1/tariff-sheets", params={"year": 2027}, headers=provider).json()

    assert [2025, 2026, 2027] == [s["year"] for s in by_offer["items"]]
    assert [(OFFER, SHEET_2027, STOTTEPAKKEN.registration)] == [
        (s["offer"], s["href"], s["publisher"]) for s in by_year["items"]
    ]


def test_a_missing_sheet_is_404(api):
    response = api.client.get(f"/v1/tariff-sheets/{OFFER}/2031", headers=operator(api))
    assert 404 == response.status_code
    assert "tariff-sheet-not-found" == response.json()["rule"]


@pytest.mark.parametrize(
    ("organisation", "role"),
    [(BUYER_NORD.cvr, Role.BUYER_ADMIN), (BUYER_NORD.cvr, Role.AUDITOR)],
)
def test_buyers_and_auditors_may_not_publish_a_sheet(api, organisation, role):
    before = api.head()

    response = api.client.post(
        "/v1/tariff-sheets", json=sheet_body(), headers=api.key(organisation, role)
    )

    assert 403 == response.status_code
    assert "not-permitted" == response.json()["rule"]
    assert before == api.head()


def test_a_second_sheet_for_the_same_offer_and_year_is_a_409_with_the_rule(api):
    client = api.client
    client.post("/v1/tariff-sheets", json=sheet_body(), headers=operator(api))
    before = api.head()

    again = client.post("/v1/tariff-sheets", json=sheet_body(base=500), headers=operator(api))

    assert 409 == again.status_code
    problem = again.json()
    assert ("tariff-sheet-already-published", "G3") == (problem["rule"], problem["clause"])
    assert before == api.head()
    assert "430" == daily(client.get(SHEET_2027, headers=operator(api)).json(), *SERVICE_3)


def _without_first_price(body: dict[str, Any]) -> None:
    body["prices"] = body["prices"][1:]


def _price(**changes: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        body["prices"][0] = {**body["prices"][0], **changes}

    return change


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        (lambda b: b.update(year=1999), 422, "body.year"),
        (lambda b: b.update(year="20x7"), 422, "body.year"),
        (lambda b: b.pop("source"), 422, "body.source"),
        (lambda b: b.update(offer="a/b"), 422, "body.offer"),
        (lambda b: b.update(prices=[]), 422, "body.prices"),
        (_price(model="no-such-model"), 422, "body.prices.0.model"),
        (_price(component="no-such-component"), 422, "body.prices.0.component"),
        (
            _price(model="slotsvaenget-85", component="service", step="99"),
            422,
            "body.prices.0.step",
        ),
        (_price(daily="0"), 422, "body.prices.0.daily"),
        (_price(annual="146000"), 422, "body.prices.0"),
        (lambda b: b.update(valid_from="2026-12-31"), 422, "valid_from"),
        (_without_first_price, 409, "prices"),
    ],
    ids=[
        "year-out-of-range",
        "year-not-a-number",
        "no-source",
        "slash-in-offer",
        "no-prices",
        "unknown-model",
        "unknown-component",
        "unknown-step",
        "zero-price",
        "daily-and-annual",
        "valid-from-in-another-year",
        "incomplete-sheet",
    ],
)
def test_bad_input_to_publish_names_the_field_and_records_nothing(
    sqlite_api, change, status, field
):
    # The subject is the input's validation, not the backend: SQLite only keeps the table fast.
    api = sqlite_api
    body = sheet_body()
    change(body)
    before = api.head()

    response = api.client.post("/v1/tariff-sheets", json=body, headers=operator(api))

    assert status == response.status_code, response.text
    assert field == response.json()["field"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert before == api.head()


def test_a_year_that_is_not_a_number_in_the_path_is_422_naming_it(api):
    response = api.client.get(f"/v1/tariff-sheets/{OFFER}/next", headers=operator(api))
    assert 422 == response.status_code
    assert "path.year" == response.json()["field"]


def test_an_idempotency_key_replays_the_publication(api):
    client = api.client
    headers = {**operator(api), "Idempotency-Key": "sheet-2027"}
    first = client.post("/v1/tariff-sheets", json=sheet_body(), headers=headers)
    after_first = api.head()

    again = client.post("/v1/tariff-sheets", json=sheet_body(), headers=headers)

    assert (201, "true") == (again.status_code, again.headers["idempotent-replayed"])
    assert first.json() == again.json()
    assert after_first == api.head()


# --- corrections --------------------------------------------------------------------------


def _correction(reason: str = "Trykfejl i servicetakst", base: int = 500) -> dict[str, Any]:
    return {"prices": sheet_prices(base=base), "reason": reason}


def test_a_correction_replaces_the_prices_keeps_the_history_and_moves_the_etag(api):
    client = api.client
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    client.post("/v1/tariff-sheets", json=sheet_body(), headers=provider)
    published_at = api.clock.now().isoformat()
    api.clock.advance(dt.timedelta(hours=1))

    corrected = client.post(
        f"{SHEET_2027}/corrections", json=_correction(), headers={**provider, "If-Match": '"1"'}
    )

    assert 200 == corrected.status_code, corrected.text
    assert '"2"' == corrected.headers["etag"]
    assert "530" == daily(corrected.json(), *SERVICE_3)
    assert [("published", None), ("corrected", "Trykfejl i servicetakst")] == [
        (h["kind"], h["reason"]) for h in corrected.json()["history"]
    ]
    as_known = client.get(SHEET_2027, params={"known_at": published_at}, headers=provider)
    assert ('"1"', "430") == (as_known.headers["etag"], daily(as_known.json(), *SERVICE_3))


def test_a_stale_if_match_on_a_correction_is_a_412_and_records_nothing(api):
    client = api.client
    client.post("/v1/tariff-sheets", json=sheet_body(), headers=operator(api))
    headers = {**operator(api), "If-Match": '"1"'}
    client.post(f"{SHEET_2027}/corrections", json=_correction(), headers=headers)
    before = api.head()

    stale = client.post(f"{SHEET_2027}/corrections", json=_correction(base=600), headers=headers)

    assert 412 == stale.status_code
    assert before == api.head()
    assert "530" == daily(client.get(SHEET_2027, headers=operator(api)).json(), *SERVICE_3)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"prices": sheet_prices(base=500)}, 422, "body.reason"),
        ({"prices": sheet_prices(base=500), "reason": ""}, 422, "body.reason"),
        ({"prices": sheet_prices(base=500), "reason": "   "}, 422, "reason"),
        ({"prices": sheet_prices(), "reason": "same prices"}, 422, "prices"),
    ],
    ids=["no-reason", "empty-reason", "blank-reason", "nothing-changes"],
)
def test_a_correction_needs_a_reason_and_new_prices(api, body, status, field):
    client = api.client
    client.post("/v1/tariff-sheets", json=sheet_body(), headers=operator(api))
    before = api.head()

    response = client.post(f"{SHEET_2027}/corrections", json=body, headers=operator(api))

    assert status == response.status_code, response.text
    assert field == response.json()["field"]
    assert before == api.head()


def test_only_the_publisher_or_the_operator_corrects_a_sheet(api):
    client = api.client
    client.post(
        "/v1/tariff-sheets",
        json=sheet_body(),
        headers=api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
    )
    before = api.head()

    for organisation, role in (
        ("19438414", Role.PROVIDER_ADMIN),  # another provider
        (BUYER_NORD.cvr, Role.BUYER_ADMIN),
        (BUYER_NORD.cvr, Role.AUDITOR),
    ):
        response = client.post(
            f"{SHEET_2027}/corrections", json=_correction(), headers=api.key(organisation, role)
        )
        assert 403 == response.status_code, (role, response.text)
    assert before == api.head()
    corrected = client.post(f"{SHEET_2027}/corrections", json=_correction(), headers=operator(api))
    assert 200 == corrected.status_code


def test_correcting_a_missing_sheet_is_404(api):
    before = api.head()
    response = api.client.post(
        f"/v1/tariff-sheets/{OFFER}/2031/corrections", json=_correction(), headers=operator(api)
    )
    assert 404 == response.status_code
    assert before == api.head()
