"""The price function's invariants hold on stored and reloaded contracts, on every backend.

Each case is a random but reproducible history (``random.Random(seed)``),
recorded through the application with the clock moved between commands:
sheets published, a contract drafted and placed, a pkt. 16 renegotiation
approved, a regulation to the next year's sheet, notice and its ending.
A fresh ledger instance then reads the store, and the invariants are
checked on the contract as known before and after each change.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest

from ledger.clock import local_instant
from ledger.pricing import PricePeriod, accrued, price_timeline
from ledger.values import NoticePeriod, Party, PaymentOption, RequestNature
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    START,
    line_85,
    line_104,
    sheet_prices,
    terms,
)

D = dt.date
ONE_DAY = dt.timedelta(days=1)
HORIZON = D(2028, 12, 31)
SEEDS = [7, 15, 17, 23]  # options 1-4, both parties, dates before and after receipt
ADMIN = {Party.BUYER: BUYER_ADMIN, Party.PROVIDER: PROVIDER_ADMIN}


@dataclass(frozen=True)
class Case:
    """The random choices of one history."""

    rng: random.Random
    option: PaymentOption
    days_after_reoccupation: int
    notice_months: int
    requested_by: Party
    received_on: dt.date
    proposed_step: str
    requested_effective_from: dt.date | None
    answered_on: dt.date
    regulated_on: dt.date
    notice_by: Party
    notice_on: dt.date
    reoccupied_on: dt.date | None
    agreed_payment_end: dt.date | None


def draw_case(seed: int) -> Case:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography

    def day(first: dt.date, last: dt.date) -> dt.date:
        return first + dt.timedelta(days=rng.randint(0, (last - first).days))

    requested_by = rng.choice(list(Party))
    received_on = day(D(2025, 2, 1), D(2025, 10, 31))
    requested = None
    if rng.random() < 0.7:
        # Either party may wish for a date before the receipt; it must not take effect.
        requested = max(START, received_on + dt.timedelta(days=rng.randint(-40, 40)))
    option = rng.choice(list(PaymentOption))
    notice_on = day(D(2026, 4, 1), D(2026, 9, 30))
    return Case(
        rng=rng,
        option=option,
        days_after_reoccupation=rng.randint(0, 45),
        notice_months=rng.randint(1, 6),
        requested_by=requested_by,
        received_on=received_on,
        proposed_step=rng.choice(["0", "1", "2", "4", "5", "6", "7", "8"]),
        requested_effective_from=requested,
        answered_on=received_on + dt.timedelta(days=rng.randint(0, 45)),
        regulated_on=day(D(2026, 1, 2), D(2026, 3, 31)),
        notice_by=rng.choice(list(Party)),
        notice_on=notice_on,
        reoccupied_on=(
            notice_on + dt.timedelta(days=rng.randint(0, 200)) if rng.random() < 0.7 else None
        ),
        agreed_payment_end=(
            notice_on + dt.timedelta(days=rng.randint(0, 240))
            if option is PaymentOption.OTHER and rng.random() < 0.7
            else None
        ),
    )


@dataclass(frozen=True)
class Recorded:
    """What the history recorded, and when."""

    contract_id: object
    request_id: str
    answer_recorded: dt.datetime
    regulation_recorded: dt.datetime
    last_of_notice: dt.date


def record(ledger, clock, case: Case) -> Recorded:
    """Record the history of ``case`` through the application, moving the clock."""
    for year, base in ((2025, 100), (2026, 110)):
        ledger.publish_tariff_sheet(
            offer=PROVIDER.offer,
            year=year,
            prices=sheet_prices(base=Decimal(base)),
            source=f"Takstblad {year}",
            actor=PROVIDER_ADMIN,
        )
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104()],
        terms=terms(
            payment_option=case.option,
            notice_period=NoticePeriod(months=case.notice_months),
            payment_days_after_reoccupation=case.days_after_reoccupation,
            payment_other_text="Efter aftale" if case.option is PaymentOption.OTHER else None,
        ),
        actor=BUYER_ADMIN,
    )
    ledger.offer_place(contract_id, START, actor=PROVIDER_ADMIN)
    ledger.finalise_placement(contract_id, START, actor=OPERATOR)

    clock.set(local_instant(case.received_on, 12))
    request_id = ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=case.requested_by,
        received_on=case.received_on,
        nature=RequestNature.LASTING,
        description="Ændret behov, jf. bilag 3",
        actor=ADMIN[case.requested_by],
        proposed_step=case.proposed_step,
        requested_effective_from=case.requested_effective_from,
    )
    answer_recorded = local_instant(case.answered_on, 13)
    clock.set(answer_recorded)
    ledger.answer_renegotiation(
        contract_id,
        request_id,
        answered_by=case.requested_by.other,
        answered_on=case.answered_on,
        approved=True,
        agreement_ref="Aftale om ændret trin",
        actor=ADMIN[case.requested_by.other],
    )

    regulation_recorded = local_instant(case.regulated_on)
    clock.set(regulation_recorded)
    ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=OPERATOR)

    clock.set(local_instant(case.notice_on, 12))
    last_of_notice = ledger.give_notice(
        contract_id, given_by=case.notice_by, given_on=case.notice_on, actor=ADMIN[case.notice_by]
    )
    if case.reoccupied_on is not None:
        clock.set(local_instant(case.reoccupied_on, 13))
        ledger.record_reoccupation(contract_id, case.reoccupied_on, actor=PROVIDER_ADMIN)
    if case.agreed_payment_end is not None:
        clock.set(local_instant(case.notice_on + dt.timedelta(days=250), 14))
        ledger.agree_payment_end(
            contract_id, case.agreed_payment_end, agreement_ref="Aftale", actor=BUYER_ADMIN
        )
    return Recorded(contract_id, request_id, answer_recorded, regulation_recorded, last_of_notice)


def expected_payment_end(case: Case, last: dt.date) -> dt.date:
    """Pkt. 9 and G14, computed here independently of the contract."""
    if case.option is PaymentOption.OTHER:
        return case.agreed_payment_end or last
    if case.option is PaymentOption.CONTINUES_WHOLE_NOTICE or case.reoccupied_on is None:
        return last
    filled_from = case.reoccupied_on - ONE_DAY
    if case.option is PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED:
        filled_from += dt.timedelta(days=case.days_after_reoccupation)
    return min(last, filled_from)


def days_between(rng: random.Random, first: dt.date, last: dt.date, count: int) -> list[dt.date]:
    span = (last - first).days
    return [first + dt.timedelta(days=rng.randint(0, span)) for _ in range(count)]


@pytest.fixture(params=SEEDS, ids=lambda seed: f"seed{seed}")
def history(request, make_ledger, clock):
    """A recorded random history, its choices, and a fresh ledger instance to read it."""
    case = draw_case(request.param)
    recorded = record(make_ledger(), clock, case)
    return case, recorded, make_ledger()


def test_an_approved_renegotiation_changes_no_stored_day_before_its_receipt(history):
    """As known before and after the answer, every day before the receipt is priced the same."""
    case, recorded, reader = history
    before = recorded.answer_recorded - dt.timedelta(minutes=30)
    after = recorded.answer_recorded
    day_before_receipt = case.received_on - ONE_DAY

    def line_timeline(known_at: dt.datetime) -> list[PricePeriod]:
        contract = reader.get_contract(recorded.contract_id, known_at=known_at)
        sheets = reader.sheets(known_at=known_at)
        return price_timeline(contract, "1", sheets, end=day_before_receipt)

    assert line_timeline(before) == line_timeline(after)
    for day in days_between(case.rng, START, day_before_receipt, 8):
        assert reader.prices_on(recorded.contract_id, day, known_at=before) == (
            reader.prices_on(recorded.contract_id, day, known_at=after)
        )
    answered = reader.get_contract(recorded.contract_id, known_at=after)
    effective = answered.renegotiations[recorded.request_id].effective_from
    assert effective is not None
    assert case.received_on <= effective
    on_effective = reader.prices_on(recorded.contract_id, effective, known_at=after)["1"]
    assert on_effective is not None
    assert case.proposed_step == on_effective.step


def test_a_stored_regulation_changes_no_day_before_1_january(history):
    """As known before and after the 2026 regulation, 2025 is priced the same; 2026 moves."""
    case, recorded, reader = history
    before = recorded.regulation_recorded - dt.timedelta(minutes=1)
    after = recorded.regulation_recorded
    new_year = D(2026, 1, 1)

    for line_id in ("1", "2"):
        timelines = [
            price_timeline(
                reader.get_contract(recorded.contract_id, known_at=known_at),
                line_id,
                reader.sheets(known_at=known_at),
                end=new_year - ONE_DAY,
            )
            for known_at in (before, after)
        ]
        assert timelines[0] == timelines[1]
    for day in days_between(case.rng, START, new_year - ONE_DAY, 8):
        assert reader.prices_on(recorded.contract_id, day, known_at=before) == (
            reader.prices_on(recorded.contract_id, day, known_at=after)
        )
    first_before = reader.prices_on(recorded.contract_id, new_year, known_at=before)["2"]
    first_after = reader.prices_on(recorded.contract_id, new_year, known_at=after)["2"]
    assert first_before is not None
    assert first_after is not None
    assert (2025, 2026) == (first_before.sheet_year, first_after.sheet_year)


def test_nothing_stored_is_billed_after_the_payment_end(history):
    """Every day to the payment end is billable, none after it; the timeline stops there."""
    case, recorded, reader = history
    payment_end = expected_payment_end(case, recorded.last_of_notice)
    contract = reader.get_contract(recorded.contract_id)
    sheets = reader.sheets()

    assert payment_end == contract.payment_end
    for line_id in ("1", "2"):
        periods = price_timeline(contract, line_id, sheets, end=HORIZON)
        assert payment_end == periods[-1].end
        assert Decimal(0) == accrued(contract, line_id, payment_end + ONE_DAY, HORIZON, sheets)
    for day in days_between(case.rng, payment_end + ONE_DAY, HORIZON, 6):
        assert {"1": None, "2": None} == reader.prices_on(recorded.contract_id, day)
    for day in [payment_end, *days_between(case.rng, START, payment_end, 5)]:
        assert None not in reader.prices_on(recorded.contract_id, day).values()


def test_stored_accruals_add_up_over_any_split(history):
    """accrued(a..b) == accrued(a..m) + accrued(m+1..b) on the reloaded contract."""
    case, recorded, reader = history
    contract = reader.get_contract(recorded.contract_id)
    sheets = reader.sheets()

    for _ in range(25):
        a, m, b = sorted(days_between(case.rng, D(2024, 12, 1), D(2027, 6, 30), 3))
        if m == b:
            continue
        line_id = case.rng.choice(["1", "2"])
        assert accrued(contract, line_id, a, b, sheets) == accrued(
            contract, line_id, a, m, sheets
        ) + accrued(contract, line_id, m + ONE_DAY, b, sheets)


def test_the_timeline_through_the_application_equals_the_pure_function_on_the_reload(history):
    """Ledger.price_timeline (as known now) is the pure timeline of the reloaded contract."""
    _case, recorded, reader = history
    contract = reader.get_contract(recorded.contract_id)

    for line_id in ("1", "2"):
        assert price_timeline(
            contract, line_id, reader.sheets(), end=HORIZON
        ) == reader.price_timeline(recorded.contract_id, line_id, end=HORIZON)
