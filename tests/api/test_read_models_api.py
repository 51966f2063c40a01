"""Read models through HTTP: price timeline, deadlines, billing feed, adjustments, invoices.

The demo contracts carry the history these reads need: the Syd renegotiation
received on 10 April and approved on 3 May 2025 (retroactive), the Gentofte
hospitalisation of June 2025, a notice given in September, and the 2026
regulation. The app's clock stands at 3 March 2025 unless a test moves it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.demo import BUYER_NORD, BUYER_SYD, GENTOFTE, STOTTEPAKKEN
from ledger.clock import local_instant
from ledger.values import Role
from tests.api.conftest import ApiWorld

OERE = Decimal("0.01")


def demo_contract(api: ApiWorld, buyer_cvr: str, provider: str) -> str:
    """The id of the demo contract between ``buyer_cvr`` and ``provider``."""
    headers = api.key(buyer_cvr, Role.BUYER_ADMIN)
    items = api.client.get(f"/v1/contracts?provider={provider}", headers=headers).json()["items"]
    assert 1 == len(items)
    return str(items[0]["contract_id"])


def line(body: dict[str, Any], line_id: str) -> list[dict[str, Any]]:
    """The periods of one line of a price timeline."""
    found = [entry["periods"] for entry in body["lines"] if entry["line_id"] == line_id]
    assert 1 == len(found)
    return list(found[0])


def money(text: str) -> Decimal:
    return Decimal(text)


# --- price timeline -----------------------------------------------------------------------


def test_the_timeline_shows_an_approved_renegotiation_from_receipt_and_as_known_before_it(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    contract = demo_contract(api, BUYER_SYD.cvr, STOTTEPAKKEN.registration)
    path = f"/v1/contracts/{contract}/price-timeline"

    now = client.get(path, headers=syd)
    before_approval = client.get(
        path, params={"known_at": "2025-05-02T12:00:00+02:00"}, headers=syd
    )
    only_line_2 = client.get(path, params={"line_id": "2"}, headers=syd)

    assert 200 == now.status_code, now.text
    periods = line(now.json(), "1")
    assert ["2", "4", "4"] == [p["step"] for p in periods]
    assert "2025-04-10" == periods[1]["start"]  # the day the description was received
    assert "RenegotiationAnswered" == periods[1]["cause"]
    assert "2025-05-03" == periods[1]["recorded_on"]
    assert periods[1]["retroactive"] is True
    assert money(periods[1]["daily"]) > money(periods[0]["daily"])
    assert periods[-1]["end"] is None  # the line runs on
    assert 200 == before_approval.status_code, before_approval.text
    known = line(before_approval.json(), "1")
    assert [("2025-03-01", None, "2", periods[0]["daily"])] == [
        (p["start"], p["end"], p["step"], p["daily"]) for p in known
    ]
    assert ["2"] == [entry["line_id"] for entry in only_line_2.json()["lines"]]


def test_an_unknown_line_is_a_422_naming_it(api):
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    contract = demo_contract(api, BUYER_SYD.cvr, STOTTEPAKKEN.registration)

    response = api.client.get(
        f"/v1/contracts/{contract}/price-timeline", params={"line_id": "9"}, headers=syd
    )

    assert 422 == response.status_code
    assert "query.line_id" == response.json()["field"]


def test_a_renegotiation_approved_through_the_api_reaches_back_into_an_invoiced_month(api):
    """Invoice January, approve a change received 20 January, and see the correction."""
    client, clock = api.client, api.clock
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    operator = api.key("system", Role.OPERATOR)
    contract = demo_contract(api, BUYER_NORD.cvr, STOTTEPAKKEN.registration)
    timeline = f"/v1/contracts/{contract}/price-timeline"
    clock.set(local_instant(dt.date(2026, 2, 2)))
    issued = client.post(
        "/v1/invoices", json={"month": "2026-01", "buyer_ean": BUYER_NORD.ean}, headers=operator
    )
    assert 201 == issued.status_code, issued.text
    request = client.post(
        f"/v1/contracts/{contract}/renegotiations",
        json={
            "line_id": "1",
            "requested_by": "provider",
            "received_on": "2026-01-20",
            "nature": "lasting",
            "description": "Lasting rise in need",
            "proposed_step": "5",
        },
        headers=provider,
    )
    assert 200 == request.status_code, request.text
    request_id = request.json()["renegotiations"][0]["request_id"]
    clock.set(local_instant(dt.date(2026, 2, 5)))

    approved = client.post(
        f"/v1/contracts/{contract}/renegotiations/{request_id}/answer",
        json={
            "answered_by": "buyer",
            "answered_on": "2026-02-05",
            "approved": True,
            "agreement_ref": "Tillæg 2026-02-05",
        },
        headers=nord,
    )
    now = client.get(timeline, headers=nord)
    before = client.get(timeline, params={"known_at": "2026-02-03T12:00:00+01:00"}, headers=nord)
    pending = client.get("/v1/adjustments", params={"buyer_ean": BUYER_NORD.ean}, headers=nord)

    assert 200 == approved.status_code, approved.text
    new = line(now.json(), "1")[-1]
    assert ("2026-01-20", None, "5", True) == (
        new["start"],
        new["end"],
        new["step"],
        new["retroactive"],
    )
    old = line(before.json(), "1")[-1]
    assert ("2026-01-01", "3") == (old["start"], old["step"])
    assert 200 == pending.status_code, pending.text
    body = pending.json()
    assert "2026-02" == body["month"]  # the invoice after the last one
    corrections = [a for a in body["adjustments"] if a["contract_id"] == contract]
    assert [("1", "2026-01")] == [(a["line_id"], a["month"]) for a in corrections]
    correction = corrections[0]
    extra = (money(new["daily"]) - money(old["daily"])) * 12  # 20-31 January at the new price
    assert extra == money(correction["difference"])
    assert money(correction["amount_now"]) - money(correction["amount_before"]) == extra
    assert correction["causes"][0].startswith("RenegotiationAnswered v")
    assert extra == money(body["total_difference"])

    february = client.post(
        "/v1/invoices", json={"month": "2026-02", "buyer_ean": BUYER_NORD.ean}, headers=operator
    )
    read = client.get(f"/v1/invoices/{BUYER_NORD.ean}/2026-02", headers=nord)
    after = client.get("/v1/adjustments", params={"buyer_ean": BUYER_NORD.ean}, headers=nord)

    assert 201 == february.status_code, february.text
    assert [correction] == [a for a in read.json()["adjustments"] if a["contract_id"] == contract]
    assert extra == money(read.json()["adjustments_total"])
    assert "2026-03" == after.json()["month"]
    assert [] == after.json()["adjustments"]


# --- invoices -------------------------------------------------------------------------------


def test_an_invoice_is_issued_once_and_issuing_again_returns_it_and_records_nothing(api):
    client = api.client
    operator = api.key("system", Role.OPERATOR)

    first = client.post("/v1/invoices", json={"month": "2025-03"}, headers=operator)
    head = api.head()
    again = client.post("/v1/invoices", json={"month": "2025-03-17"}, headers=operator)

    assert 201 == first.status_code, first.text
    assert {BUYER_NORD.ean, BUYER_SYD.ean} == set(first.json()["newly_issued"])
    assert 200 == again.status_code, again.text
    assert [] == again.json()["newly_issued"]
    assert first.json()["invoices"] == again.json()["invoices"]
    assert head == api.head()


def test_an_idempotency_key_replays_the_first_issue(api):
    client = api.client
    operator = {**api.key("system", Role.OPERATOR), "Idempotency-Key": "invoices-2025-03"}
    body = {"month": "2025-03", "buyer_ean": BUYER_SYD.ean}

    first = client.post("/v1/invoices", json=body, headers=operator)
    head = api.head()
    again = client.post("/v1/invoices", json=body, headers=operator)
    other = client.post("/v1/invoices", json={"month": "2025-03"}, headers=operator)

    assert (201, [BUYER_SYD.ean]) == (first.status_code, first.json()["newly_issued"])
    assert (201, "true") == (again.status_code, again.headers["idempotent-replayed"])
    assert first.json() == again.json()
    assert (422, "Idempotency-Key") == (other.status_code, other.json()["field"])
    assert head == api.head()


def test_an_invoice_is_read_with_its_lines_in_decimal_strings_and_without_personal_data(api):
    client = api.client
    operator = api.key("system", Role.OPERATOR)
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    client.post("/v1/invoices", json={"month": "2025-03"}, headers=operator)

    response = client.get(f"/v1/invoices/{BUYER_NORD.ean}/2025-03", headers=nord)

    assert 200 == response.status_code, response.text
    invoice = response.json()
    assert ("2025-03", BUYER_NORD.ean, "2025-03-03") == (
        invoice["month"],
        invoice["buyer"]["ean"],
        invoice["issued_on"],
    )
    assert "operator" == invoice["issued_by"]["role"]
    lines = invoice["lines"]
    assert 2 == len(lines)  # the §85 and §104 lines of the first demo contract
    for item in lines:
        accrued = sum((money(s["daily"]) * money(s["days"]) for s in item["segments"]), Decimal(0))
        assert accrued.quantize(OERE, rounding=ROUND_HALF_UP) == money(item["amount"])
        assert isinstance(item["amount"], str)
        assert ("2025-03-01", "2025-03-31") == (item["period_start"], item["period_end"])
        assert {"citizen_id", "paragraph"} <= set(item)
        assert not {"cpr", "name", "citizen_name"} & set(item)
    assert sum(money(i["amount"]) for i in lines) == money(invoice["lines_total"])
    assert money(invoice["lines_total"]) == money(invoice["total"])
    assert "Anna Demo" not in response.text
    assert "0101901234" not in response.text


def test_invoices_are_listed_and_read_only_by_their_buyer_and_the_operator(api):
    client = api.client
    operator = api.key("system", Role.OPERATOR)
    client.post("/v1/invoices", json={"month": "2025-03"}, headers=operator)
    nord_path = f"/v1/invoices/{BUYER_NORD.ean}/2025-03"

    listed = {
        role: client.get("/v1/invoices", headers=api.key(org, role)).json()["items"]
        for org, role in (
            ("system", Role.OPERATOR),
            (BUYER_NORD.cvr, Role.BUYER_ADMIN),
            (BUYER_NORD.cvr, Role.AUDITOR),
            (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
        )
    }
    filtered = client.get(
        "/v1/invoices", params={"buyer_ean": BUYER_SYD.ean, "month": "2025-03"}, headers=operator
    )
    other_month = client.get("/v1/invoices", params={"month": "2025-02"}, headers=operator)

    assert [(BUYER_NORD.ean, "2025-03"), (BUYER_SYD.ean, "2025-03")] == [
        (i["buyer_ean"], i["month"]) for i in listed[Role.OPERATOR]
    ]
    assert [nord_path] == [i["href"] for i in listed[Role.BUYER_ADMIN]]
    assert [nord_path] == [i["href"] for i in listed[Role.AUDITOR]]
    assert [] == listed[Role.PROVIDER_ADMIN]
    assert [BUYER_SYD.ean] == [i["buyer_ean"] for i in filtered.json()["items"]]
    assert [] == other_month.json()["items"]
    for org, role, status in (
        (BUYER_NORD.cvr, Role.AUDITOR, 200),
        ("system", Role.OPERATOR, 200),
        (BUYER_SYD.cvr, Role.BUYER_ADMIN, 404),
        (BUYER_SYD.cvr, Role.AUDITOR, 404),
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN, 404),
    ):
        assert status == client.get(nord_path, headers=api.key(org, role)).status_code
    unknown = client.get(f"/v1/invoices/{BUYER_NORD.ean}/2025-01", headers=operator)
    assert 404 == unknown.status_code
    assert "invoice-not-found" == unknown.json()["rule"]


def test_only_the_operator_issues_invoices_and_a_refusal_records_nothing(api):
    client = api.client
    head = api.head()

    for org, role in (
        (BUYER_NORD.cvr, Role.BUYER_ADMIN),
        (BUYER_NORD.cvr, Role.AUDITOR),
        (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
    ):
        response = client.post(
            "/v1/invoices", json={"month": "2025-03"}, headers=api.key(org, role)
        )
        assert 403 == response.status_code
        assert "not-permitted" == response.json()["rule"]

    assert head == api.head()


def test_a_bad_month_is_a_422_naming_the_field_and_records_nothing(api):
    client = api.client
    operator = api.key("system", Role.OPERATOR)
    head = api.head()

    for month in ("2025-13", "March", "2025-02-30"):
        response = client.post("/v1/invoices", json={"month": month}, headers=operator)
        assert 422 == response.status_code, month
        assert "body.month" == response.json()["field"]
    read = client.get(f"/v1/invoices/{BUYER_NORD.ean}/2025-13", headers=operator)
    pending = client.get(
        "/v1/adjustments",
        params={"buyer_ean": BUYER_NORD.ean, "month": "2025-00"},
        headers=operator,
    )
    listed = client.get("/v1/invoices", params={"month": "03-2025"}, headers=operator)

    assert (422, "path.month") == (read.status_code, read.json()["field"])
    assert (422, "query.month") == (pending.status_code, pending.json()["field"])
    assert (422, "query.month") == (listed.status_code, listed.json()["field"])
    assert head == api.head()


def test_an_invoice_too_far_ahead_or_for_an_unknown_buyer_is_refused_and_records_nothing(api):
    client = api.client
    operator = api.key("system", Role.OPERATOR)
    head = api.head()

    ahead = client.post("/v1/invoices", json={"month": "2025-05"}, headers=operator)
    unknown = client.post(
        "/v1/invoices", json={"month": "2025-03", "buyer_ean": "5790000000005"}, headers=operator
    )
    bad_ean = client.post(
        "/v1/invoices", json={"month": "2025-03", "buyer_ean": "5798000000019"}, headers=operator
    )

    assert (409, "invoice-month-too-far-ahead") == (ahead.status_code, ahead.json()["rule"])
    assert (404, "buyer-not-found") == (unknown.status_code, unknown.json()["rule"])
    assert (422, "body.buyer_ean") == (bad_ean.status_code, bad_ean.json()["field"])
    assert head == api.head()


# --- adjustments ------------------------------------------------------------------------------


def test_adjustments_are_seen_by_the_buyer_of_the_ean_and_the_operator_only(api):
    client = api.client
    query = {"buyer_ean": BUYER_NORD.ean}

    statuses = {
        (org, role): client.get("/v1/adjustments", params=query, headers=api.key(org, role))
        for org, role in (
            (BUYER_NORD.cvr, Role.BUYER_ADMIN),
            (BUYER_NORD.cvr, Role.AUDITOR),
            ("system", Role.OPERATOR),
            (BUYER_SYD.cvr, Role.BUYER_ADMIN),
            (STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
        )
    }
    operator = api.key("system", Role.OPERATOR)
    unknown = client.get("/v1/adjustments", params={"buyer_ean": "5790000000005"}, headers=operator)
    bad = client.get("/v1/adjustments", params={"buyer_ean": "5798000000019"}, headers=operator)

    assert [200, 200, 200, 404, 404] == [r.status_code for r in statuses.values()]
    mine = statuses[BUYER_NORD.cvr, Role.BUYER_ADMIN].json()
    assert (BUYER_NORD.ean, "2025-03", []) == (
        mine["buyer_ean"],
        mine["month"],
        mine["adjustments"],
    )
    assert "buyer-not-found" == statuses[BUYER_SYD.cvr, Role.BUYER_ADMIN].json()["rule"]
    assert 404 == unknown.status_code
    assert (422, "query.buyer_ean") == (bad.status_code, bad.json()["field"])


# --- deadlines -------------------------------------------------------------------------------


def test_deadlines_are_those_of_the_callers_contracts_saying_who_must_act(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    syd_contracts = {
        i["contract_id"] for i in client.get("/v1/contracts", headers=syd).json()["items"]
    }

    everything = client.get("/v1/deadlines", headers=syd).json()["items"]
    buyers_own = client.get("/v1/deadlines", params={"party": "buyer"}, headers=syd).json()
    operator = client.get("/v1/deadlines", headers=api.key("system", Role.OPERATOR)).json()

    assert {i["contract_id"] for i in everything} == syd_contracts
    assert {"buyer", "provider"} == {i["party"] for i in everything}
    for item in everything:
        expected = BUYER_SYD.cvr if item["party"] == "buyer" else item["organisation"]
        assert expected == item["organisation"]
    assert {i["organisation"] for i in everything if i["party"] == "provider"} == {
        STOTTEPAKKEN.registration,
        GENTOFTE.registration,
    }
    assert buyers_own["items"]
    assert {"buyer"} == {i["party"] for i in buyers_own["items"]}
    assert [] == operator["items"]
    nord_contract = demo_contract(api, BUYER_NORD.cvr, STOTTEPAKKEN.registration)
    foreign = client.get("/v1/deadlines", params={"contract_id": nord_contract}, headers=syd)
    assert (200, []) == (foreign.status_code, foreign.json()["items"])


def test_deadlines_are_filtered_by_status_on_a_day(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    gentofte = api.key(GENTOFTE.registration, Role.PROVIDER_ADMIN)

    met = client.get(
        "/v1/deadlines",
        params={"status": "met", "as_of": "2025-06-01", "kind": "renegotiation-answer"},
        headers=syd,
    ).json()
    still_open = client.get(
        "/v1/deadlines",
        params={"status": "open", "as_of": "2025-05-01", "kind": "renegotiation-answer"},
        headers=syd,
    ).json()
    notices = client.get(
        "/v1/deadlines", params={"kind": "absence-notice", "as_of": "2025-07-01"}, headers=gentofte
    ).json()

    assert [("renegotiation:R1", "2025-05-10", "2025-05-03", "buyer")] == [
        (i["key"], i["due_on"], i["met_on"], i["party"]) for i in met["items"]
    ]
    assert "2025-06-01" == met["as_of"]
    assert [("open", None)] == [(i["status"], i["done_on"]) for i in still_open["items"]]
    assert [("provider", GENTOFTE.registration, "met", "2025-06-06")] == [
        (i["party"], i["organisation"], i["status"], i["done_on"]) for i in notices["items"]
    ]


def test_deadlines_come_in_pages_that_add_up_to_the_whole_list(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    whole = client.get("/v1/deadlines", headers=syd).json()
    assert len(whole["items"]) >= 3, "the demo gives Syd several deadlines"
    assert whole["next_cursor"] is None

    paged: list[tuple[str, str, str]] = []
    after = None
    for _ in range(len(whole["items"]) + 1):
        params = {"limit": 2} | ({"after": after} if after else {})
        page = client.get("/v1/deadlines", params=params, headers=syd).json()
        assert len(page["items"]) <= 2
        paged += [(i["due_on"], i["contract_id"], i["key"]) for i in page["items"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert [(i["due_on"], i["contract_id"], i["key"]) for i in whole["items"]] == paged

    bad = client.get("/v1/deadlines", params={"after": "yesterday"}, headers=syd)
    assert (422, "query.after") == (bad.status_code, bad.json()["field"])


def test_deadlines_are_filtered_by_a_due_window(api):
    client = api.client
    syd = api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN)
    head = api.head()

    def due(**params: Any) -> list[str]:
        response = client.get("/v1/deadlines", params=params, headers=syd)
        assert 200 == response.status_code, response.text
        return [i["due_on"] for i in response.json()["items"]]

    # Today is 3 March 2025; the earliest Syd deadline is the follow-up due 3 May (day 61).
    assert [] == due(within=60)
    assert ["2025-05-03"] == due(within=61)
    assert ["2025-05-03", "2025-05-10"] == due(due_from="2025-05-01", due_to="2025-05-10")
    assert all("2025-12-01" <= day for day in due(due_from="2025-12-01"))
    both = client.get("/v1/deadlines", params={"within": 5, "due_to": "2025-05-01"}, headers=syd)
    reversed_window = client.get(
        "/v1/deadlines", params={"due_from": "2025-05-10", "due_to": "2025-05-01"}, headers=syd
    )
    assert (422, "query.within") == (both.status_code, both.json()["field"])
    assert (422, "query.due_to") == (reversed_window.status_code, reversed_window.json()["field"])
    assert head == api.head()


# --- billing feed -----------------------------------------------------------------------------


def test_the_billing_feed_of_a_contract_lists_each_lines_priced_periods(api):
    nord = api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN)
    provider = api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN)
    contract = demo_contract(api, BUYER_NORD.cvr, STOTTEPAKKEN.registration)
    path = f"/v1/contracts/{contract}/billing-feed"

    response = api.client.get(path, headers=nord)

    assert 200 == response.status_code, response.text
    rows = response.json()["rows"]
    assert [
        ("1", "2025-02-01", "2025-12-31", "3", "Drafted"),
        ("1", "2026-01-01", None, "3", "RegulatedByTariffSheet"),
        ("2", "2025-02-01", "2025-12-31", "2:2", "Drafted"),
        ("2", "2026-01-01", None, "2:2", "RegulatedByTariffSheet"),
    ] == [(r["line_id"], r["start"], r["end"], r["step"], r["cause"]) for r in rows]
    first = rows[0]
    assert sum(money(v) for v in first["components"].values()) == money(first["daily"])
    assert response.json() == api.client.get(path, headers=provider).json()


# --- visibility -------------------------------------------------------------------------------


def test_a_non_party_gets_404_on_every_contract_read(api):
    client = api.client
    contract = demo_contract(api, BUYER_NORD.cvr, STOTTEPAKKEN.registration)
    paths = [
        f"/v1/contracts/{contract}/price-timeline",
        f"/v1/contracts/{contract}/price-timeline?known_at=2025-06-01T12:00:00%2B02:00",
        f"/v1/contracts/{contract}/billing-feed",
        f"/v1/contracts/{contract}/history",
    ]
    strangers = [
        api.key(BUYER_SYD.cvr, Role.BUYER_ADMIN),
        api.key(BUYER_SYD.cvr, Role.AUDITOR),
        api.key(GENTOFTE.registration, Role.PROVIDER_ADMIN),
        api.key("system", Role.OPERATOR),
    ]
    parties = [
        api.key(BUYER_NORD.cvr, Role.BUYER_ADMIN),
        api.key(BUYER_NORD.cvr, Role.AUDITOR),
        api.key(STOTTEPAKKEN.registration, Role.PROVIDER_ADMIN),
    ]

    for path in paths:
        for stranger in strangers:
            response = client.get(path, headers=stranger)
            assert 404 == response.status_code, path
            assert "contract-not-found" == response.json()["rule"]
        for party in parties:
            assert 200 == client.get(path, headers=party).status_code, path
