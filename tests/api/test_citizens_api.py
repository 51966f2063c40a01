"""Citizens (borgere) through HTTP: register, read only as a party, erase.

CPR numbers here are synthetic. Every rejected request is checked to record
nothing (the event log's head does not move); the citizen register is outside
the events, so registering and erasing never move it either.
"""

from __future__ import annotations

import uuid

import pytest
from structlog.testing import capture_logs

from adapters.demo import BUYER_NORD, BUYER_SYD, STOTTEPAKKEN
from ledger.values import Role
from tests.api.conftest import ApiWorld, draft_body

CPR = "1203801234"
CPR_FORMATTED = "120380-1234"
NAME = "Erik Eksempel"
OPERATOR_ORG = "12345674"


def nord(api: ApiWorld) -> dict[str, str]:
    return api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)


def register(api: ApiWorld, cpr: str = CPR, name: str = NAME) -> str:
    response = api.client.post("/v1/citizens", json={"cpr": cpr, "name": name}, headers=nord(api))
    assert 201 == response.status_code, response.text
    return str(response.json()["citizen_id"])


def placed_with(api: ApiWorld, cpr: str = CPR) -> tuple[str, str]:
    """A contract between Demo Nord and Støttepakken for the citizen: (citizen id, location)."""
    citizen = register(api, cpr)
    body = draft_body(api.ctx, cpr=cpr)
    assert citizen == body["citizen_id"]
    drafted = api.client.post("/v1/contracts", json=body, headers=nord(api))
    assert 201 == drafted.status_code, drafted.text
    return citizen, drafted.headers["location"]


def events_of(api: ApiWorld, contract_id: uuid.UUID) -> list[tuple[int, str]]:
    return [
        (e.originator_version, type(e).__name__) for e in api.ctx.ledger.events.get(contract_id)
    ]


def test_a_buyer_registers_a_citizen_and_the_same_cpr_keeps_its_id(api):
    client = api.client
    before = api.head()

    first = client.post("/v1/citizens", json={"cpr": CPR, "name": NAME}, headers=nord(api))
    again = client.post(
        "/v1/citizens", json={"cpr": CPR_FORMATTED, "name": "Other Name"}, headers=nord(api)
    )

    assert (201, 201) == (first.status_code, again.status_code)
    citizen = first.json()["citizen_id"]
    assert citizen == again.json()["citizen_id"]
    assert f"/v1/citizens/{citizen}" == first.headers["location"]
    assert NAME == api.ctx.citizens.get(uuid.UUID(citizen)).name
    assert before == api.head()  # personal data is not an event


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cpr": "3213801234", "name": NAME}, "body.cpr"),  # no 32nd day
        ({"cpr": "0101305000", "name": NAME}, "body.cpr"),  # 1 January 2030: in the future
        ({"cpr": "12038O1234", "name": NAME}, "body.cpr"),  # a letter O
        ({"cpr": "120380123", "name": NAME}, "body.cpr"),  # 9 digits
        ({"name": NAME}, "body.cpr"),
        ({"cpr": CPR, "name": "   "}, "body.name"),
        ({"cpr": CPR}, "body.name"),
        ({"cpr": CPR, "name": NAME, "note": "x"}, "body.note"),
    ],
    ids=[
        "bad-day",
        "future-birth-date",
        "letter",
        "too-short",
        "no-cpr",
        "blank-name",
        "no-name",
        "unknown-field",
    ],
)
def test_bad_input_is_422_naming_the_field_without_echoing_the_cpr(sqlite_api, body, field):
    # The subject is the input's validation, not the backend: SQLite only keeps the table fast.
    api = sqlite_api

    response = api.client.post("/v1/citizens", json=body, headers=nord(api))

    assert 422 == response.status_code
    assert field == response.json()["field"]
    assert "cpr" not in body or body["cpr"] not in response.text
    assert api.ctx.citizens.id_for_cpr(CPR) is None


@pytest.mark.parametrize(
    ("organisation", "role"),
    [
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
        (BUYER_NORD.cvr, Role.AUDITOR),
        (OPERATOR_ORG, Role.OPERATOR),
    ],
)
def test_only_a_buyer_administrator_registers(api, organisation, role):
    response = api.client.post(
        "/v1/citizens", json={"cpr": CPR, "name": NAME}, headers=api.key(organisation, role)
    )

    assert 403 == response.status_code
    assert api.ctx.citizens.id_for_cpr(CPR) is None


def test_the_parties_to_a_citizens_contract_read_cpr_and_name(api):
    citizen, _ = placed_with(api)

    for organisation, role in (
        (BUYER_NORD.cvr, Role.BUYER_ADMIN),
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
        (BUYER_NORD.cvr, Role.AUDITOR),
        (STOTTEPAKKEN.registration, Role.AUDITOR),
    ):
        read = api.client.get(f"/v1/citizens/{citizen}", headers=api.key(organisation, role))
        assert 200 == read.status_code, (role, read.text)
        assert {"citizen_id": citizen, "cpr": CPR, "name": NAME} == read.json()
        assert "no-store" == read.headers["cache-control"]


