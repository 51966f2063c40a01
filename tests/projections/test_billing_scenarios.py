"""Billing scenarios end to end: contracts through the use cases, invoices from the view.

Each scenario moves the clock through realistic business days, records what
the parties did, and cuts monthly invoices per buyer EAN from the billing
view. Every expected amount is worked out by hand in the comment next to it
(never with the code under test). Rules: Bilag 1 pkt. 5 (respite), 6
(invoices), 8 (regulation), 9 (payment during notice), 16 (renegotiation),
and the gaps G4 (daily proration, rounding once per line), G13 (effective
date), G14 (payment end capped at the notice end) and G22 (billed to the
payment end).

Prices used (daily, DKK):

* agreed line (særforanstaltning): basis 400.00 + service 600.00 = 1000.00;
* §104 line on the example sheet (base 100): basis 50 + service of step
  2:2 (100 + 5 x 10 = 150) + night 50 = 250.00; step 3:1 (100 + 8 x 10 =
  180) gives 280.00; on the base-120 sheet step 2:2 is 60 + 170 + 60 = 290.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger.deadlines import DeadlineKind, DeadlineStatus
from ledger.errors import BuyerNotFound
from ledger.values import (
    ComponentPrice,
    IndexSource,
    Party,
    PaymentOption,
    RequestNature,
    RescissionGround,
    RespiteBasis,
)
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    OPERATOR,
    PAYER,
    PROVIDER,
    PROVIDER_ADMIN,
    sheet_prices,
    terms,
)
from tests.projections.conftest import World
from tests.projections.scenario import (
    Billing,
    adjustment_of,
    agreed,
    has_line,
    line_of,
    prices_104,
    segments,
    sheet_line,
)

D = dt.date
DAY = Decimal  # a count of billable days
DKK = Decimal


@pytest.fixture
def billing(world: World) -> Billing:
    """The world seen from billing."""
    return Billing(world)


# --- pkt. 16: renegotiation -----------------------------------------------------------


def test_an_approval_after_the_month_was_invoiced_corrects_it_from_the_received_day(billing):
    """Pkt. 16: approved 23 days after receipt, the price applies from the receipt day."""
    ledger = billing.world.ledger
    # Given a særforanstaltning at 1000.00 a day from 1 March, invoiced in arrears
    contract = billing.contract(agreed(D(2025, 3, 1)), drafted_on=D(2025, 2, 20))  # v1-v5
    # and the provider's description of a lasting change, received on 10 March
    billing.on(D(2025, 3, 10))
    request = ledger.request_renegotiation(
        contract,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 3, 10),
        nature=RequestNature.LASTING,
        description="Varigt øget behov om natten",
        proposed_prices=[
            ComponentPrice("basis", DKK("400.00")),
            ComponentPrice("service", DKK("800.00")),
        ],
        actor=PROVIDER_ADMIN,
    )  # v6
    # and March invoiced on 1 April, before the answer: the old price still holds
    march = billing.issue(D(2025, 3, 1), on=D(2025, 4, 1))
    assert DKK("31000.00") == line_of(march, contract).amount  # 31 x 1000.00
    assert () == march.adjustments

    # When the buyer approves on 2 April, 23 days after receipt
    billing.on(D(2025, 4, 2))
    ledger.answer_renegotiation(
        contract,
        request,
        answered_by=Party.BUYER,
        answered_on=D(2025, 4, 2),
        approved=True,
        agreement_ref="Tillæg 1 til kontrakten",
        actor=BUYER_ADMIN,
    )  # v7

    # Then the correction of March is pending before April is invoiced ...
    [pending] = billing.pending(D(2025, 4, 1))
    assert (D(2025, 3, 1), DKK("4400.00")) == (pending.month, pending.difference)  # 22 x 200.00
    # ... while issuing March again returns the March invoice as issued, recording nothing
    head = billing.head()
    again = billing.issue(D(2025, 3, 1), on=D(2025, 4, 3))
    assert head == billing.head()
    assert (march.id, march.version, march.lines, march.adjustments) == (
        again.id,
        again.version,
        again.lines,
        again.adjustments,
    )
    assert DKK("31000.00") == again.total  # 31 x 1000.00, as first issued
    # ... and the April invoice carries it, with April at the new price
    april = billing.issue(D(2025, 4, 1), on=D(2025, 5, 1))
    line = line_of(april, contract)
    assert [(D(2025, 4, 1), D(2025, 4, 30), DAY(30), DKK("1200.00"))] == segments(line)
    assert DKK("36000.00") == line.amount  # 30 x 1200.00
    correction = adjustment_of(april, contract, D(2025, 3, 1))
    assert (D(2025, 3, 1), D(2025, 3, 31)) == (correction.period_start, correction.period_end)
    assert (DAY(31), DAY(31)) == (correction.days_before, correction.days_now)
    assert ((DKK("1000.00"),), (DKK("1000.00"), DKK("1200.00"))) == (
        correction.daily_before,
        correction.daily_now,
    )
    assert DKK("31000.00") == correction.amount_before  # 31 x 1000.00
    assert DKK("35400.00") == correction.amount_now  # 9 x 1000.00 + 22 x 1200.00 (10th-31st)
    assert DKK("4400.00") == correction.difference  # 35400.00 - 31000.00 = 22 x 200.00
    assert ("RenegotiationAnswered v7",) == correction.causes
    assert 1 == len(april.adjustments)
    assert DKK("40400.00") == april.total  # 36000.00 + 4400.00

    # And once the April invoice is in the view nothing is pending any more
    assert [] == billing.pending(D(2025, 5, 1))
    may = billing.issue(D(2025, 5, 1), on=D(2025, 6, 2))
    assert DKK("37200.00") == may.total  # 31 x 1200.00, no adjustments
    assert () == may.adjustments


def test_a_late_approval_misses_the_deadline_but_still_reaches_back_to_the_receipt(billing):
    """Pkt. 16 and G2: answered after 30 days, the deadline is missed; the anchor holds."""
    ledger, views = billing.world.ledger, billing.world.views
    # Given a §104 line on step 2:2 (250.00 a day) from 1 January, invoiced in advance
    billing.publish(2025, sheet_prices(), on=D(2024, 10, 1))
    contract = billing.contract(sheet_line(D(2025, 1, 1)), drafted_on=D(2024, 12, 15))
    billing.issue(D(2025, 1, 1), on=D(2024, 12, 20))
    billing.issue(D(2025, 2, 1), on=D(2025, 1, 20))
    # and a request for step 3:1 (280.00 a day) received on 18 February, due 20 March
    billing.on(D(2025, 2, 18))
    request = ledger.request_renegotiation(
        contract,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 2, 18),
        nature=RequestNature.LASTING,
        description="Varigt øget støttebehov, jf. Bilag 3",
        proposed_step="3:1",
        actor=PROVIDER_ADMIN,
    )  # v6
    billing.issue(D(2025, 3, 1), on=D(2025, 2, 20))
    billing.issue(D(2025, 4, 1), on=D(2025, 3, 20))
    views.catch_up(["deadlines"])
    [open_] = views.deadlines.deadlines(
        today=D(2025, 3, 21), kind=DeadlineKind.RENEGOTIATION_ANSWER
    )
    assert (D(2025, 3, 20), DeadlineStatus.OVERDUE) == (open_.deadline.due_on, open_.status)

    # When the buyer approves on 24 March, 34 days after receipt
    billing.on(D(2025, 3, 24))
    ledger.answer_renegotiation(
        contract,
        request,
        answered_by=Party.BUYER,
        answered_on=D(2025, 3, 24),
        approved=True,
        agreement_ref="Genforhandlet kontrakt af 24.03.2025",
        actor=BUYER_ADMIN,
    )  # v7

    # Then the deadline shows as missed
    views.catch_up(["deadlines"])
    [answered] = views.deadlines.deadlines(
        today=D(2025, 3, 24), kind=DeadlineKind.RENEGOTIATION_ANSWER
    )
    assert (DeadlineStatus.MISSED, D(2025, 3, 24)) == (answered.status, answered.deadline.done_on)
    assert ledger.get_contract(contract).renegotiations[request].late
    # and the May invoice corrects February from the 18th, and March and April whole
    may = billing.issue(D(2025, 5, 1), on=D(2025, 4, 20))
    assert DKK("8680.00") == line_of(may, contract).amount  # 31 x 280.00
    february = adjustment_of(may, contract, D(2025, 2, 1))
    assert DKK("7000.00") == february.amount_before  # 28 x 250.00
    assert DKK("7330.00") == february.amount_now  # 17 x 250.00 + 11 x 280.00 = 4250 + 3080
    assert DKK("330.00") == february.difference  # 11 days (18th-28th) x 30.00
    assert (DKK("250.00"), DKK("280.00")) == february.daily_now
    march = adjustment_of(may, contract, D(2025, 3, 1))
    assert (DKK("7750.00"), DKK("8680.00")) == (march.amount_before, march.amount_now)
    # 31 x 250.00 and 31 x 280.00
    assert DKK("930.00") == march.difference  # 31 x 30.00
    april = adjustment_of(may, contract, D(2025, 4, 1))
    assert (DKK("7500.00"), DKK("8400.00")) == (april.amount_before, april.amount_now)
    # 30 x 250.00 and 30 x 280.00
    assert DKK("900.00") == april.difference  # 30 x 30.00
    assert {("RenegotiationAnswered v7",)} == {a.causes for a in may.adjustments}
    assert 3 == len(may.adjustments)
    assert DKK("10840.00") == may.total  # 8680 + 330 + 930 + 900


def test_a_buyer_initiated_reduction_credits_from_the_agreed_day(billing):
    """Pkt. 16 and G13: a buyer's request takes effect from the day agreed in writing."""
    ledger = billing.world.ledger
    # Given a §104 line on step 2:2 (250.00 a day) from 1 May, invoiced in advance
    billing.publish(2025, sheet_prices(), on=D(2024, 10, 1))
    contract = billing.contract(sheet_line(D(2025, 5, 1)), drafted_on=D(2025, 4, 20))  # v1-v5
    billing.issue(D(2025, 5, 1), on=D(2025, 4, 25))
    # and the buyer's request for step 2:1 (50 + 140 + 50 = 240.00), received on 12 May
    billing.on(D(2025, 5, 12))
    request = ledger.request_renegotiation(
        contract,
        "1",
        requested_by=Party.BUYER,
        received_on=D(2025, 5, 12),
        nature=RequestNature.LASTING,
        description="Varigt nedsat støttebehov efter opfølgning",
        proposed_step="2:1",
        actor=BUYER_ADMIN,
    )  # v6
    billing.issue(D(2025, 6, 1), on=D(2025, 5, 25))

    # When the provider approves on 3 June, agreeing the change from 19 May
    billing.on(D(2025, 6, 3))
    ledger.answer_renegotiation(
        contract,
        request,
        answered_by=Party.PROVIDER,
        answered_on=D(2025, 6, 3),
        approved=True,
        agreement_ref="Aftale om trin 2:1 fra 19.05.2025",
        effective_from=D(2025, 5, 19),
        actor=PROVIDER_ADMIN,
    )  # v7

    # Then July is billed at 240.00 and May (from the 19th) and June are credited
    july = billing.issue(D(2025, 7, 1), on=D(2025, 6, 25))
    assert DKK("7440.00") == line_of(july, contract).amount  # 31 x 240.00
    may = adjustment_of(july, contract, D(2025, 5, 1))
    assert DKK("7750.00") == may.amount_before  # 31 x 250.00
    assert DKK("7620.00") == may.amount_now  # 18 x 250.00 + 13 x 240.00 = 4500 + 3120
    assert DKK("-130.00") == may.difference  # 13 days (19th-31st) x -10.00
    june = adjustment_of(july, contract, D(2025, 6, 1))
    assert (DKK("7500.00"), DKK("7200.00")) == (june.amount_before, june.amount_now)
    # 30 x 250.00 and 30 x 240.00
    assert DKK("-300.00") == june.difference  # 30 x -10.00
    assert {("RenegotiationAnswered v7",)} == {a.causes for a in july.adjustments}
    assert DKK("7010.00") == july.total  # 7440.00 - 130.00 - 300.00


