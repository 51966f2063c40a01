"""Step changes agreed in writing, and the price facts they leave (pkt. 16, 4.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger import errors
from ledger.contract import Contract
from ledger.values import Party, RescissionGround
from tests.ledger.examples import (
    OPERATOR,
    START,
    agreed_line,
    drafted,
    final_contract,
    line_85,
    line_104,
)
from tests.ledger.given_when_then import fact, given, then_rejected, when

DAY = dt.timedelta(days=1)
EFFECTIVE = dt.date(2025, 3, 1)
AGREED_ON = dt.date(2025, 2, 20)
REF = "Aftale 2025-02-20"


def change(
    line_id: str = "1", step: str = "4", effective_from: dt.date = EFFECTIVE, ref: str = REF
):
    """The command: change ``line_id`` to ``step`` from ``effective_from``."""
    return lambda c: c.change_step(
        line_id,
        step,
        effective_from=effective_from,
        agreed_on=AGREED_ON,
        agreement_ref=ref,
        actor=OPERATOR,
    )


def step_changed(line_id: str = "1", step: str = "4", effective_from: dt.date = EFFECTIVE):
    """The fact that ``line_id`` changed to ``step`` from ``effective_from``."""
    return fact(
        Contract.StepChanged,
        line_id=line_id,
        step=step,
        effective_from=effective_from,
        agreed_on=AGREED_ON,
        agreement_ref=REF,
        actor=OPERATOR,
    )


def test_a_step_change_agreed_in_writing_is_recorded():
    """The change carries the step, both dates and the agreement it rests on."""
    contract = final_contract()

    events = when(contract, change())

    assert [
        (
            Contract.StepChanged,
            {
                "line_id": "1",
                "step": "4",
                "effective_from": EFFECTIVE,
                "agreed_on": AGREED_ON,
                "agreement_ref": REF,
                "actor": OPERATOR,
            },
        )
    ] == events


def test_the_old_step_holds_until_the_day_before_the_change_and_the_new_one_from_it():
    """The change is a price fact from ``effective_from``; days before keep the old step."""
    contract = final_contract()

    contract.change_step(
        "1", "4", effective_from=EFFECTIVE, agreed_on=AGREED_ON, agreement_ref=REF, actor=OPERATOR
    )

    line = contract.lines["1"]
    assert "3" == line.step_on(START)
    assert "3" == line.step_on(EFFECTIVE - DAY)
    assert "4" == line.step_on(EFFECTIVE)
    assert "4" == line.step_on(dt.date(2026, 1, 1))
    in_force = line.fact_on(EFFECTIVE)
    assert in_force is not None
    assert ("StepChanged", contract.version) == (in_force.cause, in_force.cause_version)


def test_the_other_line_is_untouched_by_a_step_change():
    """A change on line 1 leaves line 2's facts as they were."""
    contract = final_contract()
    before = contract.lines["2"]

    contract.change_step(
        "1", "4", effective_from=EFFECTIVE, agreed_on=AGREED_ON, agreement_ref=REF, actor=OPERATOR
    )

    assert before == contract.lines["2"]


def test_a_step_change_may_take_effect_on_the_line_start():
    """The first day of the line is a valid effective date."""
    contract = final_contract()

    events = when(contract, change(effective_from=START))

    assert START == events[0][1]["effective_from"]
    assert "4" == contract.lines["1"].step_on(START)


def test_a_later_agreement_with_an_earlier_effective_date_wins():
    """The last-recorded fact in force on a day decides the step (retroactivity)."""
    contract = final_contract(step_changed(step="5", effective_from=dt.date(2025, 4, 1)))

    contract.change_step(
        "1",
        "4",
        effective_from=EFFECTIVE,
        agreed_on=AGREED_ON,
        agreement_ref=REF,
        actor=OPERATOR,
    )

    line = contract.lines["1"]
    assert "3" == line.step_on(EFFECTIVE - DAY)
    assert "4" == line.step_on(EFFECTIVE)
    assert "4" == line.step_on(dt.date(2025, 5, 1))