def test_anyone_not_party_to_the_citizens_contracts_gets_404(api):
    citizen, _ = placed_with(api)
    unplaced = register(api, "0502701234", "Uden Kontrakt")

    for organisation, role in (
        (BUYER_SYD.cvr, Role.BUYER_ADMIN),
        (BUYER_SYD.cvr, Role.AUDITOR),
        (STOTTEPAKKEN.registration, Role.BUYER_ADMIN),  # a party, but not on the buyer side
        ("19438414", Role.PROVIDER_ADMIN),
        (OPERATOR_ORG, Role.OPERATOR),
    ):
        read = api.client.get(f"/v1/citizens/{citizen}", headers=api.key(organisation, role))
        assert 404 == read.status_code, (organisation, role)
        assert CPR not in read.text
    assert 404 == api.client.get(f"/v1/citizens/{unplaced}", headers=nord(api)).status_code
    assert 404 == api.client.get(f"/v1/citizens/{uuid.uuid4()}", headers=nord(api)).status_code


def test_a_citizens_contracts_are_found_within_the_callers_scope(api):
    citizen, location = placed_with(api)
    contract_id = uuid.UUID(location.rsplit("/", 1)[1])
    api.ctx.views.wait()
    summary = api.ctx.views.summary

    mine = summary.citizen_contract_ids(uuid.UUID(citizen), party=("buyer", BUYER_NORD.cvr))
    either = summary.citizen_contract_ids(
        uuid.UUID(citizen), party=("either", STOTTEPAKKEN.registration)
    )
    theirs = summary.citizen_contract_ids(uuid.UUID(citizen), party=("buyer", BUYER_SYD.cvr))
    nobody = summary.citizen_contract_ids(uuid.UUID(citizen), party=("none", OPERATOR_ORG))

    assert ([contract_id], [contract_id], [], []) == (mine, either, theirs, nobody)
    assert [contract_id] == summary.citizen_contract_ids(uuid.UUID(citizen))


def test_a_buyer_party_erases_the_personal_data_and_the_contract_history_stays(api):
    client = api.client
    citizen, location = placed_with(api)
    contract_id = uuid.UUID(location.rsplit("/", 1)[1])
    contract_before = client.get(location, headers=nord(api)).json()
    history_before = events_of(api, contract_id)
    before = api.head()

    erased = client.delete(f"/v1/citizens/{citizen}", headers=nord(api))

    assert 204 == erased.status_code
    assert before == api.head()
    assert 404 == client.get(f"/v1/citizens/{citizen}", headers=nord(api)).status_code
    contract_after = client.get(location, headers=nord(api)).json()
    assert (contract_before["version"], citizen) == (
        contract_after["version"],
        contract_after["citizen_id"],
    )
    assert history_before == events_of(api, contract_id)
    assert 404 == client.delete(f"/v1/citizens/{citizen}", headers=nord(api)).status_code
    assert citizen != register(api)  # the same CPR now gets a new id


def test_the_operator_erases_any_citizen(api):
    citizen = register(api)

    erased = api.client.delete(
        f"/v1/citizens/{citizen}", headers=api.key(OPERATOR_ORG, Role.OPERATOR)
    )

    assert 204 == erased.status_code
    assert api.ctx.citizens.find(uuid.UUID(citizen)) is None


def test_no_one_else_erases_a_citizen(api):
    citizen, _ = placed_with(api)

    for organisation, role, status in (
        (BUYER_SYD.cvr, Role.BUYER_ADMIN, 404),  # not a party
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN, 403),
        (BUYER_NORD.cvr, Role.AUDITOR, 403),
    ):
        response = api.client.delete(f"/v1/citizens/{citizen}", headers=api.key(organisation, role))
        assert status == response.status_code, (organisation, role)
    assert NAME == api.ctx.citizens.get(uuid.UUID(citizen)).name


def test_cpr_and_name_never_reach_the_logs(sqlite_api):
    api = sqlite_api
    with capture_logs() as logged:
        citizen, _ = placed_with(api)
        read = api.client.get(f"/v1/citizens/{citizen}", headers=nord(api))
        api.client.post("/v1/citizens", json={"cpr": "3213801234", "name": NAME}, headers=nord(api))

    assert CPR == read.json()["cpr"]  # the CPR number was in play
    # capture_logs sees the log entries before the redaction processor, so this
    # checks that nothing logs the CPR number, not only that redaction works.
    assert {"/v1/citizens", "/v1/citizens/{citizen_id}"} <= {entry.get("route") for entry in logged}
    text = repr(logged)
    for secret in (CPR, CPR_FORMATTED, "3213801234", NAME):
        assert secret not in text
