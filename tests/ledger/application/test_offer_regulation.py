"""The annual regulation of a whole offer, and tariff sheets listed with their history.

``regulate_offer_by_tariff_sheet`` and ``regulate_offer_by_index`` give every
affected contract of an offer its own regulation event, report each contract,
and record nothing when run again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger.application import (
    ALREADY_REGULATED,
    FAILED,
    NOT_AFFECTED,
    REGULATED,
    Ledger,
    RegulationOutcome,
)
from ledger.contract import Contract
from ledger.errors import NotPermitted, TariffSheetNotFound
from ledger.tariff_sheet import TariffSheet
from ledger.values import IndexSource, Party, Provider, RescissionGround, ServiceLineSpec
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    TERMS,
    agreed_line,
    line_85,
    line_104,
    placed_contract,
    publish_sheet,
    sheet_prices,
)

OTHER_OFFER = Provider("andet-tilbud", "Andet tilbud", PROVIDER.registration, PROVIDER.operator)


def head(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def draft(ledger: Ledger, *lines: ServiceLineSpec, provider: Provider = PROVIDER) -> Contract:
    contract_id = ledger.draft_contract(
        buyer=BUYER,
        provider=provider,
        citizen_id=CITIZEN,
        lines=list(lines) or [line_85(), line_104()],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )
    return ledger.get_contract(contract_id)


def outcomes_by_id(outcomes: list[RegulationOutcome]) -> dict[object, str]:
    return {o.contract_id: o.outcome for o in outcomes}


def test_every_contract_of_the_offer_gets_its_own_tariff_sheet_regulation(ledger):
    """Two contracts of the offer are regulated for 2026; the other offer's is not listed."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    first, second = placed_contract(ledger), placed_contract(ledger)
    other = draft(ledger, provider=OTHER_OFFER).id

    outcomes = ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)

    assert [(first, REGULATED, 4), (second, REGULATED, 4)] == [
        (o.contract_id, o.outcome, o.version) for o in outcomes
    ]
    for contract_id in (first, second):
        contract = ledger.get_contract(contract_id)
        assert [(2026, "tariff-sheet")] == [(r.year, r.basis) for r in contract.regulations]
    assert () == ledger.get_contract(other).regulations


def test_running_the_regulation_again_records_nothing(ledger):
    """The second run reports every contract as already regulated; the log head stays."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    contract_id = placed_contract(ledger)
    ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)
    before = head(ledger)

    again = ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)

    assert [RegulationOutcome(contract_id, ALREADY_REGULATED, 4)] == [
        RegulationOutcome(o.contract_id, o.outcome, o.version) for o in again
    ]
    assert "regulation-already-applied" == again[0].rule
    assert before == head(ledger)


def test_contracts_the_regulation_does_not_apply_to_are_reported_with_a_reason(ledger):
    """Agreed prices, a start in the regulated year and an ended contract are not affected."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    regulated = placed_contract(ledger)
    agreed = draft(ledger, agreed_line()).id
    starts_in_2026 = draft(
        ledger, line_85(start=dt.date(2026, 2, 1)), line_104(start=dt.date(2026, 2, 1))
    ).id
    ended = placed_contract(ledger)
    ledger.give_notice(
        ended, given_by=Party.BUYER, given_on=dt.date(2025, 1, 10), actor=BUYER_ADMIN
    )

    outcomes = ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)

    assert {
        regulated: REGULATED,
        agreed: NOT_AFFECTED,
        starts_in_2026: NOT_AFFECTED,
        ended: NOT_AFFECTED,
    } == outcomes_by_id(outcomes)
    reasons = {o.contract_id: o.reason or "" for o in outcomes}
    assert "no line is priced from a tariff sheet" in reasons[agreed]
    assert "year after the contract starts" in reasons[starts_in_2026]
    assert "before 2026-01-01" in reasons[ended]
    assert 4 == ledger.get_contract(ended).version


