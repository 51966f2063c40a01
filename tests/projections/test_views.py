"""Queries of the contract summary, price timeline and deadlines views."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from ledger import errors
from ledger.deadlines import DeadlineKind, DeadlineStatus
from ledger.values import AbsenceKind, Party, RequestNature
from projections.contract_summary import paragraph_tags
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    PROVIDER_CVR,
    START,
    TERMS,
    line_85,
    line_104,
    publish_sheet,
)
from tests.projections.conftest import World

D = dt.date


def signed(world: World, cpr: str = "0101901009") -> uuid.UUID:
    """A §85 step 3 + §104 2:2 contract from 1 January 2025, signed by both."""
    ledger = world.ledger
    citizen = world.runtime.citizens.register(cpr, "Test Borger")
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=citizen,
        lines=[line_85(), line_104()],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )
    ledger.offer_place(contract_id, START, actor=PROVIDER_ADMIN)
    ledger.finalise_placement(contract_id, START, actor=OPERATOR)
    ledger.sign(contract_id, Party.BUYER, START, actor=BUYER_ADMIN)
    ledger.sign(contract_id, Party.PROVIDER, START, actor=PROVIDER_ADMIN)
    return contract_id


def test_summary_shows_current_prices_and_derives_status_from_today(world: World) -> None:
    publish_sheet(world.ledger, 2025)
    contract_id = signed(world)
    world.ledger.give_notice(
        contract_id, given_by=Party.BUYER, given_on=D(2025, 3, 1), actor=BUYER_ADMIN
    )
    world.views.catch_up()
    # Sheet base 100: §85 basis 50 + step 3 service 130 = 180; §104 basis 50 + 2:2 150 + night 50.
    before = world.views.summary.get(contract_id, D(2025, 5, 31))
    assert before is not None
    assert before.status == "under-notice"
    assert [line.daily for line in before.lines] == [Decimal(180), Decimal(250)]
    assert before.total_daily == Decimal(430)
    assert before.last_day == D(2025, 6, 1)  # three months' notice from 1 March
    after = world.views.summary.get(contract_id, D(2025, 6, 2))
    assert after is not None
    assert after.status == "ended"
    assert after.total_daily == 0
    contract = world.ledger.get_contract(contract_id)
    for day in (D(2025, 5, 31), D(2025, 6, 1), D(2025, 6, 2)):
        summary = world.views.summary.get(contract_id, day)
        assert summary is not None
        assert summary.status == contract.status(day)


def test_summary_filters(world: World) -> None:
    publish_sheet(world.ledger, 2025)
    first = signed(world)
    second = signed(world, cpr="0202851234")
    world.ledger.give_notice(
        second, given_by=Party.BUYER, given_on=D(2025, 1, 2), actor=BUYER_ADMIN
    )
    world.views.catch_up()
    summary = world.views.summary
    today = D(2025, 2, 1)
    both = {first, second}
    assert {s.contract_id for s in summary.search(today=today, buyer=BUYER.cvr)} == both
    assert {s.contract_id for s in summary.search(today=today, buyer=BUYER.ean)} == both
    assert summary.search(today=today, buyer="12345678") == []
    assert {s.contract_id for s in summary.search(today=today, provider=PROVIDER_CVR)} == both
    assert {s.contract_id for s in summary.search(today=today, offer=PROVIDER.offer)} == both
    assert {s.contract_id for s in summary.search(today=today, paragraph="85")} == both
    assert summary.search(today=today, paragraph="§107") == []
    assert [s.contract_id for s in summary.search(today=today, status="signed")] == [first]
    assert [s.contract_id for s in summary.search(today=today, status="under-notice")] == [second]
    assert [s.contract_id for s in summary.search(today=D(2025, 7, 1), status="ended")] == [second]
    page = summary.search(today=today, limit=1)
    rest = summary.search(today=today, after=page[0].contract_id)
    assert [s.contract_id for s in page + rest] == sorted(both, key=str)


def test_paragraph_tags_normalise_the_written_paragraph() -> None:
    assert paragraph_tags("ABL §105/SEL §85") == {"§105", "§85"}
    assert paragraph_tags("SEL § 104") == {"§104"}
    assert paragraph_tags("85") == {"§85"}


def test_timeline_marks_retroactive_periods_with_their_cause(world: World) -> None:
    publish_sheet(world.ledger, 2025)
    contract_id = signed(world)
    world.clock.set(world.clock.at_local(D(2025, 5, 3)).now())
    request = world.ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 4, 10),
        nature=RequestNature.LASTING,
        description="lasting increase",
        proposed_step="5",
        actor=PROVIDER_ADMIN,
    )
    world.ledger.answer_renegotiation(
        contract_id,
        request,
        answered_by=Party.BUYER,
        answered_on=D(2025, 5, 3),
        approved=True,
        agreement_ref="Aftale 7",
        actor=BUYER_ADMIN,
    )
    world.views.catch_up()
    periods = world.views.timeline.periods(contract_id, "1")
    assert [(p.start, p.end, p.step, p.daily) for p in periods] == [
        (D(2025, 1, 1), D(2025, 4, 9), "3", Decimal(180)),
        (D(2025, 4, 10), None, "5", Decimal(200)),  # basis 50 + step 5 service 150
    ]
    assert periods[1].cause == "RenegotiationAnswered"
    assert periods[1].recorded_on == D(2025, 5, 3)
    assert periods[1].retroactive
    assert world.views.timeline.price_error(contract_id) is None


def test_missing_sheet_is_reported_not_billed_as_zero(world: World) -> None:
    contract_id = signed(world)
    world.views.catch_up()
    assert "no tariff sheet for 2025" in (world.views.timeline.price_error(contract_id) or "")
    summary = world.views.summary.get(contract_id, D(2025, 2, 1))
    assert summary is not None
    assert summary.price_error is not None
    publish_sheet(world.ledger, 2025)
    world.views.catch_up()
    assert world.views.timeline.price_error(contract_id) is None
    assert world.views.billing.feed(contract_id)


def statuses(world: World, contract_id: uuid.UUID, kind: DeadlineKind, today: dt.date) -> list[str]:
    rows = world.views.deadlines.deadlines(today=today, contract_id=contract_id, kind=kind)
    return [r.status.value for r in rows]


def test_absence_notice_deadline_moves_through_its_states(world: World) -> None:
    contract_id = signed(world)
    absence = world.ledger.start_absence(
        contract_id, AbsenceKind.HOSPITAL, D(2025, 3, 1), actor=PROVIDER_ADMIN
    )
    world.views.catch_up()
    kind = DeadlineKind.ABSENCE_NOTICE
    assert statuses(world, contract_id, kind, D(2025, 3, 8)) == ["open"]  # due day
    assert statuses(world, contract_id, kind, D(2025, 3, 9)) == ["overdue"]
    world.ledger.notify_absence(contract_id, absence, D(2025, 3, 10), actor=PROVIDER_ADMIN)
    world.views.catch_up()
    assert statuses(world, contract_id, kind, D(2025, 3, 10)) == ["missed"]


def test_deadlines_by_organisation_status_and_window(world: World) -> None:
    contract_id = signed(world)
    request = world.ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 3, 1),
        nature=RequestNature.LASTING,
        description="lasting increase",
        proposed_step="5",
        actor=PROVIDER_ADMIN,
    )
    world.views.catch_up()
    deadlines = world.views.deadlines
    today = D(2025, 3, 20)
    due_soon = deadlines.deadlines(
        today=today,
        organisation=BUYER.cvr,
        status=DeadlineStatus.OPEN,
        due_from=today,
        due_to=today + dt.timedelta(days=14),
    )
    # The 30-day answer (pkt. 16) and the first follow-up of each line (start + 3 months, G20).
    assert [(r.deadline.kind, r.deadline.due_on) for r in due_soon] == [
        (DeadlineKind.RENEGOTIATION_ANSWER, D(2025, 3, 31)),
        (DeadlineKind.FOLLOW_UP, D(2025, 4, 1)),
        (DeadlineKind.FOLLOW_UP, D(2025, 4, 1)),
    ]
    provider = deadlines.deadlines(
        today=today, organisation=PROVIDER_CVR, status=DeadlineStatus.OPEN
    )
    assert {r.deadline.kind for r in provider} == {DeadlineKind.FRAMEWORK_NOTICE}
    assert all(r.deadline.party is Party.PROVIDER for r in provider)
    world.ledger.answer_renegotiation(
        contract_id,
        request,
        answered_by=Party.BUYER,
        answered_on=D(2025, 3, 25),
        approved=False,
        reason="not lasting",
        actor=BUYER_ADMIN,
    )
    world.views.catch_up()
    met = deadlines.deadlines(
        today=D(2025, 3, 25), contract_id=contract_id, kind=DeadlineKind.RENEGOTIATION_ANSWER
    )
    assert [(r.status, r.met_on) for r in met] == [(DeadlineStatus.MET, D(2025, 3, 25))]


def test_the_framework_deadline_recurs_every_year_the_contract_runs(world: World) -> None:
    contract_id = signed(world)
    world.views.catch_up()
    rows = world.views.deadlines.deadlines(
        today=D(2027, 1, 5), contract_id=contract_id, kind=DeadlineKind.FRAMEWORK_NOTICE
    )
    assert [(r.deadline.due_on, r.status) for r in rows] == [
        (D(2025, 12, 1), DeadlineStatus.OVERDUE),
        (D(2026, 12, 1), DeadlineStatus.OVERDUE),
        (D(2027, 12, 1), DeadlineStatus.OPEN),
    ]


def test_invoice_rules_refuse_and_record_nothing(world: World) -> None:
    publish_sheet(world.ledger, 2025)
    signed(world)
    ledger, billing = world.ledger, world.views.billing
    world.views.catch_up()
    world.clock.set(world.clock.at_local(D(2025, 2, 3)).now())
    head = world.views.head()
    with pytest.raises(errors.NotPermitted):
        ledger.issue_invoices(D(2025, 2, 1), billing, actor=BUYER_ADMIN)
    with pytest.raises(errors.InvoiceTooEarly):
        ledger.issue_invoices(D(2025, 4, 1), billing, actor=OPERATOR)
    with pytest.raises(errors.BuyerNotFound):
        ledger.issue_invoices(D(2025, 2, 1), billing, actor=OPERATOR, buyer_ean="5798000000025")
    assert world.views.head() == head

    ledger.issue_invoices(D(2025, 3, 1), billing, actor=OPERATOR)  # one month ahead is allowed
    world.views.catch_up()
    head = world.views.head()
    with pytest.raises(errors.InvoicesOutOfOrder):
        ledger.issue_invoices(D(2025, 2, 1), billing, actor=OPERATOR)
    assert world.views.head() == head
