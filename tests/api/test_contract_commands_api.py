"""Every contract command's happy path through HTTP, as one contract's life would use them.

Each step checks the state the response shows after the command (a command
answers with the contract after it, and its new ETag), so a route that called
the wrong service method, or none, fails here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from ledger.values import Role
from tests.api.conftest import ApiWorld, draft_body

ON = {"on": "2025-03-01"}


class Parties:
    """The buyer's and the provider's clients for one contract."""

    def __init__(self, api: ApiWorld, **terms: Any) -> None:
        self.api = api
        self.buyer = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
        self.provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
        body = draft_body(api.ctx)
        body["terms"].update(terms)
        created = api.client.post("/v1/contracts", json=body, headers=self.buyer)
        assert 201 == created.status_code, created.text
        self.url = created.headers["location"]
        self.version = int(created.headers["etag"].strip('"'))

    def post(self, path: str, body: dict[str, Any], *, by: str) -> dict[str, Any]:
        """POST as ``by`` ("buyer"/"provider") with the current If-Match; the new state."""
        headers = {**getattr(self, by), "If-Match": f'"{self.version}"'}
        response = self.api.client.post(f"{self.url}{path}", json=body, headers=headers)
        assert 200 == response.status_code, response.text
        new_version = int(response.headers["etag"].strip('"'))
        assert new_version == self.version + 1, "each command records exactly one event"
        self.version = new_version
        state: dict[str, Any] = response.json()
        assert new_version == state["version"]
        return state

    def signed(self) -> dict[str, Any]:
        """Offer, finalise and sign on 1 March."""
        self.post("/offer", ON, by="provider")
        self.post("/finalise", ON, by="buyer")
        self.post("/signatures", {"party": "buyer", "signed_on": "2025-03-01"}, by="buyer")
        return self.post(
            "/signatures", {"party": "provider", "signed_on": "2025-03-01"}, by="provider"
        )


def line(state: dict[str, Any], line_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in state["lines"] if item["line_id"] == line_id)
    return found


def test_placement_lines_steps_and_signatures(api):
    contract = Parties(api)
    added = contract.post(
        "/lines",
        {
            "paragraph": "SEL §104",
            "tariff_model": "slotsvaenget-104",
            "step": "2:1",
            "quantity": "1",
            "unit": "days-per-week",
            "start": "2025-03-01",
        },
        by="buyer",
    )
    assert 2 == len(added["lines"])
    revised = contract.post("/provisional-steps", {"line_id": "1", "step": "1:3"}, by="provider")
    assert "1:3" == line(revised, "1")["step"]
    assert "offered" == contract.post("/offer", ON, by="provider")["status"]
    assert "final" == contract.post("/finalise", ON, by="buyer")["status"]
    contract.post("/signatures", {"party": "buyer", "signed_on": "2025-03-01"}, by="buyer")
    signed = contract.post(
        "/signatures", {"party": "provider", "signed_on": "2025-03-02"}, by="provider"
    )
    assert "signed" == signed["status"]


def test_step_change_renegotiation_and_allonge_change_the_price(api):
    contract = Parties(api)
    before = line(contract.signed(), "1")["price"]["daily"]
    changed = contract.post(
        "/step-changes",
        {
            "line_id": "1",
            "step": "2:2",
            "effective_from": "2025-03-02",
            "agreed_on": "2025-03-02",
            "agreement_ref": "AFT-1",
        },
        by="buyer",
    )
    assert "2:2" == line(changed, "1")["step"]
    stepped = line(changed, "1")["price"]["daily"]
    assert stepped != before
    requested = contract.post(
        "/renegotiations",
        {
            "line_id": "1",
            "requested_by": "provider",
            "received_on": "2025-03-03",
            "nature": "lasting",
            "description": "Needs more support at night",
            "proposed_step": "3:2",
        },
        by="provider",
    )
    (request,) = requested["renegotiations"]
    assert request["answered_on"] is None
    answered = contract.post(
        f"/renegotiations/{request['request_id']}/answer",
        {
            "answered_by": "buyer",
            "answered_on": "2025-03-03",
            "approved": True,
            "agreement_ref": "AFT-2",
        },
        by="buyer",
    )
    assert "3:2" == line(answered, "1")["step"]
    allonge = contract.post(
        "/allonges",
        {
            "line_id": "1",
            "valid_from": "2025-03-03",
            "valid_to": "2025-03-31",
            "daily_delta": "100.00",
            "description": "Extra escort",
            "agreement_ref": "ALL-1",
            "buyer_accepted": True,
        },
        by="buyer",
    )
    regular = line(answered, "1")["price"]["daily"]
    assert Decimal(line(allonge, "1")["price"]["daily"]) == Decimal(regular) + 100


def test_absence_follow_up_framework_and_delivery_reports(api):
    contract = Parties(api)
    contract.signed()
    started = contract.post(
        "/absences", {"kind": "hospital", "started_on": "2025-03-02"}, by="provider"
    )
    (absence,) = started["absences"]
    notified = contract.post(
        f"/absences/{absence['absence_id']}/notice", {"on": "2025-03-03"}, by="provider"
    )
    assert "2025-03-03" == notified["absences"][0]["notified_on"]
    ended = contract.post(
        f"/absences/{absence['absence_id']}/end", {"on": "2025-03-03"}, by="provider"
    )
    assert "2025-03-03" == ended["absences"][0]["ended_on"]
    contract.post("/follow-ups", {"line_id": "1", "held_on": "2025-03-03"}, by="buyer")
    contract.post(
        "/framework-changes",
        {"received_on": "2025-03-03", "framework_version": "RA-2026", "adoption_year": 2026},
        by="provider",
    )
    contract.post(
        "/non-delivery",
        {
            "by": "buyer",
            "reported_on": "2025-03-03",
            "cause": "Staff shortage",
            "citizen_related": False,
        },
        by="buyer",
    )
    contract.post(
        "/force-majeure",
        {"by": "provider", "declared_on": "2025-03-03", "description": "Flooded building"},
        by="provider",
    )


def test_notice_and_reoccupation_end_the_payment(api):
    contract = Parties(api)
    contract.signed()
    noticed = contract.post("/notice", {"given_by": "buyer", "given_on": "2025-03-03"}, by="buyer")
    assert "under-notice" == noticed["status"]
    assert noticed["notice"]["given_on"] == "2025-03-03"
    reoccupied = contract.post("/reoccupation", {"on": "2025-03-03"}, by="provider")
    assert reoccupied["notice"]["payment_end"] is not None


def test_payment_option_4_ends_payment_on_the_agreed_day(api):
    contract = Parties(api, payment_option="4", payment_other_text="By agreement")
    contract.signed()
    contract.post("/notice", {"given_by": "provider", "given_on": "2025-03-03"}, by="provider")
    agreed = contract.post(
        "/payment-end", {"payment_end": "2025-04-15", "agreement_ref": "AFT-9"}, by="buyer"
    )
    assert "2025-04-15" == agreed["notice"]["payment_end"]


def test_rescission_ends_the_contract(api):
    contract = Parties(api)
    contract.signed()
    contract.post(
        "/force-majeure",
        {"by": "provider", "declared_on": "2025-03-02", "description": "Building burnt down"},
        by="provider",
    )
    rescinded = contract.post(
        "/rescission",
        {"by": "provider", "effective_on": "2025-03-03", "ground": "force-majeure"},
        by="provider",
    )
    assert "ended" == rescinded["status"]


def agreed_line(**changes: Any) -> dict[str, Any]:
    """A særforanstaltning line: prices agreed in the contract, not from a tariff sheet."""
    return {
        "paragraph": "SEL §108",
        "tariff_model": "gentofte-botilbud",
        "step": "10",
        "quantity": "28",
        "unit": "place",
        "start": "2025-03-01",
        "pricing": "agreed",
        "agreed_prices": [
            {"component": "basis", "daily": "400"},
            {"component": "service", "daily": "600"},
        ],
        **changes,
    }


def test_respite_days_and_index_regulation_on_agreed_prices(api):
    contract = Parties(api, respite_basis="used")
    contract.post("/lines", agreed_line(), by="buyer")
    contract.post("/lines", agreed_line(respite=True, end="2025-03-20"), by="buyer")
    contract.signed()
    used = contract.post(
        "/respite-days",
        {"line_id": "3", "month": "2025-03-01", "days": ["2025-03-02", "2025-03-03"]},
        by="provider",
    )
    assert "3" == line(used, "3")["line_id"]
    regulated = contract.post(
        "/index-regulations",
        {"year": 2026, "pl_percentage": "2.5", "source": "KL", "edition": "KL juni 2025"},
        by="provider",
    )
    assert regulated["version"] == contract.version
    day_2026 = api.client.get(
        contract.url, params={"as_of": "2026-01-05"}, headers=contract.buyer
    ).json()
    assert "1025.00" == line(day_2026, "2")["price"]["daily"]