# --- pkt. 8: annual regulation --------------------------------------------------------


def test_a_regulation_recorded_on_20_january_corrects_all_of_january(billing):
    """Pkt. 8 and G3: the 2026 prices apply from 1 January even when recorded on the 20th.

    A tariff-sheet line moves to the 2026 sheet; agreed prices (særforanstaltning)
    are indexed by KL's estimate, each component rounded to øre (G23).
    """
    ledger = billing.world.ledger
    # Given the 2025 sheet (step 2:2: 250.00) and the 2026 sheet (base 120: 290.00)
    billing.publish(2025, sheet_prices(), on=D(2024, 10, 1))
    billing.publish(2026, sheet_prices(base=Decimal(120)), on=D(2025, 12, 1))
    # and from 1 December 2025 a §104 line, and agreed prices of 500.05 + 500.05 = 1000.10
    sheet = billing.contract(sheet_line(D(2025, 12, 1)), drafted_on=D(2025, 11, 20))  # v1-v5
    index = billing.contract(
        agreed(D(2025, 12, 1), basis="500.05", service="500.05"), drafted_on=D(2025, 11, 20)
    )  # v1-v5
    # with December and January invoiced in advance
    december = billing.issue(D(2025, 12, 1), on=D(2025, 11, 20))
    assert DKK("38753.10") == december.total  # 31 x 250.00 + 31 x 1000.10 = 7750 + 31003.10
    january = billing.issue(D(2026, 1, 1), on=D(2025, 12, 20))
    assert DKK("7750.00") == line_of(january, sheet).amount  # 31 x 250.00: not regulated yet
    assert DKK("31003.10") == line_of(january, index).amount  # 31 x 1000.10

    # When both regulations are recorded on 20 January: the 2026 sheet, and KL's
    # PL estimate (2.3 %) plus central overhead (0.4 %)
    billing.on(D(2026, 1, 20))
    ledger.regulate_by_tariff_sheet(sheet, 2026, actor=PROVIDER_ADMIN)  # v6
    ledger.regulate_by_index(
        index,
        2026,
        pl_percentage=Decimal("2.3"),
        overhead_percentage=Decimal("0.4"),
        source=IndexSource.KL,
        edition="KL PL-skøn august 2025",
        actor=PROVIDER_ADMIN,
    )  # v6

    # Then the February invoice bills February at the 2026 prices ...
    february = billing.issue(D(2026, 2, 1), on=D(2026, 1, 25))
    line = line_of(february, sheet)
    assert [(D(2026, 2, 1), D(2026, 2, 28), DAY(28), DKK("290.00"))] == segments(line)
    assert DKK("8120.00") == line.amount  # 28 x 290.00
    line = line_of(february, index)
    # 500.05 x 1.027 = 513.55135 -> 513.55 per component, so 1027.10 a day
    assert (ComponentPrice("basis", DKK("513.55")), ComponentPrice("service", DKK("513.55"))) == (
        line.segments[0].components
    )
    assert DKK("28758.80") == line.amount  # 28 x 1027.10
    # ... and corrects all 31 days of January
    correction = adjustment_of(february, sheet, D(2026, 1, 1))
    assert (DAY(31), DAY(31)) == (correction.days_before, correction.days_now)
    assert ((DKK("250.00"),), (DKK("290.00"),)) == (
        correction.daily_before,
        correction.daily_now,
    )
    assert DKK("7750.00") == correction.amount_before  # 31 x 250.00
    assert DKK("8990.00") == correction.amount_now  # 31 x 290.00
    assert DKK("1240.00") == correction.difference  # 31 x 40.00
    assert ("RegulatedByTariffSheet v6",) == correction.causes
    correction = adjustment_of(february, index, D(2026, 1, 1))
    assert DKK("31003.10") == correction.amount_before  # 31 x 1000.10
    assert DKK("31840.10") == correction.amount_now  # 31 x 1027.10
    assert DKK("837.00") == correction.difference  # 31 x 27.00
    assert ("RegulatedByIndex v6",) == correction.causes
    assert 2 == len(february.adjustments)  # December keeps the 2025 prices
    # 8120.00 + 28758.80 + 1240.00 + 837.00
    assert DKK("38955.80") == february.total


