"""Drafting a contract (Bilag 1 pkt. 1-5, 9, 17; G5, G11, G19).

``Contract.draft`` creates the aggregate, so it is the one command that cannot
start from facts: each test calls it and inspects the event it collected.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger import errors
from ledger.contract import Contract, ContractStatus
from ledger.values import (
    ComponentPrice,
    DataRole,
    Municipality,
    NoticePeriod,
    PaymentOption,
    Pricing,
    RespiteBasis,
    ServiceLineSpec,
    Unit,
)
from tests.ledger.examples import (
    BUYER,
    CITIZEN,
    OPERATOR,
    PAYER,
    PROVIDER,
    START,
    TERMS,
    agreed_line,
    line_85,
    line_104,
    terms,
)
from tests.ledger.given_when_then import ENVELOPE

DRAFTED_FIELDS = {"buyer", "payer", "provider", "citizen_id", "lines", "terms", "actor"}


def draft(**changes: Any) -> Contract:
    """Draft the example contract (§85 step 3 + §104 2:2) with ``changes``."""
    arguments: dict[str, Any] = {
        "buyer": BUYER,
        "provider": PROVIDER,
        "citizen_id": CITIZEN,
        "lines": [line_85(), line_104()],
        "terms": TERMS,
        "actor": OPERATOR,
        **changes,
    }
    return Contract.draft(**arguments)


def drafted_events(contract: Contract) -> list[tuple[type[Any], dict[str, Any]]]:
    """The contract's new events as (class, payload) pairs, without the envelope."""
    return [
        (type(e), {k: v for k, v in vars(e).items() if k not in ENVELOPE})
        for e in contract.collect_events()
    ]


def gentofte_line(step: str, **kw: Any) -> ServiceLineSpec:
    """A Gentofte botilbud line priced from the tariff sheet."""
    return ServiceLineSpec(
        "SEL §108", "gentofte-botilbud", step, Decimal(28), Unit.PLACE, START, **kw
    )


# --- the happy path ---------------------------------------------------------


def test_drafting_records_one_drafted_event_with_parties_lines_and_terms():
    """A valid draft records exactly one Drafted event carrying what was agreed."""
    contract = draft()

    assert [
        (
            Contract.Drafted,
            {
                "buyer": BUYER,
                "payer": None,
                "provider": PROVIDER,
                "citizen_id": CITIZEN,
                "lines": (line_85(), line_104()),
                "terms": TERMS,
                "actor": OPERATOR,
            },
        )
    ] == drafted_events(contract)


def test_drafting_with_a_paying_municipality_records_the_payer():
    """A separate paying municipality travels in the Drafted event."""
    contract = draft(payer=PAYER)

    [(_, payload)] = drafted_events(contract)
    assert PAYER == payload["payer"]


def test_a_drafted_contract_numbers_its_lines_from_one_and_starts_as_a_draft():
    """Lines get ids "1", "2", ... in the order given; the status is draft."""
    contract = draft()

    assert ["1", "2"] == list(contract.lines)
    assert "3" == contract.lines["1"].step
    assert "2:2" == contract.lines["2"].step
    assert ContractStatus.DRAFT == contract.status(START)
    assert contract.offered_on is None
    assert contract.final_on is None


def test_the_drafted_event_refers_to_the_citizen_only_by_the_pseudonymous_id():
    """No CPR number or name in the payload: the citizen is ``citizen_id`` only (pkt. 17)."""
    contract = draft()

    [(_, payload)] = drafted_events(contract)
    assert DRAFTED_FIELDS == set(payload)
    assert CITIZEN == payload["citizen_id"]
    assert not {"cpr", "name", "citizen_name", "citizen_cpr"} & set(payload)
    assert "cpr" not in repr(payload).lower()


def test_drafting_a_single_agreed_price_line_is_accepted():
    """A særforanstaltning with a complete, positive agreed price list is accepted."""
    contract = draft(lines=[agreed_line()])

    [(_, payload)] = drafted_events(contract)
    assert (agreed_line(),) == payload["lines"]
    assert agreed_line().agreed_prices == contract.lines["1"].prices_on(START)


def test_a_gentofte_step_25_is_accepted_with_explicit_permission():
    """G5: an unconfirmed step may be used when the line says so explicitly."""
    line = gentofte_line("25", allow_unconfirmed_step=True)

    contract = draft(lines=[line])

    [(_, payload)] = drafted_events(contract)
    assert (line,) == payload["lines"]


def test_a_respite_line_is_accepted_with_a_respite_basis():
    """Pkt. 5: a respite line is fine once granted or used days are chosen."""
    line = gentofte_line("10", respite=True)
    chosen = terms(respite_basis=RespiteBasis.USED_DAYS)

    contract = draft(lines=[line], terms=chosen)

    [(_, payload)] = drafted_events(contract)
    assert chosen == payload["terms"]


