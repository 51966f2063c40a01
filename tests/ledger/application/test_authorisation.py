"""Who may do what: roles, organisations and the party each clause gives an action to."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.errors import NotPermitted, WrongParty
from ledger.values import Actor, Party, RequestNature, Role
from tests.ledger.examples import (
    AUDITOR,
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    OPERATOR,
    PAYER,
    PROVIDER,
    PROVIDER_ADMIN,
    REGIONAL_PROVIDER,
    TERMS,
    line_85,
    line_104,
    placed_contract,
    sheet_prices,
)

D = dt.date
OTHER_BUYER_ADMIN = Actor(PAYER.cvr, Role.BUYER_ADMIN, "key-other-buyer", "req-9")
OTHER_PROVIDER_ADMIN = Actor(
    REGIONAL_PROVIDER.registration, Role.PROVIDER_ADMIN, "key-other-provider", "req-10"
)


def providers_request(ledger: Ledger, contract_id: uuid.UUID) -> str:
    """The provider asks for §85 step 4, received 10 April."""
    request_id: str = ledger.request_renegotiation(
        contract_id,
        "1",
        requested_by=Party.PROVIDER,
        received_on=D(2025, 4, 10),
        nature=RequestNature.LASTING,
        description="Flere daglige opgaver",
        actor=PROVIDER_ADMIN,
        proposed_step="4",
    )
    return request_id


def notifications(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def test_an_auditor_cannot_change_a_contract(ledger):
    """Auditors read; a command by one is NotPermitted and records nothing."""
    contract_id = placed_contract(ledger)
    recorded = notifications(ledger)

    with pytest.raises(NotPermitted):
        ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=AUDITOR)

    assert recorded == notifications(ledger)
    assert 3 == ledger.get_contract(contract_id).version


def test_an_auditor_cannot_draft_a_contract_or_publish_a_sheet(ledger):
    """Creating commands also need an administrator or operator role."""
    with pytest.raises(NotPermitted):
        ledger.draft_contract(
            buyer=BUYER,
            provider=PROVIDER,
            citizen_id=CITIZEN,
            lines=[line_85(), line_104()],
            terms=TERMS,
            actor=AUDITOR,
        )
    with pytest.raises(NotPermitted):
        ledger.publish_tariff_sheet(
            offer=PROVIDER.offer, year=2025, prices=sheet_prices(), source="T", actor=AUDITOR
        )

    assert 0 == notifications(ledger)


def test_a_buyer_administrator_of_another_municipality_cannot_act_on_the_contract(ledger):
    """Organisation 29189927 is not this contract's buyer."""
    contract_id = placed_contract(ledger)

    with pytest.raises(NotPermitted):
        ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=OTHER_BUYER_ADMIN)

    assert 3 == ledger.get_contract(contract_id).version


def test_a_buyer_administrator_drafts_only_for_their_own_municipality(ledger):
    """Drafting a contract whose buyer is another municipality is NotPermitted."""
    with pytest.raises(NotPermitted) as raised:
        ledger.draft_contract(
            buyer=BUYER,
            provider=PROVIDER,
            citizen_id=CITIZEN,
            lines=[line_85(), line_104()],
            terms=TERMS,
            actor=OTHER_BUYER_ADMIN,
        )

    assert "buyer.cvr" == raised.value.field
    assert 0 == notifications(ledger)


def test_a_provider_administrator_of_another_provider_cannot_act_on_the_contract(ledger):
    """Another provider cannot notify this contract's re-occupation."""
    contract_id = placed_contract(ledger)
    ledger.give_notice(contract_id, given_by=Party.BUYER, given_on=D(2025, 5, 1), actor=BUYER_ADMIN)

    with pytest.raises(NotPermitted):
        ledger.record_reoccupation(contract_id, D(2025, 6, 1), actor=OTHER_PROVIDER_ADMIN)

    assert ledger.get_contract(contract_id).reoccupied_on is None


def test_a_provider_administrator_cannot_take_the_buyers_part(ledger):
    """Follow-up meetings are the buyer's: the provider's administrator is NotPermitted."""
    contract_id = placed_contract(ledger)

    with pytest.raises(NotPermitted) as raised:
        ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=PROVIDER_ADMIN)

    assert "party" == raised.value.field


def test_a_provider_cannot_approve_its_own_renegotiation_request(ledger):
    """Answering as the provider that asked is WrongParty, from the contract (pkt. 16)."""
    contract_id = placed_contract(ledger)
    request_id = providers_request(ledger, contract_id)

    with pytest.raises(WrongParty) as raised:
        ledger.answer_renegotiation(
            contract_id,
            request_id,
            answered_by=Party.PROVIDER,
            answered_on=D(2025, 4, 20),
            approved=True,
            agreement_ref="Aftale",
            actor=PROVIDER_ADMIN,
        )

    assert "answered_by" == raised.value.field
    contract = ledger.get_contract(contract_id)
    assert (4, True) == (contract.version, contract.renegotiations[request_id].is_open)


def test_a_provider_administrator_cannot_answer_in_the_buyers_name(ledger):
    """Claiming to answer as the buyer with a provider key is NotPermitted, by the application."""
    contract_id = placed_contract(ledger)
    request_id = providers_request(ledger, contract_id)

    with pytest.raises(NotPermitted) as raised:
        ledger.answer_renegotiation(
            contract_id,
            request_id,
            answered_by=Party.BUYER,
            answered_on=D(2025, 4, 20),
            approved=True,
            agreement_ref="Aftale",
            actor=PROVIDER_ADMIN,
        )

    assert "party" == raised.value.field
    assert ledger.get_contract(contract_id).renegotiations[request_id].is_open


def test_the_buyers_administrator_answers_the_providers_request(ledger):
    """The buyer approves: step 4 from the receipt on 10 April, answered by the buyer's key."""
    ledger.publish_tariff_sheet(
        offer=PROVIDER.offer, year=2025, prices=sheet_prices(), source="T", actor=PROVIDER_ADMIN
    )
    contract_id = placed_contract(ledger)
    request_id = providers_request(ledger, contract_id)

    ledger.answer_renegotiation(
        contract_id,
        request_id,
        answered_by=Party.BUYER,
        answered_on=D(2025, 4, 28),
        approved=True,
        agreement_ref="Aftale 2025-21",
        actor=BUYER_ADMIN,
    )

    answer = list(ledger.events.get(contract_id))[-1]
    prices = ledger.prices_on(contract_id, D(2025, 4, 10))
    assert (BUYER_ADMIN, D(2025, 4, 10)) == (answer.actor, answer.effective_from)
    assert prices["1"] is not None
    assert Decimal(190) == prices["1"].daily


def test_an_operator_may_act_for_either_party(ledger):
    """The operator records both the provider's notice and the buyer's follow-up."""
    contract_id = placed_contract(ledger)

    ledger.hold_follow_up(contract_id, "1", D(2025, 2, 1), actor=OPERATOR)
    ledger.give_notice(contract_id, given_by=Party.PROVIDER, given_on=D(2025, 5, 1), actor=OPERATOR)

    assert 5 == ledger.get_contract(contract_id).version