# --- G4: step change inside a month ---------------------------------------------------


def test_a_step_change_in_the_middle_of_a_month_bills_two_segments_rounded_once(billing):
    """G4: the line's amount is the sum of its segments, rounded half-up to øre once."""
    ledger = billing.world.ledger
    # Given a sheet whose §104 service prices carry fractions of an øre:
    # step 2:2: 50 + 150.0003 + 50 = 250.0003; step 3:1: 50 + 180.0003 + 50 = 280.0003
    billing.publish(2025, prices_104({"2:2": "150.0003", "3:1": "180.0003"}), on=D(2024, 10, 1))
    contract = billing.contract(sheet_line(D(2025, 3, 1)), drafted_on=D(2025, 2, 20))  # v1-v5

    # When the parties agree on 10 March to move to step 3:1 from 16 March
    billing.on(D(2025, 3, 10))
    ledger.change_step(
        contract,
        "1",
        "3:1",
        effective_from=D(2025, 3, 16),
        agreed_on=D(2025, 3, 10),
        agreement_ref="Aftale om taksttrin 3:1",
        actor=OPERATOR,
    )  # v6

    # Then the March line has two segments and one rounding
    march = billing.issue(D(2025, 3, 1), on=D(2025, 4, 1))
    line = line_of(march, contract)
    assert [
        (D(2025, 3, 1), D(2025, 3, 15), DAY(15), DKK("250.0003")),
        (D(2025, 3, 16), D(2025, 3, 31), DAY(16), DKK("280.0003")),
    ] == segments(line)
    assert [("2:2", "Drafted", 1), ("3:1", "StepChanged", 6)] == [
        (s.step, s.cause, s.cause_version) for s in line.segments
    ]
    assert DAY(31) == line.days
    # 15 x 250.0003 = 3750.0045 and 16 x 280.0003 = 4480.0048; sum 8230.0093 -> 8230.01
    # (rounding each segment first would give 3750.00 + 4480.00 = 8230.00)
    assert DKK("8230.01") == line.amount
    assert DKK("8230.01") == march.total


