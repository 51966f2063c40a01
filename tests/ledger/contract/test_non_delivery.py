"""Non-delivery, force majeure and rescission without notice (Bilag 1 pkt. 10)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger import errors
from ledger.contract import Contract, ContractStatus, NonDelivery, Rescission
from ledger.values import AbsenceKind, IndexSource, Party, RequestNature, RescissionGround
from tests.ledger.examples import (
    OPERATOR,
    agreed_line,
    drafted,
    final_contract,
    line_104,
)
from tests.ledger.given_when_then import Fact, fact, then_rejected, when

DAY = dt.timedelta(days=1)
REPORTED = dt.date(2025, 6, 2)
EFFECTIVE = dt.date(2025, 6, 10)
CAUSE = "Tilbuddet mangler personale"


def reported(*, citizen_related: bool = False, by: Party = Party.PROVIDER) -> Fact:
    """The fact that a non-delivery was reported on REPORTED."""
    return fact(
        Contract.NonDeliveryReported,
        by=by,
        reported_on=REPORTED,
        cause=CAUSE,
        citizen_related=citizen_related,
        actor=OPERATOR,
    )


def declared(day: dt.date = REPORTED) -> Fact:
    """The fact that force majeure was declared on ``day``."""
    return fact(
        Contract.ForceMajeureDeclared,
        by=Party.PROVIDER,
        declared_on=day,
        description="Brand på botilbuddet",
        actor=OPERATOR,
    )


def rescinded(day: dt.date = EFFECTIVE) -> Fact:
    """The fact that the buyer rescinded for non-delivery from ``day``."""
    return fact(
        Contract.RescindedWithoutNotice,
        by=Party.BUYER,
        effective_on=day,
        ground=RescissionGround.NON_DELIVERY,
        actor=OPERATOR,
    )


def rescind(by: Party, ground: RescissionGround, day: dt.date = EFFECTIVE):
    """The command: ``by`` rescinds on ``ground`` from ``day``."""
    return lambda c: c.rescind_without_notice(
        by=by, effective_on=day, ground=ground, actor=OPERATOR
    )


# --- report_non_delivery and declare_force_majeure ----------------------------


@pytest.mark.parametrize("citizen_related", [False, True])
def test_a_non_delivery_is_reported_with_its_cause(citizen_related):
    """The report says why, and whether the cause lies with the citizen."""
    contract = final_contract()

    events = when(
        contract,
        lambda c: c.report_non_delivery(
            by=Party.PROVIDER,
            reported_on=REPORTED,
            cause=CAUSE,
            citizen_related=citizen_related,
            actor=OPERATOR,
        ),
    )

    assert [
        (
            Contract.NonDeliveryReported,
            {
                "by": Party.PROVIDER,
                "reported_on": REPORTED,
                "cause": CAUSE,
                "citizen_related": citizen_related,
                "actor": OPERATOR,
            },
        )
    ] == events
    assert (NonDelivery(Party.PROVIDER, REPORTED, CAUSE, citizen_related),) == (
        contract.non_deliveries
    )


def test_a_non_delivery_report_changes_no_price():
    """G15: "Køber er forpligtet til at betale den aftalte pris"."""
    contract = final_contract()
    lines_before = dict(contract.lines)

    contract.report_non_delivery(
        by=Party.PROVIDER, reported_on=REPORTED, cause=CAUSE, citizen_related=False, actor=OPERATOR
    )

    assert lines_before == contract.lines
    assert contract.payment_end is None


@pytest.mark.parametrize("cause", ["", "  "])
def test_a_non_delivery_without_a_cause_is_rejected(cause):
    """Pkt. 10 "oplyse årsagen": the cause is required."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.report_non_delivery(
            by=Party.PROVIDER,
            reported_on=REPORTED,
            cause=cause,
            citizen_related=False,
            actor=OPERATOR,
        ),
        errors.InvalidValue,
    )
    assert "cause" == error.field


@pytest.mark.parametrize("party", [Party.BUYER, Party.PROVIDER])
def test_either_party_declares_force_majeure(party):
    """Force majeure is declared with a description."""
    contract = final_contract()

    events = when(
        contract,
        lambda c: c.declare_force_majeure(
            by=party, declared_on=REPORTED, description="Oversvømmelse", actor=OPERATOR
        ),
    )

    assert [
        (
            Contract.ForceMajeureDeclared,
            {
                "by": party,
                "declared_on": REPORTED,
                "description": "Oversvømmelse",
                "actor": OPERATOR,
            },
        )
    ] == events
    assert REPORTED == contract.force_majeure_on