def test_a_step_change_on_an_agreed_line_keeps_its_agreed_prices():
    """Changing the step of a særforanstaltning carries its agreed prices forward."""
    contract = final_contract(draft=drafted(agreed_line()))

    contract.change_step(
        "1", "12", effective_from=EFFECTIVE, agreed_on=AGREED_ON, agreement_ref=REF, actor=OPERATOR
    )

    assert "12" == contract.lines["1"].step_on(EFFECTIVE)
    assert agreed_line().agreed_prices == contract.lines["1"].prices_on(EFFECTIVE)


def test_a_step_change_before_the_placement_is_final_is_rejected():
    """Before finality the provisional step is revised instead."""
    contract = given(Contract, drafted())

    error = then_rejected(contract, change(), errors.PlacementNotFinal)
    assert "Takstmodel 4.1" == error.clause


@pytest.mark.parametrize("ref", ["", "   "])
def test_a_step_change_without_a_written_agreement_is_rejected(ref):
    """Pkt. 16: a change needs a written, binding agreement."""
    contract = final_contract()

    error = then_rejected(contract, change(ref=ref), errors.WrittenAgreementRequired)
    assert "agreement_ref" == error.field
    assert "Bilag 1 pkt. 16" == error.clause


def test_a_step_change_to_the_step_in_force_is_rejected():
    """Nothing changes when the line is already on the step on that day."""
    contract = final_contract()

    error = then_rejected(contract, change(step="3"), errors.NothingChanges)
    assert "step" == error.field


def test_a_step_change_to_the_step_already_in_force_from_an_earlier_change_is_rejected():
    """The step in force on the effective day is what counts, not the drafted one."""
    contract = final_contract(step_changed(step="4", effective_from=dt.date(2025, 2, 1)))

    then_rejected(contract, change(step="4"), errors.NothingChanges)


def test_a_step_change_before_the_line_starts_is_rejected():
    """A line has no step before it starts."""
    contract = final_contract()

    error = then_rejected(contract, change(effective_from=START - DAY), errors.DateOutOfOrder)
    assert "effective_from" == error.field


def test_a_step_change_on_an_unknown_line_is_rejected():
    """The line must exist."""
    contract = final_contract()

    error = then_rejected(contract, change(line_id="9"), errors.UnknownServiceLine)
    assert "line_id" == error.field
    assert "Bilag 1 pkt. 5" == error.clause


def test_a_step_change_to_a_step_the_model_lacks_is_rejected():
    """The new step must exist in the line's tariff model."""
    contract = final_contract()

    then_rejected(contract, change(line_id="2", step="5:5"), errors.UnknownStep)


def test_a_step_change_to_an_unconfirmed_gentofte_step_is_rejected():
    """G5: a Gentofte line cannot move to step 25 without explicit permission."""
    contract = final_contract(draft=drafted(agreed_line()))

    then_rejected(contract, change(step="25"), errors.StepUnconfirmed)


def test_a_step_change_on_a_section_104_line_is_recorded():
    """§104 steps are Takst:sub-step codes (G7)."""
    contract = final_contract(draft=drafted(line_85(), line_104()))

    events = when(contract, change(line_id="2", step="3:1"))

    assert ("2", "3:1") == (events[0][1]["line_id"], events[0][1]["step"])
    assert "2:2" == contract.lines["2"].step_on(EFFECTIVE - DAY)
    assert "3:1" == contract.lines["2"].step_on(EFFECTIVE)


def test_a_step_change_on_a_rescinded_contract_is_rejected():
    """An ended contract takes no step changes."""
    contract = final_contract(
        fact(
            Contract.ForceMajeureDeclared,
            by=Party.BUYER,
            declared_on=START,
            description="Oversvømmelse",
            actor=OPERATOR,
        ),
        fact(
            Contract.RescindedWithoutNotice,
            by=Party.BUYER,
            effective_on=START,
            ground=RescissionGround.FORCE_MAJEURE,
            actor=OPERATOR,
        ),
    )

    then_rejected(contract, change(), errors.ContractEnded)