# --- pkt. 9: payment during notice ----------------------------------------------------


def test_each_payment_option_ends_payment_on_its_day(billing):
    """Pkt. 9 and G14: options 1, 2 (14 days) and 3; payment never runs past the notice end."""
    ledger = billing.world.ledger
    option_1 = terms(payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED)
    option_2 = terms(
        payment_option=PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        payment_days_after_reoccupation=14,
    )
    option_3 = terms(payment_option=PaymentOption.CONTINUES_WHOLE_NOTICE)
    # Given five contracts at 1000.00 a day from 1 January, three months' notice
    start, drafted = D(2025, 1, 1), D(2024, 12, 15)
    one = billing.contract(agreed(start), drafted_on=drafted, contract_terms=option_1)
    two = billing.contract(agreed(start), drafted_on=drafted, contract_terms=option_2)
    three = billing.contract(agreed(start), drafted_on=drafted, contract_terms=option_3)
    two_late = billing.contract(agreed(start), drafted_on=drafted, contract_terms=option_2)
    one_late = billing.contract(agreed(start), drafted_on=drafted, contract_terms=option_1)
    # and notice given on 15 March: the notice ends on 15 June
    billing.on(D(2025, 3, 15))
    for contract in (one, two, three, two_late, one_late):
        assert D(2025, 6, 15) == ledger.give_notice(
            contract, given_by=Party.BUYER, given_on=D(2025, 3, 15), actor=BUYER_ADMIN
        )
    april = billing.issue(D(2025, 4, 1), on=D(2025, 5, 1))
    assert DKK("150000.00") == april.total  # 5 x 30 x 1000.00

    # When three of the places are filled from 11 May (reported on 12 May),
    # one from 10 June and one only on 20 June, after the notice ended
    billing.on(D(2025, 5, 12))
    for contract in (one, two, three):
        ledger.record_reoccupation(contract, D(2025, 5, 11), actor=PROVIDER_ADMIN)
    billing.on(D(2025, 6, 10))
    ledger.record_reoccupation(two_late, D(2025, 6, 10), actor=PROVIDER_ADMIN)
    billing.on(D(2025, 6, 20))
    ledger.record_reoccupation(one_late, D(2025, 6, 20), actor=PROVIDER_ADMIN)

    # Then May and June bill each contract to its payment end
    may = billing.issue(D(2025, 5, 1), on=D(2025, 6, 20))
    # option 1: payment ends the day before re-occupation, 10 May
    assert (D(2025, 5, 10), DAY(10)) == (line_of(may, one).period_end, line_of(may, one).days)
    assert DKK("10000.00") == line_of(may, one).amount  # 10 x 1000.00
    # option 2: 14 days more, to 24 May
    assert (D(2025, 5, 24), DAY(24)) == (line_of(may, two).period_end, line_of(may, two).days)
    assert DKK("24000.00") == line_of(may, two).amount  # 24 x 1000.00
    # option 3, and the places filled in June: all of May
    for contract in (three, two_late, one_late):
        assert DKK("31000.00") == line_of(may, contract).amount  # 31 x 1000.00
    assert DKK("127000.00") == may.total  # 10000 + 24000 + 3 x 31000
    assert () == may.adjustments

    june = billing.issue(D(2025, 6, 1), on=D(2025, 7, 1))
    assert not has_line(june, one)
    assert not has_line(june, two)
    # option 3 pays the whole notice period; option 2 filled on 10 June would run to
    # 9 + 14 = 23 June but stops at the notice end; option 1 filled after the notice end
    # pays to the notice end: each 1 to 15 June
    for contract in (three, two_late, one_late):
        line = line_of(june, contract)
        assert (D(2025, 6, 1), D(2025, 6, 15), DAY(15)) == (
            line.period_start,
            line.period_end,
            line.days,
        )
        assert DKK("15000.00") == line.amount  # 15 x 1000.00
    assert DKK("45000.00") == june.total  # 3 x 15000.00
    # and nothing is left to bill in July
    assert billing.invoice(D(2025, 7, 1), on=D(2025, 8, 1)) is None


