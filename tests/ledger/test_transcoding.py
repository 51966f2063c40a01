"""Every value the events and snapshots carry survives the application's transcoder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from ledger.application import VALUE_TYPES, Ledger
from ledger.clock import FixedClock, recording_with
from ledger.contract import (
    Absence,
    Allonge,
    Contract,
    FrameworkNotice,
    NonDelivery,
    Notice,
    PriceFact,
    Regulation,
    Renegotiation,
    Rescission,
    ServiceLine,
)
from ledger.invoice import AdjustmentLine, InvoiceLine, PriceSegment
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.tariff_sheet import SheetPrice
from ledger.values import (
    AbsenceKind,
    ComponentPrice,
    IndexSource,
    NoticePeriod,
    Party,
    RequestNature,
    RescissionGround,
    RespiteBasis,
    Terms,
)
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    PAYER,
    PROVIDER,
    REGIONAL_PROVIDER,
    TERMS,
    agreed_line,
    line_85,
    line_104,
    terms,
)

D = dt.date
SCHEDULE = DaySchedule(
    "2025-03-01",
    (
        ScheduleSegment("Morgenrutine", "Bad og påklædning", 60),
        ScheduleSegment("Øvrig/Nat", "Dokumentation", 20, 2, direct=False, days_per_week=5),
    ),
)
FACT = PriceFact(D(2025, 1, 1), "10", agreed_line().agreed_prices, "Drafted", 1)


SEGMENT = PriceSegment(
    start=D(2025, 4, 1),
    end=D(2025, 4, 3),
    days=Decimal(3),
    daily=Decimal("412.37"),
    step="3",
    components=(ComponentPrice("basis", Decimal("412.37")),),
    cause="Drafted",
    cause_version=1,
)


def dataclass_examples() -> dict[type[Any], list[Any]]:
    """At least one example of every dataclass in VALUE_TYPES, with tuples and Nones."""
    full_terms = terms(
        payment_days_after_reoccupation=14,
        respite_basis=RespiteBasis.USED_DAYS,
        dpa_reference="DBA 2025-1",
        dpa_municipality="Eksempel Kommune",
        other_agreements="Pkt. 15: kørsel afregnes særskilt",
    )
    return {
        type(BUYER_ADMIN): [BUYER_ADMIN],
        type(BUYER): [BUYER, PAYER],
        type(PROVIDER): [PROVIDER, REGIONAL_PROVIDER],
        ComponentPrice: [ComponentPrice("basis", Decimal("412.37"))],
        type(line_85()): [
            line_85(),
            line_104(end=D(2025, 12, 31), first_follow_up=D(2025, 3, 1)),
            agreed_line(basis="412.37", service="100.0625"),
        ],
        NoticePeriod: [NoticePeriod(months=3), NoticePeriod(days=14)],
        Terms: [TERMS, full_terms],
        ScheduleSegment: list(SCHEDULE.segments),
        DaySchedule: [SCHEDULE],
        SheetPrice: [
            SheetPrice("slotsvaenget-85", "service", "3", Decimal("130.000000")),
            SheetPrice("slotsvaenget-104", "night", None, Decimal("1000.000000"), Decimal(365000)),
        ],
        PriceFact: [FACT],
        ServiceLine: [
            ServiceLine("1", agreed_line(), (FACT,), (D(2025, 2, 1), D(2025, 5, 1))),
            ServiceLine("2", agreed_line(), (FACT,), (), (D(2025, 2, 3), D(2025, 2, 4))),
        ],
        PriceSegment: [SEGMENT],
        InvoiceLine: [
            InvoiceLine(
                uuid.UUID(int=7), "1", uuid.UUID(int=8), "SEL §85", (SEGMENT,), Decimal("1237.11")
            )
        ],
        AdjustmentLine: [
            AdjustmentLine(
                contract_id=uuid.UUID(int=7),
                line_id="1",
                citizen_id=uuid.UUID(int=8),
                paragraph="SEL §85",
                month=D(2025, 4, 1),
                period_start=D(2025, 4, 10),
                period_end=D(2025, 4, 30),
                days_before=Decimal(21),
                days_now=Decimal(21),
                daily_before=(Decimal("412.37"),),
                daily_now=(Decimal("450.00"),),
                amount_before=Decimal("8659.77"),
                amount_now=Decimal("9450.00"),
                causes=("RenegotiationAnswered v7",),
            ),
            AdjustmentLine(
                contract_id=uuid.UUID(int=7),
                line_id="1",
                citizen_id=uuid.UUID(int=8),
                paragraph="SEL §85",
                month=D(2025, 5, 1),
                period_start=None,
                period_end=None,
                days_before=Decimal(31),
                days_now=Decimal(0),
                daily_before=(Decimal("412.37"),),
                daily_now=(),
                amount_before=Decimal("12783.47"),
                amount_now=Decimal(0),
                causes=("PlaceReoccupied v9",),
            ),
        ],
        Renegotiation: [
            Renegotiation(
                "R1",
                "1",
                Party.PROVIDER,
                D(2025, 4, 10),
                RequestNature.LASTING,
                "4",
                (),
                None,
                "Flere opgaver",
                SCHEDULE,
                D(2025, 4, 28),
                approved=True,
                agreement_ref="Aftale 2025-21",
                effective_from=D(2025, 4, 10),
            ),
            Renegotiation(
                "R2",
                "3",
                Party.BUYER,
                D(2025, 6, 1),
                RequestNature.LASTING,
                None,
                (ComponentPrice("basis", Decimal(300)), ComponentPrice("service", Decimal(500))),
                D(2025, 7, 1),
                "Mindre behov",
                None,
            ),
        ],
        Absence: [
            Absence(
                "A1",
                AbsenceKind.HOSPITAL,
                D(2025, 3, 1),
                notified_on=D(2025, 3, 10),
                notified_late=True,
                ended_on=D(2025, 3, 20),
            )
        ],
        Allonge: [Allonge("1", D(2025, 3, 10), D(2025, 3, 12), Decimal(25), "Ekstra", "A1", 7)],
        Regulation: [
            Regulation(2026, "tariff-sheet", cause_version=9),
            Regulation(
                2026,
                "index",
                Decimal(3),
                Decimal(1),
                Decimal(0),
                IndexSource.KL,
                "KL juni",
                None,
                8,
            ),
        ],
        Notice: [Notice(Party.BUYER, D(2025, 5, 1), D(2025, 8, 1))],
        Rescission: [Rescission(Party.BUYER, D(2025, 9, 1), RescissionGround.NON_DELIVERY)],
        NonDelivery: [
            NonDelivery(Party.BUYER, D(2025, 8, 1), "Personalemangel", citizen_related=False)
        ],
        FrameworkNotice: [FrameworkNotice(D(2025, 11, 30), "Rammeaftale 2026", 2025, in_time=True)],
    }


@pytest.fixture(scope="module")
def transcoder():
    """The transcoder of an in-memory ledger, with the application's registrations."""
    app = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app.mapper.transcoder
    app.close()


