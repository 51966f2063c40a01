"""Lines, provisional steps, offer, final placement and signatures (4.1, pkt. 5, 17, 18)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ledger import errors
from ledger.contract import Contract, ContractStatus
from ledger.values import DataRole, Party, RescissionGround, RespiteBasis
from tests.ledger.examples import (
    OPERATOR,
    START,
    agreed_line,
    drafted,
    final_contract,
    line_85,
    line_104,
    terms,
)
from tests.ledger.given_when_then import Fact, fact, given, then_rejected, when

DAY = dt.timedelta(days=1)
OFFERED_ON = dt.date(2025, 1, 10)
FINAL_ON = dt.date(2025, 1, 15)
SIGNED_ON = dt.date(2025, 1, 20)


def offered(day: dt.date = OFFERED_ON) -> Fact:
    """The fact that the place was offered on ``day``."""
    return fact(Contract.PlaceOffered, offered_on=day, actor=OPERATOR)


def finalised(day: dt.date = FINAL_ON) -> Fact:
    """The fact that the placement became final on ``day``."""
    return fact(Contract.PlacementFinalised, final_on=day, actor=OPERATOR)


def signed(party: Party, day: dt.date = SIGNED_ON) -> Fact:
    """The fact that ``party`` signed on ``day``."""
    return fact(Contract.Signed, party=party, signed_on=day, actor=OPERATOR)


def rescinded(day: dt.date = START) -> tuple[Fact, Fact]:
    """The facts that force majeure was declared and the contract rescinded from ``day``."""
    return (
        fact(
            Contract.ForceMajeureDeclared,
            by=Party.PROVIDER,
            declared_on=day,
            description="Brand på botilbuddet",
            actor=OPERATOR,
        ),
        fact(
            Contract.RescindedWithoutNotice,
            by=Party.PROVIDER,
            effective_on=day,
            ground=RescissionGround.FORCE_MAJEURE,
            actor=OPERATOR,
        ),
    )


# --- add_service_line (pkt. 5) ------------------------------------------------


def test_a_line_added_to_a_draft_gets_the_next_id():
    """A new line is numbered after the existing ones and recorded with its spec."""
    contract = given(Contract, drafted())
    spec = line_104(step="3:1", start=dt.date(2025, 2, 1))

    events = when(contract, lambda c: c.add_service_line(spec, actor=OPERATOR))

    assert [
        (Contract.ServiceLineAdded, {"line_id": "3", "spec": spec, "actor": OPERATOR})
    ] == events
    assert "3:1" == contract.lines["3"].step_on(dt.date(2025, 2, 1))


def test_adding_a_line_returns_its_id():
    """The command answers with the new line's id."""
    contract = final_contract()

    assert "3" == contract.add_service_line(agreed_line(), actor=OPERATOR)


def test_a_line_may_be_added_after_the_placement_is_final():
    """Lines are not frozen by finality; the new line starts its own price history."""
    contract = final_contract()

    events = when(contract, lambda c: c.add_service_line(agreed_line(), actor=OPERATOR))

    assert [
        (Contract.ServiceLineAdded, {"line_id": "3", "spec": agreed_line(), "actor": OPERATOR})
    ] == events
    assert agreed_line().agreed_prices == contract.lines["3"].prices_on(START)


def test_an_added_line_with_an_unknown_step_is_rejected():
    """The added line is checked like a drafted one."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.add_service_line(line_104(step="5:1"), actor=OPERATOR),
        errors.UnknownStep,
    )
    assert "line.step" == error.field


def test_an_added_line_with_zero_quantity_is_rejected():
    """Quantity must be positive on an added line too."""
    contract = final_contract()
    spec = dataclasses.replace(line_104(), quantity=Decimal(0))

    error = then_rejected(
        contract, lambda c: c.add_service_line(spec, actor=OPERATOR), errors.InvalidValue
    )
    assert "line.quantity" == error.field


def test_an_added_respite_line_without_a_respite_basis_is_rejected():
    """Pkt. 5: a respite line needs the contract's respite basis."""
    contract = final_contract()
    spec = dataclasses.replace(agreed_line(), respite=True)

    error = then_rejected(
        contract, lambda c: c.add_service_line(spec, actor=OPERATOR), errors.TermsIncomplete
    )
    assert "terms.respite_basis" == error.field