def test_a_reoccupation_reported_after_the_month_was_invoiced_is_credited(billing):
    """Pkt. 9 option 1: a place filled on 11 May, reported on 20 May, credits 21 days of May."""
    ledger = billing.world.ledger
    option_1 = terms(payment_option=PaymentOption.ENDS_WHEN_REOCCUPIED)
    option_3 = terms(payment_option=PaymentOption.CONTINUES_WHOLE_NOTICE)
    # Given two contracts at 1000.00 a day, notice given 15 March (ends 15 June)
    one = billing.contract(
        agreed(D(2025, 1, 1)), drafted_on=D(2024, 12, 15), contract_terms=option_1
    )  # v1-v5
    three = billing.contract(
        agreed(D(2025, 1, 1)), drafted_on=D(2024, 12, 15), contract_terms=option_3
    )
    billing.on(D(2025, 3, 15))
    for contract in (one, three):
        ledger.give_notice(
            contract, given_by=Party.PROVIDER, given_on=D(2025, 3, 15), actor=PROVIDER_ADMIN
        )  # v6
    # and May invoiced in advance on 25 April
    may = billing.issue(D(2025, 5, 1), on=D(2025, 4, 25))
    assert DKK("62000.00") == may.total  # 2 x 31 x 1000.00

    # When both places are reported filled from 11 May, on 20 May
    billing.on(D(2025, 5, 20))
    for contract in (one, three):
        ledger.record_reoccupation(contract, D(2025, 5, 11), actor=PROVIDER_ADMIN)  # v7

    # Then the credit is pending before June is invoiced
    [pending] = billing.pending(D(2025, 6, 1))
    assert (one, DKK("-21000.00")) == (pending.contract_id, pending.difference)
    # and the June invoice credits option 1's May days from the 11th, and bills option 3
    # to the notice end
    june = billing.issue(D(2025, 6, 1), on=D(2025, 5, 25))
    assert not has_line(june, one)
    assert DKK("15000.00") == line_of(june, three).amount  # 15 x 1000.00 (1-15 June)
    credit = adjustment_of(june, one, D(2025, 5, 1))
    assert (D(2025, 5, 1), D(2025, 5, 10)) == (credit.period_start, credit.period_end)
    assert (DAY(31), DAY(10)) == (credit.days_before, credit.days_now)
    assert ((DKK("1000.00"),), (DKK("1000.00"),)) == (credit.daily_before, credit.daily_now)
    assert DKK("31000.00") == credit.amount_before  # 31 x 1000.00
    assert DKK("10000.00") == credit.amount_now  # 10 x 1000.00 (1-10 May)
    assert DKK("-21000.00") == credit.difference  # 21 days (11-31 May) x 1000.00
    assert ("PlaceReoccupied v7",) == credit.causes
    assert 1 == len(june.adjustments)  # option 3 keeps paying: nothing to correct
    assert DKK("-6000.00") == june.total  # 15000.00 - 21000.00
    assert [] == billing.pending(D(2025, 7, 1))


# --- G4: calendar edges ---------------------------------------------------------------