def round_trip(transcoder, value: Any) -> Any:
    return transcoder.decode(transcoder.encode(value))


def assert_same_types(expected: Any, actual: Any, where: str = "value") -> None:
    """Types match all the way down: enums stay members, tuples stay tuples."""
    assert type(expected) is type(actual), where
    if dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            name = f"{where}.{field.name}"
            assert_same_types(getattr(expected, field.name), getattr(actual, field.name), name)
    elif isinstance(expected, tuple | list):
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            assert_same_types(a, b, f"{where}[{index}]")
    elif isinstance(expected, dict):
        assert set(expected) == set(actual), where
        for key in expected:
            assert_same_types(expected[key], actual[key], f"{where}[{key!r}]")


def test_every_value_type_has_an_example_here():
    """A new value type without an example fails here, so it cannot go untested."""
    enums = {t for t in VALUE_TYPES if issubclass(t, Enum)}

    assert set(VALUE_TYPES) - enums == set(dataclass_examples())


@pytest.mark.parametrize(
    "enum_type", [t for t in VALUE_TYPES if issubclass(t, Enum)], ids=lambda t: t.__name__
)
def test_every_enum_member_comes_back_as_the_same_member(transcoder, enum_type):
    """An enum is stored by value and decoded to the member itself, not a string."""
    for member in enum_type:
        assert member is round_trip(transcoder, member)


@pytest.mark.parametrize(
    ("value_type", "examples"),
    list(dataclass_examples().items()),
    ids=lambda t: getattr(t, "__name__", ""),
)
def test_every_dataclass_value_comes_back_equal_with_the_same_types(
    transcoder, value_type, examples
):
    """Frozen values round-trip equal, nested enums as members, sequences as tuples."""
    for example in examples:
        decoded = round_trip(transcoder, example)

        assert example == decoded
        assert_same_types(example, decoded, value_type.__name__)


def test_values_inside_a_dict_and_a_list_round_trip(transcoder):
    """An event payload mixes JSON containers with values: each value comes back typed."""
    payload = {"day": D(2028, 2, 29), "party": Party.BUYER, "prices": [FACT], "id": CITIZEN}

    decoded = round_trip(transcoder, payload)

    assert payload == decoded
    assert_same_types(payload, decoded, "payload")


def test_the_stored_form_of_an_enum_and_a_date_is_pinned(transcoder):
    """Transcoding names are public API: renaming one breaks stored events."""
    assert b'{"_type_":"Party","_data_":"buyer"}' == transcoder.encode(Party.BUYER)
    assert b'{"_type_":"date_iso","_data_":"2025-01-01"}' == transcoder.encode(D(2025, 1, 1))
    assert (
        b'{"_type_":"ComponentPrice","_data_":{"component":"basis",'
        b'"daily":{"_type_":"decimal_str","_data_":"412.37"}}}'
    ) == transcoder.encode(ComponentPrice("basis", Decimal("412.37")))


def test_a_stored_drafted_event_rebuilds_the_same_contract():
    """Mapped to a stored event and back, Drafted carries the same values and replays equal.

    JSON has no tuple: the event's own sequence fields come back as lists
    (the event bodies turn them back into tuples), every value inside is typed.
    """
    app = Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with recording_with(FixedClock.at_local(D(2025, 1, 2))):
        contract = Contract.draft(
            buyer=BUYER,
            payer=PAYER,
            provider=PROVIDER,
            citizen_id=uuid.uuid4(),
            lines=(line_85(), line_104(), agreed_line()),
            terms=TERMS,
            actor=BUYER_ADMIN,
        )
    (event,) = contract.collect_events()

    decoded = app.mapper.to_domain_event(app.mapper.to_stored_event(event))
    app.close()

    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in vars(decoded).items()}
    assert type(event) is type(decoded)
    assert vars(event) == fields
    assert_same_types(vars(event), fields, "Drafted")
    assert vars(event.mutate(None)) == vars(decoded.mutate(None))
