"""The registry and the behaviour every tariff model shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import NotFound, StepUnconfirmed, UnknownStep, UnknownTariffModel
from ledger.tariffs import (
    GENTOFTE_BOTILBUD,
    GENTOFTE_DAGTILBUD,
    MODELS,
    RKSK_BORGERPROFIL,
    SLOTSVAENGET_85,
    SLOTSVAENGET_104,
    Component,
    Step,
    TariffModel,
    UnknownComponent,
    get_model,
)
from ledger.values import Unit


def test_the_registry_holds_the_five_models_under_their_stored_codes() -> None:
    """Model codes are stored in events, so the registry's keys are fixed strings."""
    assert {
        "slotsvaenget-85",
        "slotsvaenget-104",
        "gentofte-botilbud",
        "gentofte-dagtilbud",
        "rksk-borgerprofil",
    } == set(MODELS)
    assert all(code == model.code for code, model in MODELS.items())


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("slotsvaenget-85", 9),
        ("slotsvaenget-104", 16),
        ("gentofte-botilbud", 27),
        ("gentofte-dagtilbud", 27),
        ("rksk-borgerprofil", 11),
    ],
)
def test_every_model_has_its_stated_number_of_steps(code: str, count: int) -> None:
    """§85 has 9 steps, §104 16 cells, Gentofte 27 (G5), RKSK 11 profiles."""
    model = get_model(code)

    assert count == len(model.steps)
    assert count == len(set(model.step_codes))


@pytest.mark.parametrize(
    ("model", "codes"),
    [
        (SLOTSVAENGET_85, tuple(str(n) for n in range(9))),
        (
            SLOTSVAENGET_104,
            tuple(f"{takst}:{sub}" for takst in range(1, 5) for sub in range(1, 5)),
        ),
        (GENTOFTE_BOTILBUD, tuple(str(n) for n in range(1, 28))),
        (GENTOFTE_DAGTILBUD, tuple(str(n) for n in range(1, 28))),
        (
            RKSK_BORGERPROFIL,
            ("1", "2", "3", "4", "5", "6", "7", "7.1", "7.2", "7.3", "7.4"),
        ),
    ],
)
def test_step_codes_are_listed_in_ascending_order(
    model: TariffModel, codes: tuple[str, ...]
) -> None:
    """Each model's step codes are exactly the documented codes, in order."""
    assert codes == model.step_codes


@pytest.mark.parametrize(
    ("model", "name_part", "paragraph"),
    [
        (SLOTSVAENGET_85, "Slotsvænget Støttepakken", "SEL §85"),
        (SLOTSVAENGET_104, "Slotsvænget Støttepakken", "SEL §104"),
        (GENTOFTE_BOTILBUD, "Gentofte", "SEL §§ 107, 108 / ABL § 105 med § 85"),
        (GENTOFTE_DAGTILBUD, "Gentofte", "SEL §§ 103, 104"),
        (RKSK_BORGERPROFIL, "Ringkøbing-Skjern", "SEL §§ 85, 107, 108 / ABL § 105"),
    ],
)
def test_each_model_names_its_municipality_and_legal_paragraph(
    model: TariffModel, name_part: str, paragraph: str
) -> None:
    """The name says whose model it is; the paragraph is the real legal basis."""
    assert paragraph == model.paragraph
    assert name_part in model.name


@pytest.mark.parametrize("model", list(MODELS.values()), ids=list(MODELS))
def test_every_model_counts_hours_per_week(model: TariffModel) -> None:
    """All five models express the line quantity in hours per week (G17 for RKSK)."""
    expected = Unit.HOURS_PER_WEEK

    assert expected == model.unit


@pytest.mark.parametrize("model", list(MODELS.values()), ids=list(MODELS))
def test_every_hour_figure_is_a_decimal(model: TariffModel) -> None:
    """No float enters the models: ranges, averages and staffing are Decimal."""
    for step in model.steps:
        assert isinstance(step.min_hours, Decimal)
        assert isinstance(step.max_hours, Decimal)
        assert isinstance(step.average_hours, Decimal)
        assert step.staffing is None or isinstance(step.staffing, Decimal)


def test_an_unknown_model_code_is_refused_with_the_tariff_model_field() -> None:
    """get_model raises UnknownTariffModel naming the code and the field."""
    expected_field = "tariff_model"

    with pytest.raises(UnknownTariffModel) as caught:
        get_model("slotsvaenget-86")

    assert expected_field == caught.value.field
    assert "slotsvaenget-86" in caught.value.message


def test_an_unknown_step_is_refused_naming_model_and_code() -> None:
    """step() raises UnknownStep whose message names the model and the step."""
    expected_field = "step"

    with pytest.raises(UnknownStep) as caught:
        SLOTSVAENGET_85.step("9")

    assert expected_field == caught.value.field
    assert "slotsvaenget-85" in caught.value.message
    assert "'9'" in caught.value.message


def test_check_step_refuses_an_unknown_step_too() -> None:
    """check_step raises UnknownStep before it considers confirmation."""
    with pytest.raises(UnknownStep):
        GENTOFTE_BOTILBUD.check_step("28", allow_unconfirmed=True)


@pytest.mark.parametrize("model", [GENTOFTE_BOTILBUD, GENTOFTE_DAGTILBUD])
@pytest.mark.parametrize("code", ["25", "26", "27"])
def test_an_unconfirmed_step_is_refused_without_permission(model: TariffModel, code: str) -> None:
    """Gentofte steps 25-27 raise StepUnconfirmed by default (G5)."""
    expected_field, expected_clause = "step", "G5"

    with pytest.raises(StepUnconfirmed) as caught:
        model.check_step(code)

    assert expected_field == caught.value.field
    assert expected_clause == caught.value.clause