def test_february_in_a_leap_year_and_a_contract_inside_one_month(billing):
    """G4: 29 February is billed at the day rate and a line inside a month bills its days.

    A grant is spread over the leap year's 366 days; a line from the 5th to the
    20th bills 16 days and nothing in the next month.
    """
    # Given a place at 1000.00 a day with 73 granted respite døgn a year at 800.00,
    # and a stay from 5 to 20 February at 1000.00 a day
    contract = billing.contract(
        agreed(D(2028, 2, 1)),
        agreed(D(2028, 2, 1), basis="300.00", service="500.00", respite_per_year=73),
        drafted_on=D(2028, 1, 20),
        contract_terms=terms(respite_basis=RespiteBasis.GRANTED_DAYS),
    )
    stay = billing.contract(agreed(D(2028, 2, 5), end=D(2028, 2, 20)), drafted_on=D(2028, 2, 1))

    # When February 2028 is invoiced
    february = billing.issue(D(2028, 2, 1), on=D(2028, 3, 1))

    # Then the place bills all 29 days
    place = line_of(february, contract, "1")
    assert [(D(2028, 2, 1), D(2028, 2, 29), DAY(29), DKK("1000.00"))] == segments(place)
    assert DKK("29000.00") == place.amount  # 29 x 1000.00
    # and respite the grant accrued by 29 February less that accrued by 31 January:
    # 73 x 60 / 366 = 11.967213 -> 11.9672, 73 x 31 / 366 = 6.183060 -> 6.1831
    respite = line_of(february, contract, "2")
    assert DAY("5.7841") == respite.days  # 11.9672 - 6.1831
    assert DKK("4627.28") == respite.amount  # 5.7841 x 800.00
    # and the stay its 16 days
    short = line_of(february, stay)
    assert [(D(2028, 2, 5), D(2028, 2, 20), DAY(16), DKK("1000.00"))] == segments(short)
    assert DKK("16000.00") == short.amount  # 16 x 1000.00 (5th-20th inclusive)
    assert DKK("49627.28") == february.total  # 29000.00 + 4627.28 + 16000.00

    # And March bills the place and respite only
    march = billing.issue(D(2028, 3, 1), on=D(2028, 4, 1))
    assert not has_line(march, stay)
    assert DKK("31000.00") == line_of(march, contract, "1").amount  # 31 x 1000.00
    # 73 x 91 / 366 = 18.150273 -> 18.1503; 18.1503 - 11.9672 = 6.1831 døgn
    assert DAY("6.1831") == line_of(march, contract, "2").days
    assert DKK("4946.48") == line_of(march, contract, "2").amount  # 6.1831 x 800.00
    assert () == march.adjustments


# --- pkt. 5: respite ------------------------------------------------------------------


def test_respite_is_billed_on_granted_or_on_used_days(billing):
    """Pkt. 5: granted døgn spread evenly over the year; used døgn as reported and corrected."""
    ledger = billing.world.ledger
    # Given two respite lines at 300.00 + 500.00 = 800.00 a døgn from 1 March 2025,
    # 73 døgn a year: one settled on granted days, one on used days
    granted = billing.contract(
        agreed(D(2025, 3, 1), basis="300.00", service="500.00", respite_per_year=73),
        drafted_on=D(2025, 2, 20),
        contract_terms=terms(respite_basis=RespiteBasis.GRANTED_DAYS),
    )
    used = billing.contract(
        agreed(D(2025, 3, 1), basis="300.00", service="500.00", respite_per_year=73),
        drafted_on=D(2025, 2, 20),
        contract_terms=terms(respite_basis=RespiteBasis.USED_DAYS),
    )  # v1-v5
    # and the provider reports five døgn used in March
    billing.on(D(2025, 3, 31))
    march_days = [D(2025, 3, 7), D(2025, 3, 8), D(2025, 3, 9), D(2025, 3, 21), D(2025, 3, 22)]
    ledger.record_respite_used(used, "1", D(2025, 3, 1), march_days, actor=PROVIDER_ADMIN)  # v6

    # When March is invoiced
    march = billing.issue(D(2025, 3, 1), on=D(2025, 4, 1))

    # Then granted days bill 73 / 365 = 0.2 døgn a day: 31 x 0.2 = 6.2000 døgn
    line = line_of(march, granted)
    assert DAY("6.2000") == line.days
    assert DKK("4960.00") == line.amount  # 6.2 x 800.00
    # and used days bill the five reported døgn
    line = line_of(march, used)
    assert DAY(5) == line.days
    assert march_days == [s.start for s in line.segments]
    assert DKK("4000.00") == line.amount  # 5 x 800.00
    assert DKK("8960.00") == march.total  # 4960.00 + 4000.00

    # When April's two døgn are reported, and March corrected to six døgn
    billing.on(D(2025, 4, 30))
    ledger.record_respite_used(
        used, "1", D(2025, 4, 1), [D(2025, 4, 11), D(2025, 4, 12)], actor=PROVIDER_ADMIN
    )  # v7
    ledger.record_respite_used(
        used, "1", D(2025, 3, 1), [*march_days, D(2025, 3, 28)], actor=PROVIDER_ADMIN
    )  # v8

    # Then April bills 30 x 0.2 = 6.0000 granted døgn and two used døgn, and corrects March
    april = billing.issue(D(2025, 4, 1), on=D(2025, 5, 1))
    assert DAY("6.0000") == line_of(april, granted).days
    assert DKK("4800.00") == line_of(april, granted).amount  # 6 x 800.00
    assert DKK("1600.00") == line_of(april, used).amount  # 2 x 800.00
    correction = adjustment_of(april, used, D(2025, 3, 1))
    assert (DAY(5), DAY(6)) == (correction.days_before, correction.days_now)
    assert (DKK("4000.00"), DKK("4800.00")) == (correction.amount_before, correction.amount_now)
    # 5 x 800.00 and 6 x 800.00
    assert DKK("800.00") == correction.difference  # 1 x 800.00 (28 March)
    assert ("RespiteDaysUsed v8",) == correction.causes
    assert 1 == len(april.adjustments)
    assert DKK("7200.00") == april.total  # 4800.00 + 1600.00 + 800.00


