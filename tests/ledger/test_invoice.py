"""The invoice aggregate: issuing a buyer's month exactly as billed, and keeping it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from ledger.application import VALUE_TYPES, Ledger, _save_groups
from ledger.clock import FixedClock, recording_with
from ledger.errors import InvalidValue
from ledger.invoice import (
    INVOICE_VALUE_TYPES,
    AdjustmentLine,
    Invoice,
    InvoiceLine,
    PriceSegment,
    invoice_id,
    month_end,
    month_start,
)
from ledger.transcoding import register_all
from ledger.values import ComponentPrice, Municipality
from tests.conftest import ledger_env
from tests.ledger.examples import BUYER, CITIZEN, OPERATOR, PAYER
from tests.ledger.given_when_then import ENVELOPE

D = dt.date
MARCH = D(2025, 3, 1)
CONTRACT = uuid.UUID("00000000-0000-4000-8000-00000000c001")
OTHER_CONTRACT = uuid.UUID("00000000-0000-4000-8000-00000000c002")
OTHER_CITIZEN = uuid.UUID("00000000-0000-4000-8000-000000000002")
COMPONENTS = (
    ComponentPrice("basis", Decimal("734.56")),
    ComponentPrice("service", Decimal("500.00")),
)


def segment(
    start: dt.date,
    end: dt.date,
    daily: str,
    days: str | None = None,
    *,
    cause: str = "Drafted",
    version: int = 1,
) -> PriceSegment:
    """A segment billing every day it spans unless ``days`` is given."""
    billable = Decimal(days) if days is not None else Decimal((end - start).days + 1)
    return PriceSegment(start, end, billable, Decimal(daily), "3", COMPONENTS, cause, version)


def line(
    *segments: PriceSegment,
    amount: str,
    contract: uuid.UUID = CONTRACT,
    line_id: str = "1",
    citizen: uuid.UUID = CITIZEN,
) -> InvoiceLine:
    return InvoiceLine(contract, line_id, citizen, "SEL §85", segments, Decimal(amount))


# 31 days at 1234.56 = 38271.36
WHOLE_MONTH = line(segment(D(2025, 3, 1), D(2025, 3, 31), "1234.56"), amount="38271.36")
# 10 × 100.0004 = 1000.004 and 21 × 200.0002 = 4200.0042: 5200.0082 rounds once to 5200.01
# (rounding each segment would give 1000.00 + 4200.00 = 5200.00).
RENEGOTIATED = line(
    segment(D(2025, 3, 1), D(2025, 3, 10), "100.0004"),
    segment(D(2025, 3, 11), D(2025, 3, 31), "200.0002", cause="RenegotiationAnswered", version=7),
    amount="5200.01",
    line_id="2",
)
# Respite billed on granted days: 3.33 days at 1500 = 4995.00
RESPITE = InvoiceLine(
    OTHER_CONTRACT,
    "1",
    OTHER_CITIZEN,
    "SEL §107",
    (segment(D(2025, 3, 1), D(2025, 3, 31), "1500", days="3.33"),),
    Decimal("4995.00"),
)
# January was invoiced at 38271.36; a backdated price makes it 39000.00: +728.64
RAISE_JANUARY = AdjustmentLine(
    CONTRACT,
    "1",
    CITIZEN,
    "SEL §85",
    D(2025, 1, 1),
    D(2025, 1, 1),
    D(2025, 1, 31),
    Decimal(31),
    Decimal(31),
    (Decimal("1234.56"),),
    (Decimal("1234.56"), Decimal("1300.00")),
    Decimal("38271.36"),
    Decimal("39000.00"),
    ("RenegotiationAnswered v7",),
)
# February's 2000.00 is credited: nothing of February is billable any more: -2000.00
CREDIT_FEBRUARY = AdjustmentLine(
    OTHER_CONTRACT,
    "1",
    OTHER_CITIZEN,
    "SEL §107",
    D(2025, 2, 1),
    None,
    None,
    Decimal("1.333333"),
    Decimal(0),
    (Decimal("1500.000000"),),
    (),
    Decimal("2000.00"),
    Decimal(0),
    ("LineEnded v4", "PaymentEndAgreed v5"),
)


def arguments(**changes: Any) -> dict[str, Any]:
    return {
        "buyer": BUYER,
        "month": MARCH,
        "issued_on": D(2025, 3, 31),
        "lines": (WHOLE_MONTH, RENEGOTIATED, RESPITE),
        "adjustments": (RAISE_JANUARY, CREDIT_FEBRUARY),
        "known_at": 42,
        "actor": OPERATOR,
        **changes,
    }


def issue(**changes: Any) -> Invoice:
    return Invoice.issue(**arguments(**changes))


# --- issuing -----------------------------------------------------------------------


def test_issuing_records_one_issued_event_with_everything_as_billed():
    invoice = issue()

    events = invoice.collect_events()
    assert [Invoice.Issued] == [type(e) for e in events]
    payload = {k: v for k, v in vars(events[0]).items() if k not in ENVELOPE}
    assert {
        "buyer": BUYER,
        "month": MARCH,
        "issued_on": D(2025, 3, 31),
        "lines": (WHOLE_MONTH, RENEGOTIATED, RESPITE),
        "adjustments": (RAISE_JANUARY, CREDIT_FEBRUARY),
        "known_at": 42,
        "actor": OPERATOR,
    } == payload
    assert 1 == invoice.version


def test_the_invoice_reads_back_its_lines_and_totals():
    invoice = issue()

    assert invoice_id(BUYER.ean, MARCH) == invoice.id
    assert BUYER == invoice.buyer
    assert MARCH == invoice.month
    assert D(2025, 3, 31) == invoice.issued_on
    assert 42 == invoice.known_at
    assert OPERATOR == invoice.issued_by
    assert (WHOLE_MONTH, RENEGOTIATED, RESPITE) == invoice.lines
    assert (RAISE_JANUARY, CREDIT_FEBRUARY) == invoice.adjustments
    # 38271.36 + 5200.01 + 4995.00
    assert Decimal("48466.37") == invoice.lines_total
    # +728.64 - 2000.00
    assert Decimal("-1271.36") == invoice.adjustments_total
    assert Decimal("47195.01") == invoice.total


def test_a_line_tells_its_period_days_and_daily_prices():
    assert D(2025, 3, 1) == RENEGOTIATED.period_start
    assert D(2025, 3, 31) == RENEGOTIATED.period_end
    assert Decimal(31) == RENEGOTIATED.days
    assert (Decimal("100.0004"), Decimal("200.0002")) == RENEGOTIATED.daily_prices
    assert Decimal("5200.0082") == RENEGOTIATED.accrued
    assert Decimal("3.33") == RESPITE.days
    assert Decimal("4995.0000") == RESPITE.segments[0].accrued


def test_daily_prices_name_a_price_once_even_across_a_gap():
    """A line interrupted (e.g. by an absence) at the same price shows that price once."""
    gapped = line(
        segment(D(2025, 3, 1), D(2025, 3, 9), "1234.56"),
        segment(D(2025, 3, 20), D(2025, 3, 31), "1234.56"),
        amount="25925.76",  # 21 × 1234.56
    )

    invoice = issue(lines=(gapped,), adjustments=())

    assert (Decimal("1234.56"),) == gapped.daily_prices
    assert Decimal(21) == gapped.days
    assert Decimal("25925.76") == invoice.total


def test_an_adjustment_tells_its_difference():
    assert Decimal("728.64") == RAISE_JANUARY.difference
    assert Decimal("-2000.00") == CREDIT_FEBRUARY.difference


def test_an_invoice_with_only_adjustments_or_only_lines_is_issued():
    credit_only = issue(lines=(), adjustments=(CREDIT_FEBRUARY,))
    lines_only = issue(adjustments=())

    assert Decimal("-2000.00") == credit_only.total
    assert Decimal(0) == lines_only.adjustments_total
    assert Decimal("48466.37") == lines_only.total


def test_lines_and_adjustments_may_be_given_as_lists_and_are_kept_as_tuples():
    invoice = issue(lines=[WHOLE_MONTH], adjustments=[RAISE_JANUARY])

    assert (WHOLE_MONTH,) == invoice.lines
    assert (RAISE_JANUARY,) == invoice.adjustments


def test_the_same_line_id_on_two_contracts_and_one_line_adjusted_for_two_months_are_fine():
    other = dataclasses.replace(WHOLE_MONTH, contract_id=OTHER_CONTRACT)
    december = dataclasses.replace(RAISE_JANUARY, month=D(2024, 12, 1), period_start=None)
    december = dataclasses.replace(december, period_end=None)

    invoice = issue(lines=(WHOLE_MONTH, other), adjustments=(RAISE_JANUARY, december))

    assert 2 == len(invoice.lines)
    assert 2 == len(invoice.adjustments)


def test_the_issued_event_is_stamped_by_the_recording_clock():
    clock = FixedClock.at_local(D(2025, 3, 31), hour=9)

    with recording_with(clock):
        invoice = issue()

    (issued,) = invoice.collect_events()
    assert clock.now() == issued.timestamp
    assert dt.UTC == issued.timestamp.tzinfo


@pytest.mark.parametrize(
    "issued_on",
    [D(2025, 2, 1), D(2025, 2, 28), MARCH, D(2025, 3, 31), D(2025, 6, 30)],
)
def test_an_invoice_may_be_issued_from_the_first_day_of_the_previous_month(issued_on):
    """Advance billing up to one month ahead; late issuing has no limit."""
    assert issued_on == issue(issued_on=issued_on).issued_on


def test_a_january_invoice_may_be_issued_from_1_december():
    january = D(2026, 1, 1)
    lines = (line(segment(january, D(2026, 1, 31), "1234.56"), amount="38271.36"),)

    invoice = issue(month=january, lines=lines, adjustments=(), issued_on=D(2025, 12, 1))

    assert invoice_id(BUYER.ean, january) == invoice.id


# --- identity ------------------------------------------------------------------------


def test_the_id_is_stable_per_ean_and_month():
    assert invoice_id(BUYER.ean, MARCH) == invoice_id(BUYER.ean, MARCH)
    assert invoice_id(BUYER.ean, MARCH) == issue().id
    # Stored ids depend on the namespace: pin one so it is never changed by accident.
    assert uuid.uuid5(
        uuid.UUID("3b0c5e0e-2f4d-4a53-9a3e-6d8c1f7b2e41"), "5798000000018:2025-03-01"
    ) == invoice_id(BUYER.ean, MARCH)


def test_the_id_differs_across_months_years_and_eans():
    ids = {
        invoice_id(BUYER.ean, MARCH),
        invoice_id(BUYER.ean, D(2025, 4, 1)),
        invoice_id(BUYER.ean, D(2026, 3, 1)),
        invoice_id(PAYER.ean, MARCH),
    }

    assert 4 == len(ids)


def test_any_day_of_the_month_names_the_same_invoice():
    assert invoice_id(BUYER.ean, MARCH) == invoice_id(BUYER.ean, D(2025, 3, 17))
    assert invoice_id(BUYER.ean, MARCH) == invoice_id(BUYER.ean, D(2025, 3, 31))


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        (D(2025, 3, 17), D(2025, 3, 1), D(2025, 3, 31)),
        (D(2025, 2, 1), D(2025, 2, 1), D(2025, 2, 28)),
        (D(2028, 2, 29), D(2028, 2, 1), D(2028, 2, 29)),
        (D(2025, 4, 30), D(2025, 4, 1), D(2025, 4, 30)),
        (D(2025, 12, 31), D(2025, 12, 1), D(2025, 12, 31)),
    ],
)
def test_month_start_and_end(day, first, last):
    assert first == month_start(day)
    assert last == month_end(day)


# --- validation ------------------------------------------------------------------------


def with_segments(*segments: PriceSegment, amount: str = "0") -> InvoiceLine:
    """WHOLE_MONTH with other segments, its amount made to match unless given."""
    items = tuple(segments)
    total = sum((s.accrued for s in items), Decimal(0))
    value = Decimal(amount) if amount != "0" else total.quantize(Decimal("0.01"))
    return dataclasses.replace(WHOLE_MONTH, segments=items, amount=value)


def adjusted(**changes: Any) -> tuple[AdjustmentLine, ...]:
    return (dataclasses.replace(RAISE_JANUARY, **changes),)


REJECTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "month is not a first day": ({"month": D(2025, 3, 2)}, "month"),
    "month is the last day": ({"month": D(2025, 3, 31)}, "month"),
    "issued more than a month ahead": ({"issued_on": D(2025, 1, 31)}, "issued_on"),
    "neither lines nor adjustments": ({"lines": (), "adjustments": ()}, "lines"),
    "negative known_at": ({"known_at": -1}, "known_at"),
    "no segments": (
        {"lines": (dataclasses.replace(WHOLE_MONTH, segments=()),)},
        "lines[0].segments",
    ),
    "overlapping segments": (
        {
            "lines": (
                with_segments(
                    segment(D(2025, 3, 1), D(2025, 3, 10), "100"),
                    segment(D(2025, 3, 10), D(2025, 3, 31), "200"),
                ),
            )
        },
        "lines[0].segments[1]",
    ),
    "segments out of order": (
        {
            "lines": (
                with_segments(
                    segment(D(2025, 3, 11), D(2025, 3, 31), "200"),
                    segment(D(2025, 3, 1), D(2025, 3, 10), "100"),
                ),
            )
        },
        "lines[0].segments[1]",
    ),
    "segment starts before the month": (
        {"lines": (with_segments(segment(D(2025, 2, 28), D(2025, 3, 31), "100")),)},
        "lines[0].segments[0]",
    ),
    "segment ends after the month": (
        {"lines": (with_segments(segment(D(2025, 3, 1), D(2025, 4, 1), "100")),)},
        "lines[0].segments[0]",
    ),
    "segment in another month": (
        {"lines": (with_segments(segment(D(2025, 4, 1), D(2025, 4, 30), "100")),)},
        "lines[0].segments[0]",
    ),
    "segment ends before it starts": (
        {"lines": (with_segments(segment(D(2025, 3, 10), D(2025, 3, 9), "100", days="1")),)},
        "lines[0].segments[0].end",
    ),
    "segment bills no days": (
        {"lines": (with_segments(segment(D(2025, 3, 1), D(2025, 3, 31), "100", days="0")),)},
        "lines[0].segments[0].days",
    ),
    "segment bills more days than it spans": (
        {"lines": (with_segments(segment(D(2025, 3, 1), D(2025, 3, 10), "100", days="11")),)},
        "lines[0].segments[0].days",
    ),
    "amount one øre off": (
        {"lines": (dataclasses.replace(WHOLE_MONTH, amount=Decimal("38271.37")),)},
        "lines[0].amount",
    ),
    "amount rounded per segment": (
        {"lines": (dataclasses.replace(RENEGOTIATED, amount=Decimal("5200.00")),)},
        "lines[0].amount",
    ),
    "amount unrounded": (
        {"lines": (dataclasses.replace(RENEGOTIATED, amount=Decimal("5200.0082")),)},
        "lines[0].amount",
    ),
    "duplicate line": (
        {
            "lines": (
                WHOLE_MONTH,
                RENEGOTIATED,
                dataclasses.replace(WHOLE_MONTH, citizen_id=CITIZEN),
            )
        },
        "lines[2]",
    ),
    "adjustment of the invoice month": (
        {"adjustments": adjusted(month=MARCH)},
        "adjustments[0].month",
    ),
    "adjustment of a later month": (
        {"adjustments": adjusted(month=D(2025, 4, 1), period_start=None, period_end=None)},
        "adjustments[0].month",
    ),
    "adjustment month not a first day": (
        {"adjustments": adjusted(month=D(2025, 1, 2))},
        "adjustments[0].month",
    ),
    "adjustment changes nothing": (
        {"adjustments": adjusted(amount_now=Decimal("38271.36"))},
        "adjustments[0].amount_now",
    ),
    "adjustment changes nothing written differently": (
        {"adjustments": adjusted(amount_now=Decimal("38271.360"))},
        "adjustments[0].amount_now",
    ),
    "adjustment amount not in whole øre": (
        {"adjustments": adjusted(amount_now=Decimal("39000.005"))},
        "adjustments[0].amount_now",
    ),
    "adjustment amount before not in whole øre": (
        {"adjustments": adjusted(amount_before=Decimal("38271.355"))},
        "adjustments[0].amount_before",
    ),
    "duplicate adjustment": (
        {"adjustments": (RAISE_JANUARY, CREDIT_FEBRUARY, RAISE_JANUARY)},
        "adjustments[2]",
    ),
    "adjusted period with one end": (
        {"adjustments": adjusted(period_end=None)},
        "adjustments[0].period_start",
    ),
    "adjusted period ends before it starts": (
        {"adjustments": adjusted(period_start=D(2025, 1, 20), period_end=D(2025, 1, 19))},
        "adjustments[0].period_end",
    ),
    "adjusted period outside its month": (
        {"adjustments": adjusted(period_end=D(2025, 2, 1))},
        "adjustments[0].period_start",
    ),
}


@pytest.mark.parametrize(("changes", "field"), REJECTIONS.values(), ids=REJECTIONS.keys())
def test_issuing_rejects_an_invalid_invoice_naming_the_field(changes, field):
    with pytest.raises(InvalidValue) as raised:
        issue(**changes)

    assert field == raised.value.field


# --- stored and reloaded ----------------------------------------------------------------


class InvoiceBook(Application[uuid.UUID]):
    """A minimal application that stores invoices with the ledger's transcodings."""

    name = "InvoiceBook"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder, [*VALUE_TYPES, *INVOICE_VALUE_TYPES])