def test_force_majeure_without_a_description_is_rejected():
    """The event must be described."""
    contract = final_contract()

    error = then_rejected(
        contract,
        lambda c: c.declare_force_majeure(
            by=Party.BUYER, declared_on=REPORTED, description=" ", actor=OPERATOR
        ),
        errors.InvalidValue,
    )
    assert "description" == error.field


# --- rescission for non-delivery -----------------------------------------------


def test_the_buyer_rescinds_for_a_non_delivery_not_related_to_the_citizen():
    """Pkt. 10: the buyer "kan … ophæve kontrakten uden varsel"."""
    contract = final_contract(reported())

    events = when(contract, rescind(Party.BUYER, RescissionGround.NON_DELIVERY))

    assert [
        (
            Contract.RescindedWithoutNotice,
            {
                "by": Party.BUYER,
                "effective_on": EFFECTIVE,
                "ground": RescissionGround.NON_DELIVERY,
                "actor": OPERATOR,
            },
        )
    ] == events
    assert Rescission(Party.BUYER, EFFECTIVE, RescissionGround.NON_DELIVERY) == contract.rescission


def test_a_non_citizen_related_report_among_citizen_related_ones_allows_rescission():
    """One report with a cause outside the citizen is enough."""
    contract = final_contract(reported(citizen_related=True), reported())

    events = when(contract, rescind(Party.BUYER, RescissionGround.NON_DELIVERY))

    assert RescissionGround.NON_DELIVERY == events[0][1]["ground"]


def test_the_provider_cannot_rescind_for_non_delivery():
    """Only the buyer may rescind for the provider's non-delivery."""
    contract = final_contract(reported())

    error = then_rejected(
        contract, rescind(Party.PROVIDER, RescissionGround.NON_DELIVERY), errors.WrongParty
    )
    assert "by" == error.field


def test_the_buyer_cannot_rescind_for_non_delivery_without_a_report():
    """Rescission needs a reported non-delivery."""
    contract = final_contract()

    error = then_rejected(
        contract, rescind(Party.BUYER, RescissionGround.NON_DELIVERY), errors.RescissionNotAllowed
    )
    assert "ground" == error.field
    assert "Bilag 1 pkt. 10" == error.clause


def test_a_citizen_related_non_delivery_is_no_ground_for_rescission():
    """Pkt. 10: only a cause outside the citizen's development, wellbeing or conduct counts."""
    contract = final_contract(reported(citizen_related=True))

    then_rejected(
        contract, rescind(Party.BUYER, RescissionGround.NON_DELIVERY), errors.RescissionNotAllowed
    )


def test_a_rescission_before_the_report_is_rejected():
    """The rescission cannot take effect before the non-delivery was reported."""
    contract = final_contract(reported())

    error = then_rejected(
        contract,
        rescind(Party.BUYER, RescissionGround.NON_DELIVERY, REPORTED - DAY),
        errors.DateOutOfOrder,
    )
    assert "effective_on" == error.field


# --- rescission for force majeure ------------------------------------------------


@pytest.mark.parametrize("party", [Party.BUYER, Party.PROVIDER])
def test_either_party_rescinds_for_declared_force_majeure(party):
    """Pkt. 10: "parterne berettiget til at opsige kontrakten uden varsel"."""
    contract = final_contract(declared())

    events = when(contract, rescind(party, RescissionGround.FORCE_MAJEURE))

    assert [
        (
            Contract.RescindedWithoutNotice,
            {
                "by": party,
                "effective_on": EFFECTIVE,
                "ground": RescissionGround.FORCE_MAJEURE,
                "actor": OPERATOR,
            },
        )
    ] == events


def test_rescission_for_force_majeure_without_a_declaration_is_rejected():
    """Force majeure must be declared first."""
    contract = final_contract(reported())

    error = then_rejected(
        contract, rescind(Party.BUYER, RescissionGround.FORCE_MAJEURE), errors.RescissionNotAllowed
    )
    assert "ground" == error.field


def test_a_force_majeure_rescission_before_the_declaration_is_rejected():
    """The rescission cannot take effect before the declaration."""
    contract = final_contract(declared())

    error = then_rejected(
        contract,
        rescind(Party.PROVIDER, RescissionGround.FORCE_MAJEURE, REPORTED - DAY),
        errors.DateOutOfOrder,
    )
    assert "effective_on" == error.field


# --- after rescission ----------------------------------------------------------


def test_payment_and_delivery_end_the_day_before_the_rescission_takes_effect():
    """Payment ends the day before ``effective_on``."""
    contract = final_contract(reported(), rescinded())

    assert EFFECTIVE - DAY == contract.payment_end
    assert EFFECTIVE - DAY == contract.delivery_end


