"""Tariff sheets in the ledger: one per offer and year, required before regulating."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import NotPermitted, TariffSheetAlreadyPublished, TariffSheetNotFound
from ledger.tariff_sheet import sheet_id
from ledger.values import Actor, Role
from tests.ledger.examples import (
    BUYER_ADMIN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    START,
    placed_contract,
    publish_sheet,
    sheet_prices,
)

OFFER = PROVIDER.offer
OTHER_PROVIDER_ADMIN = Actor("29189935", Role.PROVIDER_ADMIN, "key-other", "req-9")


def test_a_published_sheet_is_found_by_offer_and_year(make_ledger):
    """Publishing returns the sheet's derived id; a new ledger instance finds the prices."""
    ledger = make_ledger()

    published = publish_sheet(ledger, 2025)

    sheet = make_ledger().get_tariff_sheet(OFFER, 2025)
    assert sheet_id(OFFER, 2025) == published == sheet.id
    assert (1, "Takstblad 2025", PROVIDER_ADMIN) == (
        sheet.version,
        sheet.source,
        next(iter(make_ledger().events.get(sheet.id))).actor,
    )
    assert Decimal(130) == sheet.lookup("slotsvaenget-85", "service", "3")


def test_publishing_the_same_offer_and_year_twice_is_refused(ledger):
    """The second sheet for 2025 is TariffSheetAlreadyPublished; the first stays as it was."""
    publish_sheet(ledger, 2025)

    with pytest.raises(TariffSheetAlreadyPublished):
        publish_sheet(ledger, 2025, base=200)

    sheet = ledger.get_tariff_sheet(OFFER, 2025)
    assert (1, Decimal(50)) == (sheet.version, sheet.lookup("slotsvaenget-85", "basis", None))


def test_another_year_of_the_same_offer_is_a_separate_sheet(ledger):
    """2025 and 2026 are two sheets."""
    publish_sheet(ledger, 2025)

    publish_sheet(ledger, 2026, base=110)

    assert Decimal(55) == ledger.get_tariff_sheet(OFFER, 2026).lookup(
        "slotsvaenget-85", "basis", None
    )


def test_a_missing_sheet_is_not_found(ledger):
    """No 2025 sheet: get and correct raise TariffSheetNotFound."""
    with pytest.raises(TariffSheetNotFound):
        ledger.get_tariff_sheet(OFFER, 2025)
    with pytest.raises(TariffSheetNotFound):
        ledger.correct_tariff_sheet(
            offer=OFFER, year=2025, prices=sheet_prices(), reason="Rettelse", actor=OPERATOR
        )


def test_a_buyer_administrator_cannot_publish_a_sheet(ledger):
    """Sheets are the provider's (or an operator's) to publish."""
    with pytest.raises(NotPermitted):
        publish_sheet(ledger, 2025, actor=BUYER_ADMIN)

    assert 0 == (ledger.recorder.max_notification_id() or 0)


def test_only_the_publishing_provider_may_correct_a_sheet(ledger):
    """Another provider's administrator is refused and the sheet keeps its prices."""
    publish_sheet(ledger, 2025)

    with pytest.raises(NotPermitted, match="only the publisher"):
        ledger.correct_tariff_sheet(
            offer=OFFER,
            year=2025,
            prices=sheet_prices(base=Decimal(200)),
            reason="wrong offer",
            actor=OTHER_PROVIDER_ADMIN,
        )

    sheet = ledger.get_tariff_sheet(OFFER, 2025)
    assert (1, PROVIDER_ADMIN.organisation) == (sheet.version, sheet.publisher)


def test_a_provider_cannot_publish_a_year_of_an_offer_another_provider_published(ledger):
    """Given the offer's 2025 sheet by its provider, another provider may not open 2026."""
    publish_sheet(ledger, 2025)
    before = ledger.recorder.max_notification_id()

    with pytest.raises(NotPermitted, match=f"provided by {PROVIDER_ADMIN.organisation}") as no:
        publish_sheet(ledger, 2026, actor=OTHER_PROVIDER_ADMIN)

    assert "offer" == no.value.field
    assert before == ledger.recorder.max_notification_id()


def test_a_provider_cannot_publish_for_an_offer_another_provider_has_contracts_on(ledger):
    """Given a contract naming the offer's provider and no sheet, another provider is refused."""
    placed_contract(ledger)
    before = ledger.recorder.max_notification_id()

    with pytest.raises(NotPermitted, match=f"provided by {PROVIDER.registration}"):
        publish_sheet(ledger, 2025, actor=OTHER_PROVIDER_ADMIN)

    assert before == ledger.recorder.max_notification_id()


def test_the_offers_own_provider_publishes_next_year_and_the_operator_any_year(ledger):
    """Sheets the operator published claim the offer for nobody."""
    publish_sheet(ledger, 2024, actor=OPERATOR)
    placed_contract(ledger)
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, actor=OPERATOR)

    publishers = [ledger.get_tariff_sheet(OFFER, y).publisher for y in (2024, 2025, 2026)]
    assert [OPERATOR.organisation, PROVIDER_ADMIN.organisation, OPERATOR.organisation] == (
        publishers
    )


def test_the_publishing_provider_may_correct_its_sheet(ledger):
    """A correction by the publisher replaces the prices and keeps the history."""
    publish_sheet(ledger, 2025)

    ledger.correct_tariff_sheet(
        offer=OFFER,
        year=2025,
        prices=sheet_prices(base=Decimal(200)),
        reason="typo in the takstblad",
        actor=PROVIDER_ADMIN,
    )

    assert 2 == ledger.get_tariff_sheet(OFFER, 2025).version


def test_regulating_to_a_year_without_a_sheet_is_refused_and_records_nothing(ledger):
    """No 2026 sheet: TariffSheetNotFound, the contract stays at version 3."""
    publish_sheet(ledger, 2025)
    contract_id = placed_contract(ledger)

    with pytest.raises(TariffSheetNotFound):
        ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=OPERATOR)

    contract = ledger.get_contract(contract_id)
    assert (3, ()) == (contract.version, contract.regulations)


def test_regulating_to_a_published_year_moves_the_lines_to_that_sheet(ledger):
    """With the 2026 sheet, §85 step 3 costs 195 from 1 January 2026."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    contract_id = placed_contract(ledger)

    ledger.regulate_by_tariff_sheet(contract_id, 2026, actor=BUYER_ADMIN)

    price = ledger.prices_on(contract_id, START.replace(year=2026))["1"]
    assert price is not None
    assert (Decimal(195), 2026) == (price.daily, price.sheet_year)