@pytest.fixture
def env(backend, make_ledger, tmp_path):
    """The backend's settings (make_ledger prepares a clean PostgreSQL schema)."""
    assert make_ledger is not None
    return ledger_env(backend, tmp_path)


def assert_same_types(expected: Any, actual: Any, where: str) -> None:
    """Types match all the way down: tuples stay tuples, Decimals stay Decimals."""
    assert type(expected) is type(actual), where
    if dataclasses.is_dataclass(expected):
        for item in dataclasses.fields(expected):
            name = f"{where}.{item.name}"
            assert_same_types(getattr(expected, item.name), getattr(actual, item.name), name)
    elif isinstance(expected, tuple):
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            assert_same_types(a, b, f"{where}[{index}]")


def test_a_stored_invoice_reloads_with_every_field_and_type(env, backend, clock):
    writer = InvoiceBook(env)
    with recording_with(clock):
        original = issue()
    writer.save(original)
    reader = writer if backend == "memory" else InvoiceBook(env)

    loaded: object = reader.repository.get(invoice_id(BUYER.ean, MARCH))

    assert isinstance(loaded, Invoice)
    assert original.id == loaded.id
    assert 1 == loaded.version
    assert clock.now() == loaded.created_on
    for attribute in ("buyer", "month", "issued_on", "lines", "adjustments", "known_at"):
        expected, actual = getattr(original, attribute), getattr(loaded, attribute)
        assert expected == actual, attribute
        assert_same_types(expected, actual, attribute)
    assert original.issued_by == loaded.issued_by
    assert Decimal("47195.01") == loaded.total
    # Decimals keep their written precision, not just their value.
    assert "1.333333" == str(loaded.adjustments[1].days_before)
    assert "200.0002" == str(loaded.lines[1].segments[1].daily)
    assert "3.33" == str(loaded.lines[2].days)
    if reader is not writer:
        reader.close()
    writer.close()