def test_an_unconfirmed_step_is_returned_with_permission() -> None:
    """allow_unconfirmed=True lets a line use Gentofte step 25 (G5)."""
    step = GENTOFTE_BOTILBUD.check_step("25", allow_unconfirmed=True)

    assert GENTOFTE_BOTILBUD.step("25") == step
    assert step.unconfirmed


def test_a_confirmed_step_passes_the_check() -> None:
    """check_step returns an ordinary step unchanged."""
    assert SLOTSVAENGET_85.step("4") == SLOTSVAENGET_85.check_step("4")


def test_section_85_requires_section_104_on_the_same_contract() -> None:
    """A §85 line needs a §104 line [000:L212-213]; the reverse does not hold."""
    assert (SLOTSVAENGET_104.code,) == SLOTSVAENGET_85.requires
    assert not SLOTSVAENGET_104.requires


def test_only_section_85_requires_another_model() -> None:
    """Gentofte and RKSK models stand alone."""
    requiring = {code for code, model in MODELS.items() if model.requires}

    assert {"slotsvaenget-85"} == requiring


@pytest.mark.parametrize(
    ("model", "fixed", "per_step"),
    [
        (SLOTSVAENGET_85, ("basis",), ("service",)),
        (SLOTSVAENGET_104, ("basis", "night"), ("service",)),
        (GENTOFTE_BOTILBUD, ("basis",), ("service",)),
        (GENTOFTE_DAGTILBUD, ("basis",), ("service",)),
        (RKSK_BORGERPROFIL, ("basis",), ("service",)),
    ],
)
def test_components_split_into_fixed_and_per_step(
    model: TariffModel, fixed: tuple[str, ...], per_step: tuple[str, ...]
) -> None:
    """Basis (and §104 night) is one price for all steps; service varies by step."""
    assert fixed == tuple(c.code for c in model.fixed_components())
    assert per_step == tuple(c.code for c in model.step_components())


def test_the_section_104_night_cover_is_a_fixed_component() -> None:
    """Night cover is 1/35 of Slotsvænget's night cost, the same for all (G8)."""
    night = SLOTSVAENGET_104.component("night")

    assert not night.per_step
    assert "1/35" in night.label
    assert "Natdækning" in night.label


def test_section_85_has_no_night_component() -> None:
    """Night cover belongs to §104 only; asking §85 for it is refused."""
    expected_field = "component"

    with pytest.raises(UnknownComponent) as caught:
        SLOTSVAENGET_85.component("night")

    assert expected_field == caught.value.field
    assert isinstance(caught.value, NotFound)


@pytest.mark.parametrize(
    ("model", "basis_label", "service_label"),
    [
        (SLOTSVAENGET_85, "Basistakst", "Servicetakst"),
        (GENTOFTE_BOTILBUD, "Basistakst", "Indsatstrin"),
        (RKSK_BORGERPROFIL, "Basisbudget", "Borgerprofil"),
    ],
)
def test_component_labels_use_each_models_own_danish_terms(
    model: TariffModel, basis_label: str, service_label: str
) -> None:
    """Labels carry the source's Danish term for the component."""
    assert model.component("basis").label.startswith(basis_label)
    assert model.component("service").label.startswith(service_label)


@pytest.mark.parametrize("model", list(MODELS.values()), ids=list(MODELS))
def test_negative_hours_cannot_suggest_a_step(model: TariffModel) -> None:
    """A negative hour total is a mistake, not a small need."""
    with pytest.raises(ValueError, match="negative"):
        model.suggest_step(Decimal("-0.01"))


def test_float_hours_are_refused() -> None:
    """Floats would blur the boundaries, so suggest_step accepts Decimal only."""
    with pytest.raises(TypeError):
        SLOTSVAENGET_85.suggest_step(9.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "model", [SLOTSVAENGET_85, GENTOFTE_BOTILBUD, GENTOFTE_DAGTILBUD, RKSK_BORGERPROFIL]
)
def test_a_takst_is_refused_by_models_without_one(model: TariffModel) -> None:
    """Only §104 has a Takst dimension; passing one elsewhere is an error."""
    with pytest.raises(ValueError, match="Takst"):
        model.suggest_step(Decimal(10), takst=1)


def test_a_step_with_float_hours_cannot_be_built() -> None:
    """Step refuses float hour figures at construction."""
    with pytest.raises(TypeError):
        Step("1", "Trin 1", 0.0, Decimal(1), Decimal(1))  # type: ignore[arg-type]


def test_a_step_whose_average_lies_outside_its_range_cannot_be_built() -> None:
    """The stated average must lie inside the step's own range."""
    with pytest.raises(ValueError, match="average"):
        Step("1", "Trin 1", Decimal(0), Decimal(5), Decimal(6))


def test_a_model_with_a_gap_between_steps_cannot_be_built() -> None:
    """Adjacent steps must share their boundary so every hour has a step (G9)."""
    steps = (
        Step("0", "Trin 0", Decimal(2), Decimal(9), Decimal(5)),
        Step("1", "Trin 1", Decimal(10), Decimal(16), Decimal(12)),
    )

    with pytest.raises(ValueError, match="ends at 9"):
        TariffModel(
            code="broken",
            name="Broken",
            paragraph="SEL §85",
            steps=steps,
            components=(Component("basis", "Basistakst", per_step=False),),
            unit=Unit.HOURS_PER_WEEK,
        )