@pytest.mark.parametrize(
    "contract_terms",
    [
        terms(
            payment_option=PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
            payment_days_after_reoccupation=14,
        ),
        terms(payment_option=PaymentOption.CONTINUES_WHOLE_NOTICE),
        terms(payment_option=PaymentOption.OTHER, payment_other_text="Efter aftale"),
        terms(data_role=DataRole.PROCESSOR_UNDER_EXISTING_DPA, dpa_municipality="Gentofte"),
        terms(notice_period=NoticePeriod(days=30)),
    ],
    ids=["option-2", "option-3", "option-4", "existing-dpa", "notice-in-days"],
)
def test_complete_terms_of_every_kind_are_accepted(contract_terms):
    """Each payment option and data role is accepted with the detail it needs."""
    contract = draft(terms=contract_terms)

    [(_, payload)] = drafted_events(contract)
    assert contract_terms == payload["terms"]


# --- rejections: lines ------------------------------------------------------


def test_a_contract_without_lines_is_rejected():
    """Pkt. 5: a contract needs at least one service line."""
    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[])
    assert "lines" == raised.value.field


def test_a_section_85_line_without_a_section_104_line_is_rejected():
    """Støttepakken: §85 is bought only together with §104."""
    with pytest.raises(errors.Section85RequiresSection104) as raised:
        draft(lines=[line_85()])
    assert "section-85-requires-section-104" == raised.value.rule
    assert "lines" == raised.value.field


def test_a_section_104_line_alone_is_accepted():
    """§104 is mandatory, §85 optional: a §104 line stands alone."""
    contract = draft(lines=[line_104()])

    [(_, payload)] = drafted_events(contract)
    assert (line_104(),) == payload["lines"]


def test_an_unknown_tariff_model_is_rejected():
    """A line must name one of the known tariff models."""
    line = dataclasses.replace(line_104(), tariff_model="no-such-model")

    with pytest.raises(errors.UnknownTariffModel) as raised:
        draft(lines=[line_104(), line])
    assert "lines[1].tariff_model" == raised.value.field, "names the line, not just a model"


def test_a_step_the_model_lacks_is_rejected():
    """A §104 step must be Takst 1-4 : sub-step 1-4."""
    with pytest.raises(errors.UnknownStep) as raised:
        draft(lines=[line_104(step="9:9")])
    assert "lines[0].step" == raised.value.field


def test_a_gentofte_step_25_without_permission_is_rejected():
    """G5: steps 25-27 are unconfirmed and blocked unless explicitly allowed."""
    with pytest.raises(errors.StepUnconfirmed) as raised:
        draft(lines=[gentofte_line("25")])
    assert "G5" == raised.value.clause


@pytest.mark.parametrize("quantity", [Decimal(0), Decimal(-1)])
def test_a_line_quantity_that_is_not_positive_is_rejected(quantity):
    """Pkt. 5 "Antal" must be positive."""
    line = dataclasses.replace(line_104(), quantity=quantity)

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].quantity" == raised.value.field


def test_a_line_without_a_paragraph_is_rejected():
    """Pkt. 5 "Indsats og paragraf": the paragraph is required."""
    line = dataclasses.replace(line_104(), paragraph="  ")

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].paragraph" == raised.value.field


def test_a_line_ending_before_it_starts_is_rejected():
    """Pkt. 5 "Evt. slutdato" cannot precede the start date."""
    line = line_104(end=START - dt.timedelta(days=1))

    with pytest.raises(errors.DateOutOfOrder) as raised:
        draft(lines=[line_85(), line])
    assert "lines[1].end" == raised.value.field


def test_a_line_ending_on_its_start_day_is_accepted():
    """A one-day line is a line."""
    line = line_104(end=START)

    contract = draft(lines=[line])

    assert START == contract.lines["1"].spec.end


def test_a_first_follow_up_before_the_start_is_rejected():
    """Pkt. 5 "Første opfølgningsdato" cannot precede the line's start."""
    line = line_104(first_follow_up=START - dt.timedelta(days=1))

    with pytest.raises(errors.DateOutOfOrder) as raised:
        draft(lines=[line])
    assert "lines[0].first_follow_up" == raised.value.field


def test_agreed_prices_that_miss_a_component_are_rejected():
    """An agreed price list must cover every component of the model."""
    line = dataclasses.replace(
        agreed_line(), agreed_prices=(ComponentPrice("basis", Decimal(400)),)
    )

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].agreed_prices" == raised.value.field


def test_agreed_prices_with_a_foreign_component_are_rejected():
    """An agreed price list names only the model's components."""
    line = dataclasses.replace(
        agreed_line(),
        agreed_prices=(*agreed_line().agreed_prices, ComponentPrice("night", Decimal(50))),
    )

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].agreed_prices" == raised.value.field


@pytest.mark.parametrize("basis", ["0", "-1"])
def test_an_agreed_price_that_is_not_positive_is_rejected(basis):
    """A daily price of zero or less is no price."""
    with pytest.raises(errors.NonPositivePrice) as raised:
        draft(lines=[agreed_line(basis=basis)])
    assert "lines[0].agreed_prices" == raised.value.field