def test_granted_respite_bills_exactly_the_grant_over_a_whole_year(billing):
    """Pkt. 5: 50 døgn a year bill 50.0000 døgn over the twelve months, not 50.0002.

    Each month bills the grant accrued by its last day less that accrued before
    its first day, 50 x (day of the year) / 365 rounded to 4 decimals:
    31 Jan 4.2466, 28 Feb 8.0822, 31 Mar 12.3288, 30 Apr 16.4384, 31 May 20.6849,
    30 Jun 24.7945, 31 Jul 29.0411, 31 Aug 33.2877, 30 Sep 37.3973, 31 Oct 41.6438,
    30 Nov 45.7534, 31 Dec 50.0000. (Rounding each month on its own would bill
    7 x 4.2466 + 4 x 4.1096 + 3.8356 = 50.0002.)
    """
    contract = billing.contract(
        agreed(D(2025, 1, 1), basis="300.00", service="500.00", respite_per_year=50),
        drafted_on=D(2024, 12, 15),
        contract_terms=terms(respite_basis=RespiteBasis.GRANTED_DAYS),
    )

    # (the month lines invoices are cut from, read from the billing view)
    billing.world.views.catch_up(["billing"])
    lines = [
        line
        for month in range(1, 13)
        for line in billing.world.views.billing.month_lines(BUYER.ean, D(2025, month, 1))
    ]
    assert {contract} == {line.contract_id for line in lines}

    assert [
        DAY("4.2466"),  # 4.2466 - 0
        DAY("3.8356"),  # 8.0822 - 4.2466
        DAY("4.2466"),  # 12.3288 - 8.0822
        DAY("4.1096"),  # 16.4384 - 12.3288
        DAY("4.2465"),  # 20.6849 - 16.4384
        DAY("4.1096"),  # 24.7945 - 20.6849
        DAY("4.2466"),  # 29.0411 - 24.7945
        DAY("4.2466"),  # 33.2877 - 29.0411
        DAY("4.1096"),  # 37.3973 - 33.2877
        DAY("4.2465"),  # 41.6438 - 37.3973
        DAY("4.1096"),  # 45.7534 - 41.6438
        DAY("4.2466"),  # 50.0000 - 45.7534
    ] == [line.days for line in lines]
    assert DAY(50) == sum(line.days for line in lines)
    # 5 x 3397.28 (4.2466 x 800) + 2 x 3397.20 (4.2465 x 800) + 4 x 3287.68 (4.1096 x 800)
    # + 3068.48 (3.8356 x 800) = 16986.40 + 6794.40 + 13150.72 + 3068.48 = 40000.00 = 50 x 800
    assert DKK("40000.00") == sum(line.amount for line in lines)


# --- pkt. 6 and 18: who gets an invoice -----------------------------------------------


def test_only_binding_contracts_are_billed_and_only_buyers_with_something_to_bill(billing):
    """Pkt. 18: unsigned days are not billed; once signed, invoiced months are caught up.

    A buyer with no binding contract is not a buyer billing knows; a buyer with
    nothing in the month gets no invoice.
    """
    ledger, views = billing.world.ledger, billing.world.views
    # Given BUYER's signed contract and one the provider has not signed, both from 1 March,
    # and PAYER's contract from 1 May, not signed by the provider either
    signed = billing.contract(agreed(D(2025, 3, 1)), drafted_on=D(2025, 2, 20))
    unsigned = billing.contract(
        agreed(D(2025, 3, 1), basis="500.00", service="700.00"),
        drafted_on=D(2025, 2, 20),
        signed_by=(Party.BUYER,),
    )  # v1-v4
    payers = billing.contract(
        agreed(D(2025, 5, 1)), drafted_on=D(2025, 2, 20), buyer=PAYER, signed_by=(Party.BUYER,)
    )

    # When March is invoiced
    march = billing.issue(D(2025, 3, 1), on=D(2025, 4, 1))

    # Then BUYER is billed for the signed contract only
    assert not has_line(march, unsigned)
    assert DKK("31000.00") == line_of(march, signed).amount  # 31 x 1000.00
    assert DKK("31000.00") == march.total  # the signed contract only
    # and PAYER, with no binding contract, is not a buyer billing knows
    with pytest.raises(BuyerNotFound):
        ledger.issue_invoices(D(2025, 3, 1), views.billing, actor=OPERATOR, buyer_ean=PAYER.ean)

    # When the provider signs BUYER's contract on 10 April and PAYER's on 2 May
    billing.sign(unsigned, Party.PROVIDER, D(2025, 4, 10))  # v5
    billing.sign(payers, Party.PROVIDER, D(2025, 5, 2), buyer=PAYER)

    # Then April bills it, and March is caught up at 1200.00 a day
    billing.on(D(2025, 5, 3))
    views.catch_up(["billing"])
    issued = ledger.issue_invoices(D(2025, 4, 1), views.billing, actor=OPERATOR)
    # (PAYER has nothing to bill for April: no invoice)
    assert [BUYER.ean] == [i.buyer.ean for i in issued]
    april = issued[0]
    assert DKK("30000.00") == line_of(april, signed).amount  # 30 x 1000.00
    assert DKK("36000.00") == line_of(april, unsigned).amount  # 30 x 1200.00
    late = adjustment_of(april, unsigned, D(2025, 3, 1))
    assert (DAY(0), DAY(31)) == (late.days_before, late.days_now)
    assert ((), (DKK("1200.00"),)) == (late.daily_before, late.daily_now)
    assert (DKK("0"), DKK("37200.00")) == (late.amount_before, late.amount_now)  # 31 x 1200
    assert DKK("37200.00") == late.difference
    assert DKK("103200.00") == april.total  # 30000 + 36000 + 37200
    # and PAYER's first invoice is May's
    may = billing.issue(D(2025, 5, 1), on=D(2025, 6, 2), buyer=PAYER)
    assert DKK("31000.00") == line_of(may, payers).amount  # 31 x 1000.00
    assert DKK("31000.00") == may.total