def test_an_added_respite_line_is_accepted_when_the_basis_is_chosen():
    """With granted or used days chosen, a respite line can be added."""
    contract = given(
        Contract, drafted(contract_terms=terms(respite_basis=RespiteBasis.GRANTED_DAYS))
    )
    spec = dataclasses.replace(agreed_line(), respite=True)

    events = when(contract, lambda c: c.add_service_line(spec, actor=OPERATOR))

    assert [
        (Contract.ServiceLineAdded, {"line_id": "3", "spec": spec, "actor": OPERATOR})
    ] == events


def test_adding_a_section_85_line_to_a_contract_without_section_104_is_rejected():
    """Støttepakken: §85 only with §104, also when the §85 line is added later."""
    contract = given(Contract, drafted(agreed_line()), offered(), finalised())

    error = then_rejected(
        contract,
        lambda c: c.add_service_line(line_85(), actor=OPERATOR),
        errors.Section85RequiresSection104,
    )
    assert "lines" == error.field


def test_adding_a_line_to_a_rescinded_contract_is_rejected():
    """An ended contract takes no new lines."""
    contract = given(Contract, drafted(), *rescinded())

    then_rejected(
        contract,
        lambda c: c.add_service_line(agreed_line(), actor=OPERATOR),
        errors.ContractEnded,
    )


# --- revise_provisional_step (4.1) --------------------------------------------


def test_a_provisional_step_is_revised_before_the_placement_is_final():
    """Before finality the step may change without renegotiation."""
    contract = given(Contract, drafted(), offered())

    events = when(contract, lambda c: c.revise_provisional_step("1", "4", actor=OPERATOR))

    assert [
        (Contract.ProvisionalStepRevised, {"line_id": "1", "step": "4", "actor": OPERATOR})
    ] == events


def test_a_revised_provisional_step_replaces_the_first_price_fact():
    """No price history before finality: the step is in force from the line's start."""
    contract = given(Contract, drafted())

    contract.revise_provisional_step("2", "3:4", actor=OPERATOR)

    line = contract.lines["2"]
    assert 1 == len(line.facts)
    assert "3:4" == line.step_on(START)
    assert "ProvisionalStepRevised" == line.facts[0].cause
    assert 2 == line.facts[0].cause_version


def test_revising_a_provisional_step_after_the_placement_is_final_is_rejected():
    """After finality a step changes only by agreement or renegotiation."""
    contract = given(Contract, drafted(), offered(), finalised())

    error = then_rejected(
        contract,
        lambda c: c.revise_provisional_step("1", "4", actor=OPERATOR),
        errors.PlacementAlreadyFinal,
    )
    assert "Takstmodel 4.1" == error.clause


def test_revising_a_provisional_step_to_the_same_step_is_rejected():
    """Nothing changes when the step is already the one proposed."""
    contract = given(Contract, drafted())

    error = then_rejected(
        contract,
        lambda c: c.revise_provisional_step("1", "3", actor=OPERATOR),
        errors.NothingChanges,
    )
    assert "step" == error.field


def test_revising_a_provisional_step_to_an_unknown_step_is_rejected():
    """The revised step must exist in the line's model."""
    contract = given(Contract, drafted())

    then_rejected(
        contract,
        lambda c: c.revise_provisional_step("1", "9", actor=OPERATOR),
        errors.UnknownStep,
    )


def test_revising_the_provisional_step_of_an_unknown_line_is_rejected():
    """The line must exist."""
    contract = given(Contract, drafted())

    error = then_rejected(
        contract,
        lambda c: c.revise_provisional_step("7", "4", actor=OPERATOR),
        errors.UnknownServiceLine,
    )
    assert "line_id" == error.field


def test_revising_a_provisional_step_of_a_rescinded_contract_is_rejected():
    """An ended contract's steps do not change any more."""
    contract = given(Contract, drafted(), *rescinded())

    then_rejected(
        contract,
        lambda c: c.revise_provisional_step("1", "4", actor=OPERATOR),
        errors.ContractEnded,
    )


# --- offer_place and finalise_placement (4.1) -------------------------------


