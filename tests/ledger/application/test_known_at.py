"""Record time: prices and contracts as they were known at an instant (architecture 3)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.clock import local_instant
from ledger.errors import ContractNotFound, InvalidValue, TariffSheetNotFound
from tests.ledger.examples import (
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    START,
    placed_contract,
    publish_sheet,
    sheet_prices,
)

D = dt.date
OFFER = PROVIDER.offer


def daily(
    ledger: Ledger,
    contract_id: uuid.UUID,
    day: dt.date,
    known_at: dt.datetime | None = None,
    line_id: str = "1",
) -> Decimal | None:
    period = ledger.prices_on(contract_id, day, known_at=known_at)[line_id]
    return None if period is None else period.daily


def test_a_step_change_is_invisible_as_known_before_it_was_recorded(make_ledger, clock):
    """Recorded 1 March with effect from 1 February: known on 15 February, February is 180."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    clock.set(local_instant(D(2025, 3, 1)))
    ledger.change_step(
        contract_id,
        "1",
        "5",
        effective_from=D(2025, 2, 1),
        agreed_on=D(2025, 2, 27),
        agreement_ref="Aftale 2025-9",
        actor=OPERATOR,
    )
    reader = make_ledger()

    assert Decimal(180) == daily(reader, contract_id, D(2025, 2, 10), local_instant(D(2025, 2, 15)))
    assert Decimal(200) == daily(reader, contract_id, D(2025, 2, 10), local_instant(D(2025, 3, 2)))
    assert Decimal(200) == daily(reader, contract_id, D(2025, 2, 10))


def test_a_change_is_known_from_the_instant_it_was_recorded(make_ledger, clock):
    """known_at equal to the recording instant includes the change; a microsecond earlier not."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    recorded = local_instant(D(2025, 3, 1))
    clock.set(recorded)
    ledger.change_step(
        contract_id,
        "1",
        "5",
        effective_from=D(2025, 2, 1),
        agreed_on=D(2025, 2, 27),
        agreement_ref="Aftale 2025-9",
        actor=OPERATOR,
    )
    just_before = recorded - dt.timedelta(microseconds=1)

    assert 4 == ledger.get_contract(contract_id, known_at=recorded).version
    assert 3 == ledger.get_contract(contract_id, known_at=just_before).version


def test_the_timeline_as_known_then_shows_the_old_price(make_ledger, clock):
    """As known on 15 February the line has one period at 180; now it splits on 1 February."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    clock.set(local_instant(D(2025, 3, 1)))
    ledger.change_step(
        contract_id,
        "1",
        "5",
        effective_from=D(2025, 2, 1),
        agreed_on=D(2025, 2, 27),
        agreement_ref="Aftale 2025-9",
        actor=OPERATOR,
    )

    then = ledger.price_timeline(
        contract_id, "1", end=D(2025, 2, 28), known_at=local_instant(D(2025, 2, 15))
    )
    now = ledger.price_timeline(contract_id, "1", end=D(2025, 2, 28))

    assert [(START, D(2025, 2, 28), Decimal(180))] == [(p.start, p.end, p.daily) for p in then]
    assert [
        (START, D(2025, 1, 31), Decimal(180)),
        (D(2025, 2, 1), D(2025, 2, 28), Decimal(200)),
    ] == [(p.start, p.end, p.daily) for p in now]


def test_a_contract_is_not_found_as_known_before_it_was_drafted(make_ledger):
    """Drafted 2 January 2025: as known on 1 January it does not exist."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    before = local_instant(D(2025, 1, 1))

    with pytest.raises(ContractNotFound):
        ledger.get_contract(contract_id, known_at=before)
    with pytest.raises(ContractNotFound):
        ledger.prices_on(contract_id, D(2025, 1, 1), known_at=before)


def test_known_at_without_a_timezone_is_refused(make_ledger):
    """A naive instant is ambiguous in a bi-temporal ledger."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)

    with pytest.raises(InvalidValue) as raised:
        ledger.get_contract(contract_id, known_at=dt.datetime(2025, 3, 1, 12))  # noqa: DTZ001

    assert "known_at" == raised.value.field


def test_prices_as_known_before_a_sheet_correction_use_the_old_prices(make_ledger, clock):
    """Corrected 1 February to base 120: known on 20 January January is 180, now 210."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    clock.set(local_instant(D(2025, 2, 1)))
    ledger.correct_tariff_sheet(
        offer=OFFER,
        year=2025,
        prices=sheet_prices(base=Decimal(120)),
        reason="Forkert basistakst",
        actor=PROVIDER_ADMIN,
    )
    reader = make_ledger()
    before = local_instant(D(2025, 1, 20))

    # Base 120: basis 60 + service 120 + 3 × 10 = 210.
    assert Decimal(180) == daily(reader, contract_id, D(2025, 1, 10), before)
    assert Decimal(210) == daily(reader, contract_id, D(2025, 1, 10))
    assert (0, Decimal(50)) == (
        reader.get_tariff_sheet(OFFER, 2025, known_at=before).corrections,
        reader.get_tariff_sheet(OFFER, 2025, known_at=before).lookup(
            "slotsvaenget-85", "basis", None
        ),
    )
    assert 1 == reader.get_tariff_sheet(OFFER, 2025).corrections


def test_a_regulation_recorded_in_february_is_unknown_in_january_but_reaches_back(
    make_ledger, clock
):
    """2026 sheet regulated on 10 February: as known 15 January, 1 January is still 180."""
    ledger = make_ledger()
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)
    clock.set(local_instant(D(2026, 1, 5)))
    publish_sheet(ledger, 2026, base=110)
    clock.set(local_instant(D(2026, 2, 10)))
    ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=OPERATOR)
    reader = make_ledger()

    assert Decimal(180) == daily(reader, contract_id, D(2026, 1, 1), local_instant(D(2026, 1, 15)))
    assert Decimal(195) == daily(reader, contract_id, D(2026, 1, 1))
    assert Decimal(270) == daily(reader, contract_id, D(2026, 1, 1), line_id="2")


def test_a_sheet_not_yet_published_at_known_at_cannot_price(make_ledger, clock):
    """As known before the 2025 sheet was published, pricing 2025 days fails."""
    ledger = make_ledger()
    contract_id = placed_contract(ledger)
    clock.set(local_instant(D(2025, 1, 3)))
    publish_sheet(ledger, 2025)

    with pytest.raises(TariffSheetNotFound):
        ledger.prices_on(contract_id, D(2025, 1, 2), known_at=local_instant(D(2025, 1, 2), 13))
    assert Decimal(180) == daily(ledger, contract_id, D(2025, 1, 2))