def test_the_stored_event_has_a_pinned_topic_and_the_pseudonymous_citizen_id(env):
    """Topics are stored with every event: never rename the class or the module.

    Name and CPR are looked up when the invoice is rendered; the event holds the id.
    """
    book = InvoiceBook(env)
    invoice = issue()
    book.save(invoice)

    (record,) = book.recorder.select_events(invoice.id)

    assert "ledger.invoice:Invoice.Issued" == record.topic
    assert CITIZEN.hex.encode() in bytes(record.state)
    book.close()


def _sized(lines: int, adjustments: int = 0) -> Invoice:
    return cast("Invoice", SimpleNamespace(lines=[None] * lines, adjustments=[None] * adjustments))


def test_a_month_of_invoices_is_saved_in_groups_within_the_line_budget():
    invoices = [_sized(400), _sized(300, 200), _sized(100), _sized(2_500), _sized(50)]
    groups = _save_groups(invoices, 1_000)
    assert [[invoices.index(i) for i in g] for g in groups] == [[0, 1, 2], [3], [4]]
    assert _save_groups([], 1_000) == []


@dataclasses.dataclass
class MonthSource:
    """A billing source with one March line per buyer and nothing invoiced."""

    buyers_: list[Municipality]

    def position(self) -> int:
        return 0

    def buyers(self) -> list[Municipality]:
        return self.buyers_

    def invoiced(self, buyer_ean: str | None = None) -> dict[str, list[dt.date]]:  # noqa: ARG002
        return {}

    def invoice_lines(
        self,
        month: dt.date,  # noqa: ARG002
        buyer_ean: str | None = None,  # noqa: ARG002
    ) -> dict[str, list[InvoiceLine]]:
        return {b.ean: [WHOLE_MONTH] for b in self.buyers_}

    def pending_adjustments(
        self,
        month: dt.date,  # noqa: ARG002
        buyer_ean: str | None = None,  # noqa: ARG002
    ) -> dict[str, list[AdjustmentLine]]:
        return {}


def test_issuing_saves_the_invoices_in_groups_of_the_line_budget(monkeypatch):
    # One save of a 10,000-contract month never returned (psycopg pipeline; ADR 0012).
    ledger = Ledger(env=ledger_env("memory", Path()), clock=FixedClock.at_local(MARCH))
    saves: list[int] = []
    save = ledger.save

    def counting_save(*aggregates: Any, **kwargs: Any) -> Any:
        saves.append(len(aggregates))
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(ledger, "save", counting_save)
    monkeypatch.setattr("ledger.application.INVOICE_LINES_PER_SAVE", 1)
    issued = ledger.issue_invoices(MARCH, MonthSource([BUYER, PAYER]), actor=OPERATOR)
    assert saves == [1, 1]
    assert sorted(i.buyer.ean for i in issued) == sorted([BUYER.ean, PAYER.ean])
    assert ledger.get_invoice(PAYER.ean, MARCH).lines == (WHOLE_MONTH,)