def test_agreed_pricing_without_prices_is_rejected():
    """A særforanstaltning must state its prices."""
    line = dataclasses.replace(agreed_line(), agreed_prices=())

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].agreed_prices" == raised.value.field


def test_a_tariff_sheet_line_with_agreed_prices_is_rejected():
    """Tariff-sheet lines take their prices from the sheet, never from the contract."""
    line = dataclasses.replace(
        agreed_line(), pricing=Pricing.TARIFF_SHEET
    )  # keeps the agreed prices

    with pytest.raises(errors.InvalidValue) as raised:
        draft(lines=[line])
    assert "lines[0].agreed_prices" == raised.value.field


# --- rejections: terms (G11, G19) ---------------------------------------------


def test_an_undefined_notice_period_is_rejected():
    """G11: a contract whose notice period is undefined cannot be drafted."""
    with pytest.raises(errors.TermsIncomplete) as raised:
        draft(terms=terms(notice_period=NoticePeriod()))
    assert "terms.notice_period" == raised.value.field
    assert "terms-incomplete" == raised.value.rule


@pytest.mark.parametrize("days", [None, -1])
def test_option_2_without_a_number_of_days_is_rejected(days):
    """Pkt. 9 option 2 needs N, the days payment continues after re-occupation."""
    option_2 = terms(
        payment_option=PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED,
        payment_days_after_reoccupation=days,
    )

    with pytest.raises(errors.TermsIncomplete) as raised:
        draft(terms=option_2)
    assert "terms.payment_days_after_reoccupation" == raised.value.field


@pytest.mark.parametrize("text", [None, "", "   "])
def test_option_4_without_its_text_is_rejected(text):
    """Pkt. 9 option 4 "Andet" needs the text of the agreed rule."""
    option_4 = terms(payment_option=PaymentOption.OTHER, payment_other_text=text)

    with pytest.raises(errors.TermsIncomplete) as raised:
        draft(terms=option_4)
    assert "terms.payment_other_text" == raised.value.field


def test_a_respite_line_without_a_respite_basis_is_rejected():
    """Pkt. 5: respite is settled on granted or used days; one must be chosen."""
    with pytest.raises(errors.TermsIncomplete) as raised:
        draft(lines=[gentofte_line("10", respite=True)])
    assert "terms.respite_basis" == raised.value.field


@pytest.mark.parametrize("municipality", [None, "", "  "])
def test_a_processor_under_an_existing_dpa_without_the_municipality_is_rejected(municipality):
    """Pkt. 17 option 3 names the municipality whose DPA covers the provider."""
    role = terms(data_role=DataRole.PROCESSOR_UNDER_EXISTING_DPA, dpa_municipality=municipality)

    with pytest.raises(errors.TermsIncomplete) as raised:
        draft(terms=role)
    assert "terms.dpa_municipality" == raised.value.field


# --- rejections: parties ----------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "field"),
    [
        (Municipality("Eksempel Kommune", "29189918", BUYER.ean), "buyer.cvr"),
        (Municipality("Eksempel Kommune", "2918991", BUYER.ean), "buyer.cvr"),
        (Municipality("Eksempel Kommune", BUYER.cvr, "5798000000017"), "buyer.ean"),
        (Municipality("Eksempel Kommune", BUYER.cvr, "579800000001"), "buyer.ean"),
    ],
    ids=["cvr-check-digit", "cvr-length", "ean-check-digit", "ean-length"],
)
def test_a_buyer_with_an_invalid_identifier_is_rejected(buyer, field):
    """Pkt. 2: the buyer's CVR and EAN must pass their check digits."""
    with pytest.raises(errors.InvalidIdentifier) as raised:
        draft(buyer=buyer)
    assert field == raised.value.field


def test_a_buyer_without_a_name_is_rejected():
    """Pkt. 2: the buyer is named."""
    with pytest.raises(errors.InvalidValue) as raised:
        draft(buyer=Municipality(" ", BUYER.cvr, BUYER.ean))
    assert "buyer.name" == raised.value.field


def test_a_payer_with_an_invalid_cvr_is_rejected():
    """The paying municipality is checked like the buyer."""
    with pytest.raises(errors.InvalidIdentifier) as raised:
        draft(payer=Municipality("Betaler Kommune", "29189928", PAYER.ean))
    assert "payer.cvr" == raised.value.field


def test_a_provider_with_an_invalid_registration_is_rejected():
    """Pkt. 3: the provider's CVR or P-number must be valid."""
    provider = dataclasses.replace(PROVIDER, registration="11715312")

    with pytest.raises(errors.InvalidIdentifier) as raised:
        draft(provider=provider)
    assert "provider.registration" == raised.value.field


def test_a_provider_without_an_offer_code_is_rejected():
    """The offer code finds the provider's tariff sheets, so it is required."""
    provider = dataclasses.replace(PROVIDER, offer=" ")

    with pytest.raises(errors.InvalidValue) as raised:
        draft(provider=provider)
    assert "provider.offer" == raised.value.field