def test_a_contract_the_rules_refuse_is_reported_and_the_others_are_regulated(ledger):
    """A contract rescinded in 2026 fails with its rule; the contract after it is regulated."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    rescinded = placed_contract(ledger)
    ledger.declare_force_majeure(
        rescinded,
        by=Party.PROVIDER,
        declared_on=dt.date(2026, 2, 1),
        description="fire",
        actor=PROVIDER_ADMIN,
    )
    ledger.rescind_without_notice(
        rescinded,
        by=Party.PROVIDER,
        effective_on=dt.date(2026, 3, 1),
        ground=RescissionGround.FORCE_MAJEURE,
        actor=PROVIDER_ADMIN,
    )
    after = placed_contract(ledger)

    outcomes = ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)

    failed, regulated = outcomes
    assert (rescinded, FAILED, "contract-ended", 5) == (
        failed.contract_id,
        failed.outcome,
        failed.rule,
        failed.version,
    )
    assert (after, REGULATED) == (regulated.contract_id, regulated.outcome)


def test_without_the_years_sheet_nothing_is_regulated(ledger):
    """No 2026 sheet: TariffSheetNotFound before any contract is touched."""
    publish_sheet(ledger, 2025)
    placed_contract(ledger)
    before = head(ledger)

    with pytest.raises(TariffSheetNotFound):
        ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=OPERATOR)

    assert before == head(ledger)


@pytest.mark.parametrize("actor", [BUYER_ADMIN, PROVIDER_ADMIN])
def test_only_the_operator_regulates_an_offer(ledger, actor):
    """Administrators regulate no offer, not even one whose contracts they are party to."""
    publish_sheet(ledger, 2025)
    publish_sheet(ledger, 2026, base=110)
    placed_contract(ledger)
    before = head(ledger)

    with pytest.raises(NotPermitted):
        ledger.regulate_offer_by_tariff_sheet(PROVIDER.offer, 2026, actor=actor)
    with pytest.raises(NotPermitted):
        ledger.regulate_offer_by_index(
            PROVIDER.offer,
            2026,
            pl_percentage=Decimal(2),
            overhead_percentage=Decimal(0),
            source=IndexSource.KL,
            edition="KL 2025-06",
            actor=actor,
        )

    assert before == head(ledger)


def test_the_index_regulation_indexes_agreed_prices_only(ledger):
    """By index: the særforanstaltning is regulated (+2 %), the tariff-sheet contract is not."""
    publish_sheet(ledger, 2025)
    sheet_priced = placed_contract(ledger)
    agreed = draft(ledger, agreed_line()).id

    outcomes = ledger.regulate_offer_by_index(
        PROVIDER.offer,
        2026,
        pl_percentage=Decimal(2),
        overhead_percentage=Decimal(0),
        source=IndexSource.KL,
        edition="KL 2025-06",
        actor=OPERATOR,
    )

    assert {sheet_priced: NOT_AFFECTED, agreed: REGULATED} == outcomes_by_id(outcomes)
    price = ledger.prices_on(agreed, dt.date(2026, 1, 1))["1"]
    assert price is not None
    assert Decimal("1020.00") == price.daily  # (400 + 600) * 1.02


def test_a_wrong_index_source_fails_per_contract_and_records_nothing(ledger):
    """A municipal offer indexed by Danske Regioner: each contract fails with the rule."""
    agreed = draft(ledger, agreed_line()).id
    before = head(ledger)

    outcomes = ledger.regulate_offer_by_index(
        PROVIDER.offer,
        2026,
        pl_percentage=Decimal(2),
        overhead_percentage=Decimal(0),
        source=IndexSource.DANSKE_REGIONER,
        edition="DR 2025",
        actor=OPERATOR,
    )

    assert [(agreed, FAILED, "wrong-index-source")] == [
        (o.contract_id, o.outcome, o.rule) for o in outcomes
    ]
    assert before == head(ledger)


def test_the_contracts_of_an_offer_are_found_in_drafting_order(ledger):
    """Only the offer's contracts, oldest first."""
    first = draft(ledger).id
    draft(ledger, provider=OTHER_OFFER)
    second = draft(ledger).id

    assert [first, second] == ledger.offer_contract_ids(PROVIDER.offer)
    assert [] == ledger.offer_contract_ids("no-such-offer")


def test_published_sheets_are_listed_by_offer_and_year(ledger):
    """Listing filters by offer and by year and gives the sheets as they are now."""
    publish_sheet(ledger, 2026)
    publish_sheet(ledger, 2025)
    ledger.publish_tariff_sheet(
        offer=OTHER_OFFER.offer,
        year=2025,
        prices=sheet_prices(),
        source="Takstblad",
        actor=OPERATOR,
    )

    every = [(s.offer, s.year) for s in ledger.tariff_sheets()]
    one_offer = [s.year for s in ledger.tariff_sheets(offer=PROVIDER.offer)]
    one_year = [s.offer for s in ledger.tariff_sheets(year=2025)]

    assert [
        (OTHER_OFFER.offer, 2025),
        (PROVIDER.offer, 2025),
        (PROVIDER.offer, 2026),
    ] == every
    assert [2025, 2026] == one_offer
    assert [OTHER_OFFER.offer, PROVIDER.offer] == one_year
    assert [] == ledger.tariff_sheets(offer=PROVIDER.offer, year=2030)


def test_a_sheets_history_shows_the_correction_and_its_reason(ledger, clock):
    """Published, then corrected with a reason; as known before the correction, only published."""
    publish_sheet(ledger, 2025)
    published_at = clock.now()
    clock.advance(dt.timedelta(days=1))
    ledger.correct_tariff_sheet(
        offer=PROVIDER.offer,
        year=2025,
        prices=sheet_prices(base=Decimal(200)),
        reason="typo in the takstblad",
        actor=OPERATOR,
    )

    history = ledger.tariff_sheet_history(PROVIDER.offer, 2025)
    earlier = ledger.tariff_sheet_history(PROVIDER.offer, 2025, known_at=published_at)

    assert [TariffSheet.Published, TariffSheet.Corrected] == [type(e) for e in history]
    corrected = history[1]
    assert isinstance(corrected, TariffSheet.Corrected)
    assert ("typo in the takstblad", OPERATOR) == (corrected.reason, corrected.actor)
    assert [TariffSheet.Published] == [type(e) for e in earlier]