def test_a_rescinded_contract_has_ended_from_the_effective_day():
    """The status is ended from the day the rescission takes effect."""
    contract = final_contract(reported(), rescinded())

    assert ContractStatus.FINAL == contract.status(EFFECTIVE - DAY)
    assert ContractStatus.ENDED == contract.status(EFFECTIVE)


def test_a_rescission_during_notice_ends_payment_at_the_earlier_date():
    """Notice and rescission: payment ends at the earlier of the two ends."""
    contract = final_contract(
        fact(
            Contract.NoticeGiven,
            given_by=Party.BUYER,
            given_on=dt.date(2025, 5, 1),
            last_day=dt.date(2025, 8, 1),
            actor=OPERATOR,
        ),
        reported(),
        rescinded(),
    )

    assert EFFECTIVE - DAY == contract.payment_end
    assert EFFECTIVE - DAY == contract.delivery_end


AFTER = EFFECTIVE + DAY


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.add_service_line(line_104(step="3:3"), actor=OPERATOR),
        lambda c: c.offer_place(AFTER, actor=OPERATOR),
        lambda c: c.finalise_placement(AFTER, actor=OPERATOR),
        lambda c: c.sign(Party.BUYER, AFTER, actor=OPERATOR),
        lambda c: c.change_step(
            "1", "4", effective_from=AFTER, agreed_on=AFTER, agreement_ref="A", actor=OPERATOR
        ),
        lambda c: c.request_renegotiation(
            "1",
            requested_by=Party.PROVIDER,
            received_on=AFTER,
            nature=RequestNature.LASTING,
            description="Øget behov",
            proposed_step="4",
            actor=OPERATOR,
        ),
        lambda c: c.add_allonge(
            "1",
            valid_from=AFTER,
            valid_to=AFTER,
            daily_delta=Decimal(0),
            description="Allonge",
            agreement_ref="A",
            buyer_accepted=True,
            actor=OPERATOR,
        ),
        lambda c: c.start_absence(AbsenceKind.HOSPITAL, AFTER, actor=OPERATOR),
        lambda c: c.report_non_delivery(
            by=Party.PROVIDER, reported_on=AFTER, cause=CAUSE, citizen_related=False, actor=OPERATOR
        ),
        lambda c: c.declare_force_majeure(
            by=Party.BUYER, declared_on=AFTER, description="Brand", actor=OPERATOR
        ),
        lambda c: c.rescind_without_notice(
            by=Party.BUYER, effective_on=AFTER, ground=RescissionGround.NON_DELIVERY, actor=OPERATOR
        ),
        lambda c: c.notify_framework_change(
            received_on=AFTER, framework_version="2026", adoption_year=2025, actor=OPERATOR
        ),
        lambda c: c.regulate_by_tariff_sheet(2026, actor=OPERATOR),
        lambda c: c.give_notice(given_by=Party.BUYER, given_on=AFTER, actor=OPERATOR),
        lambda c: c.record_reoccupation(AFTER, actor=OPERATOR),
        lambda c: c.agree_payment_end(AFTER, agreement_ref="A", actor=OPERATOR),
        lambda c: c.hold_follow_up("1", AFTER, actor=OPERATOR),
    ],
    ids=[
        "add_service_line",
        "offer_place",
        "finalise_placement",
        "sign",
        "change_step",
        "request_renegotiation",
        "add_allonge",
        "start_absence",
        "report_non_delivery",
        "declare_force_majeure",
        "rescind_without_notice",
        "notify_framework_change",
        "regulate_by_tariff_sheet",
        "give_notice",
        "record_reoccupation",
        "agree_payment_end",
        "hold_follow_up",
    ],
)
def test_commands_after_rescission_are_rejected(command):
    """A rescinded contract has ended: it records nothing more."""
    contract = final_contract(reported(), rescinded())

    error = then_rejected(contract, command, errors.ContractEnded)
    assert "contract-ended" == error.rule


def test_regulating_by_index_after_rescission_is_rejected():
    """An ended særforanstaltning is not indexed."""
    contract = final_contract(reported(), rescinded(), draft=drafted(agreed_line()))

    then_rejected(
        contract,
        lambda c: c.regulate_by_index(
            2026,
            pl_percentage=Decimal("2.1"),
            overhead_percentage=Decimal("0.5"),
            source=IndexSource.KL,
            edition="KL 2025-06",
            actor=OPERATOR,
        ),
        errors.ContractEnded,
    )