def test_offering_the_place_records_the_offer_date():
    """The citizen is offered the place on a business date."""
    contract = given(Contract, drafted())

    events = when(contract, lambda c: c.offer_place(OFFERED_ON, actor=OPERATOR))

    assert [(Contract.PlaceOffered, {"offered_on": OFFERED_ON, "actor": OPERATOR})] == events
    assert OFFERED_ON == contract.offered_on


def test_offering_the_place_twice_is_rejected():
    """The place is offered once."""
    contract = given(Contract, drafted(), offered())

    error = then_rejected(
        contract,
        lambda c: c.offer_place(OFFERED_ON + DAY, actor=OPERATOR),
        errors.PlaceAlreadyOffered,
    )
    assert "offered_on" == error.field


def test_finalising_the_placement_after_the_offer_records_the_final_date():
    """Takstmodel 4.1: "først endeligt når borger tilbydes plads"."""
    contract = given(Contract, drafted(), offered())

    events = when(contract, lambda c: c.finalise_placement(FINAL_ON, actor=OPERATOR))

    assert [(Contract.PlacementFinalised, {"final_on": FINAL_ON, "actor": OPERATOR})] == events
    assert FINAL_ON == contract.final_on


def test_finalising_on_the_day_of_the_offer_is_accepted():
    """The offer and finality may fall on one day."""
    contract = given(Contract, drafted(), offered())

    events = when(contract, lambda c: c.finalise_placement(OFFERED_ON, actor=OPERATOR))

    assert [(Contract.PlacementFinalised, {"final_on": OFFERED_ON, "actor": OPERATOR})] == events


def test_finalising_before_the_place_is_offered_is_rejected():
    """A placement is final only once the place has been offered."""
    contract = given(Contract, drafted())

    error = then_rejected(
        contract,
        lambda c: c.finalise_placement(FINAL_ON, actor=OPERATOR),
        errors.PlaceNotOffered,
    )
    assert "place-not-offered" == error.rule


def test_finalising_twice_is_rejected():
    """A placement becomes final once."""
    contract = given(Contract, drafted(), offered(), finalised())

    then_rejected(
        contract,
        lambda c: c.finalise_placement(FINAL_ON + DAY, actor=OPERATOR),
        errors.PlacementAlreadyFinal,
    )