def test_a_buyer_whose_only_contract_ends_before_it_starts_gets_the_credit(billing):
    """A month invoiced in advance is credited even when nothing is left to bill at all."""
    ledger = billing.world.ledger
    # Given a place from 1 June, June invoiced in advance on 20 May
    contract = billing.contract(agreed(D(2025, 6, 1)), drafted_on=D(2025, 5, 15))  # v1-v5
    june = billing.issue(D(2025, 6, 1), on=D(2025, 5, 20))
    assert DKK("30000.00") == june.total  # 30 x 1000.00

    # When the provider rescinds for force majeure from 1 June, before the citizen moves in
    billing.on(D(2025, 5, 25))
    ledger.declare_force_majeure(
        contract,
        by=Party.PROVIDER,
        declared_on=D(2025, 5, 25),
        description="Brand i bygningen",
        actor=PROVIDER_ADMIN,
    )  # v6
    ledger.rescind_without_notice(
        contract,
        by=Party.PROVIDER,
        effective_on=D(2025, 6, 1),
        ground=RescissionGround.FORCE_MAJEURE,
        actor=PROVIDER_ADMIN,
    )  # v7

    # Then the July invoice is a credit note for all of June
    july = billing.issue(D(2025, 7, 1), on=D(2025, 6, 20))
    assert () == july.lines
    credit = adjustment_of(july, contract, D(2025, 6, 1))
    assert (None, None) == (credit.period_start, credit.period_end)
    assert (DAY(30), DAY(0)) == (credit.days_before, credit.days_now)
    assert ((DKK("1000.00"),), ()) == (credit.daily_before, credit.daily_now)
    assert DKK("-30000.00") == credit.difference  # 0 - 30 x 1000.00
    assert ("RescindedWithoutNotice v7",) == credit.causes
    assert DKK("-30000.00") == july.total
    # and after it, nothing more
    assert billing.invoice(D(2025, 8, 1), on=D(2025, 7, 20)) is None


def test_a_tariff_sheet_correction_corrects_the_invoiced_months(billing):
    """Pkt. 8: a corrected sheet reprices every day it covers; the sheet event is the cause."""
    ledger = billing.world.ledger
    # Given a §104 line at 250.00 a day from 1 January, January invoiced in advance
    billing.publish(2025, sheet_prices(), on=D(2024, 10, 1))
    contract = billing.contract(sheet_line(D(2025, 1, 1)), drafted_on=D(2024, 12, 15))
    billing.issue(D(2025, 1, 1), on=D(2024, 12, 20))

    # When the provider corrects the 2025 service price of step 2:2 from 150 to 160
    billing.on(D(2025, 1, 10))
    ledger.correct_tariff_sheet(
        offer=PROVIDER.offer,
        year=2025,
        prices=prices_104({"2:2": "160"}),
        reason="Tastefejl i takstbladet",
        actor=PROVIDER_ADMIN,
    )

    # Then February bills 260.00 a day and corrects January by 31 x 10.00
    february = billing.issue(D(2025, 2, 1), on=D(2025, 1, 20))
    assert DKK("7280.00") == line_of(february, contract).amount  # 28 x 260.00
    correction = adjustment_of(february, contract, D(2025, 1, 1))
    assert (DKK("7750.00"), DKK("8060.00")) == (correction.amount_before, correction.amount_now)
    # 31 x 250.00 and 31 x 260.00
    assert DKK("310.00") == correction.difference  # 31 x 10.00
    assert ("TariffSheet.Corrected slotsvaenget-stottepakken 2025",) == correction.causes
    assert DKK("7590.00") == february.total  # 7280.00 + 310.00