def test_a_final_date_before_the_offer_is_rejected():
    """Finality cannot precede the offer."""
    contract = given(Contract, drafted(), offered())

    error = then_rejected(
        contract,
        lambda c: c.finalise_placement(OFFERED_ON - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "final_on" == error.field


# --- sign (pkt. 17, 18) -------------------------------------------------------


@pytest.mark.parametrize("party", [Party.BUYER, Party.PROVIDER])
def test_either_party_signs_a_final_placement(party):
    """Each party signs with a date."""
    contract = given(Contract, drafted(), offered(), finalised())

    events = when(contract, lambda c: c.sign(party, SIGNED_ON, actor=OPERATOR))

    assert [
        (Contract.Signed, {"party": party, "signed_on": SIGNED_ON, "actor": OPERATOR})
    ] == events


def test_signing_on_the_day_of_finality_is_accepted():
    """A signature may be dated the day the placement became final."""
    contract = given(Contract, drafted(), offered(), finalised())

    events = when(contract, lambda c: c.sign(Party.BUYER, FINAL_ON, actor=OPERATOR))

    assert [
        (Contract.Signed, {"party": Party.BUYER, "signed_on": FINAL_ON, "actor": OPERATOR})
    ] == events


def test_signing_before_the_placement_is_final_is_rejected():
    """Steps are provisional until final; nothing to sign yet."""
    contract = given(Contract, drafted(), offered())

    error = then_rejected(
        contract,
        lambda c: c.sign(Party.BUYER, SIGNED_ON, actor=OPERATOR),
        errors.PlacementNotFinal,
    )
    assert "placement-not-final" == error.rule


def test_signing_twice_is_rejected():
    """A party signs once."""
    contract = given(Contract, drafted(), offered(), finalised(), signed(Party.PROVIDER))

    error = then_rejected(
        contract,
        lambda c: c.sign(Party.PROVIDER, SIGNED_ON + DAY, actor=OPERATOR),
        errors.AlreadySigned,
    )
    assert "party" == error.field
    assert "Bilag 1 pkt. 18" == error.clause


def test_a_signature_dated_before_finality_is_rejected():
    """A signature cannot precede the final placement."""
    contract = given(Contract, drafted(), offered(), finalised())

    error = then_rejected(
        contract,
        lambda c: c.sign(Party.BUYER, FINAL_ON - DAY, actor=OPERATOR),
        errors.DateOutOfOrder,
    )
    assert "signed_on" == error.field


def test_a_data_processor_without_a_data_processing_agreement_cannot_sign():
    """Pkt. 17: a processor needs a DPA with the buyer before the contract is signed."""
    draft = drafted(contract_terms=terms(data_role=DataRole.PROCESSOR))
    contract = given(Contract, draft, offered(), finalised())

    error = then_rejected(
        contract,
        lambda c: c.sign(Party.BUYER, SIGNED_ON, actor=OPERATOR),
        errors.DataProcessorAgreementMissing,
    )
    assert "terms.dpa_reference" == error.field
    assert "Bilag 1 pkt. 17" == error.clause


def test_a_data_processor_with_a_blank_agreement_reference_cannot_sign():
    """A reference of blanks is no data processing agreement."""
    draft = drafted(contract_terms=terms(data_role=DataRole.PROCESSOR, dpa_reference="  "))
    contract = given(Contract, draft, offered(), finalised())

    then_rejected(
        contract,
        lambda c: c.sign(Party.BUYER, SIGNED_ON, actor=OPERATOR),
        errors.DataProcessorAgreementMissing,
    )


def test_a_data_processor_with_a_data_processing_agreement_signs():
    """With the DPA referenced, the processor's contract is signed."""
    draft = drafted(
        contract_terms=terms(data_role=DataRole.PROCESSOR, dpa_reference="DBA-2025-017")
    )
    contract = given(Contract, draft, offered(), finalised())

    events = when(contract, lambda c: c.sign(Party.PROVIDER, SIGNED_ON, actor=OPERATOR))

    assert [
        (Contract.Signed, {"party": Party.PROVIDER, "signed_on": SIGNED_ON, "actor": OPERATOR})
    ] == events


def test_signing_a_rescinded_contract_is_rejected():
    """An ended contract is not signed."""
    contract = given(Contract, drafted(), *rescinded(), offered(), finalised())

    then_rejected(
        contract,
        lambda c: c.sign(Party.BUYER, SIGNED_ON, actor=OPERATOR),
        errors.ContractEnded,
    )


# --- binding and status -------------------------------------------------------


def test_the_contract_binds_only_when_both_parties_have_signed():
    """Pkt. 18: one signature does not bind."""
    one = given(Contract, drafted(), offered(), finalised(), signed(Party.BUYER))
    both = given(
        Contract,
        drafted(),
        offered(),
        finalised(),
        signed(Party.BUYER),
        signed(Party.PROVIDER),
    )

    assert not one.is_binding
    assert both.is_binding


def test_the_second_signature_makes_the_contract_binding():
    """The provider's signature after the buyer's binds the contract."""
    contract = given(Contract, drafted(), offered(), finalised(), signed(Party.BUYER))

    contract.sign(Party.PROVIDER, SIGNED_ON, actor=OPERATOR)

    assert contract.is_binding
    assert {"buyer": SIGNED_ON, "provider": SIGNED_ON} == contract.signatures


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ((), ContractStatus.DRAFT),
        ((offered(),), ContractStatus.OFFERED),
        ((offered(), finalised()), ContractStatus.FINAL),
        ((offered(), finalised(), signed(Party.BUYER)), ContractStatus.FINAL),
        (
            (offered(), finalised(), signed(Party.BUYER), signed(Party.PROVIDER)),
            ContractStatus.SIGNED,
        ),
    ],
    ids=["draft", "offered", "final", "one-signature", "signed"],
)
def test_the_status_moves_from_draft_to_offered_to_final_to_signed(facts, status):
    """Status follows the placement and the signatures."""
    contract = given(Contract, drafted(), *facts)

    assert status == contract.status(dt.date(2025, 2, 1))
