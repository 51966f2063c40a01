"""Gentofte indsatstrin: the jump rule, steps 25-27 (G5) and per-day hours (G24)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import UnknownStep
from ledger.tariffs import (
    GENTOFTE_BOTILBUD,
    GENTOFTE_DAGTILBUD,
    FunctionBand,
    TariffModel,
    botilbud_hours_per_day,
    dagtilbud_hours_per_day,
    exceeds_a_day,
    function_band,
    jump_rule_hours,
)

# Step -> h/week as in domain.md 3.2; every legible value of 002's tables.
WEEKLY_HOURS = {
    1: "1.75",
    2: "3.5",
    3: "5.25",
    4: "7",
    5: "10.5",
    6: "14",
    7: "17.5",
    8: "21",
    9: "24.5",
    10: "28",
    11: "31.5",
    12: "35",
    13: "38.5",
    14: "42",
    15: "49",
    16: "56",
    17: "63",
    18: "70",
    19: "77",
    20: "84",
    21: "91",
    22: "98",
    23: "105",
    24: "112",
    25: "119",
    26: "126",
    27: "133",
}


def minutes(hours: Decimal) -> Decimal:
    """Convert hours to minutes, exactly."""
    return hours * 60


@pytest.mark.parametrize(("n", "hours"), sorted(WEEKLY_HOURS.items()))
def test_the_jump_rule_gives_the_tables_hours_for_every_step(n: int, hours: str) -> None:
    """+1.75 h to step 4, +3.5 h to 14, +7 h after [002:L49-51]."""
    assert Decimal(hours) == jump_rule_hours(n)


@pytest.mark.parametrize("model", [GENTOFTE_BOTILBUD, GENTOFTE_DAGTILBUD])
@pytest.mark.parametrize(("n", "hours"), sorted(WEEKLY_HOURS.items()))
def test_each_step_states_its_jump_rule_hours_as_average(
    model: TariffModel, n: int, hours: str
) -> None:
    """Both stairs use the same hours; the step's average is its jump-rule value."""
    step = model.step(str(n))

    assert Decimal(hours) == step.average_hours
    assert f"Indsatstrin {n}" == step.label


def test_step_ranges_run_from_their_hours_to_the_next_steps_hours() -> None:
    """Step n covers [hours(n), hours(n+1)); step 1 starts at 0, 27 ends at 140."""
    assert (Decimal(0), Decimal("3.5")) == (
        GENTOFTE_BOTILBUD.step("1").min_hours,
        GENTOFTE_BOTILBUD.step("1").max_hours,
    )
    assert (Decimal(7), Decimal("10.5")) == (
        GENTOFTE_BOTILBUD.step("4").min_hours,
        GENTOFTE_BOTILBUD.step("4").max_hours,
    )
    assert (Decimal(133), Decimal(140)) == (
        GENTOFTE_BOTILBUD.step("27").min_hours,
        GENTOFTE_BOTILBUD.step("27").max_hours,
    )


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("0", "1"),
        ("3.49", "1"),
        ("6.99", "3"),
        ("7", "4"),  # hours(4) = 7 starts step 4 (G9)
        ("10.49", "4"),
        ("10.5", "5"),
        ("42", "14"),
        ("48.99", "14"),
        ("49", "15"),
        ("112", "24"),
        ("133", "27"),
        ("140", "27"),  # the top step includes its upper bound
        ("500", "27"),
    ],
)
def test_suggestion_follows_the_half_open_boundary_rule(hours: str, expected: str) -> None:
    """Lower bounds inclusive, upper exclusive, step 27 inclusive (G9)."""
    assert expected == GENTOFTE_BOTILBUD.suggest_step(Decimal(hours)).code
    assert expected == GENTOFTE_DAGTILBUD.suggest_step(Decimal(hours)).code


@pytest.mark.parametrize("model", [GENTOFTE_BOTILBUD, GENTOFTE_DAGTILBUD])
def test_only_steps_25_to_27_are_unconfirmed(model: TariffModel) -> None:
    """The text names 24 steps, the tables 27: the last three await Gentofte (G5)."""
    unconfirmed = [int(step.code) for step in model.steps if step.unconfirmed]

    assert list(range(25, 28)) == unconfirmed


@pytest.mark.parametrize(
    ("code", "band"),
    [
        ("1", FunctionBand.LET),
        ("4", FunctionBand.LET),
        ("5", FunctionBand.MODERAT),
        ("14", FunctionBand.MODERAT),
        ("15", FunctionBand.SVAER),
        ("20", FunctionBand.SVAER),
        ("21", FunctionBand.FULDSTAENDIG),
        ("27", FunctionBand.FULDSTAENDIG),
    ],
)
def test_function_bands_split_the_stair_1_4_5_14_15_20_21_27(code: str, band: FunctionBand) -> None:
    """The function bands differ from the jump bands; descriptions name them."""
    assert band == function_band(code)
    assert GENTOFTE_DAGTILBUD.step(code).description.startswith(band.value)


@pytest.mark.parametrize(
    ("code", "per_day"),
    [("1", "0.25"), ("2", "0.5"), ("5", "1.5"), ("14", "6"), ("24", "16"), ("27", "19")],
)
def test_botilbud_hours_per_day_are_the_week_over_seven(code: str, per_day: str) -> None:
    """Botilbud counts a 7-day week: step 1 is 15 min a day, step 27 is 19 h."""
    assert Decimal(per_day) == botilbud_hours_per_day(code)


def test_step_1_at_4_days_is_26_and_a_quarter_minutes_a_day() -> None:
    """Exact arithmetic gives 0.4375 h = 26.25 min, not the source's 26.5 (G24)."""
    per_day = dagtilbud_hours_per_day("1", 4)

    assert Decimal("0.4375") == per_day
    assert Decimal("26.25") == minutes(per_day)


def test_step_1_at_5_days_is_21_minutes_a_day() -> None:
    """1 h 45 min over 5 days is 21 min [002:L72]."""
    assert Decimal(21) == minutes(dagtilbud_hours_per_day("1", 5))


@pytest.mark.parametrize(
    ("code", "at_5", "at_4"),
    [
        ("2", "0.7", "0.875"),
        ("8", "4.2", "5.25"),
        ("14", "8.4", "10.5"),
        ("21", "18.2", "22.75"),
        ("22", "19.6", "24.5"),
        ("27", "26.6", "33.25"),
    ],
)
def test_dagtilbud_hours_per_day_divide_the_week_by_the_granted_days(
    code: str, at_5: str, at_4: str
) -> None:
    """Dagtilbud counts the working week of 4 or 5 days [002:L66-70]."""
    assert Decimal(at_5) == dagtilbud_hours_per_day(code, 5)
    assert Decimal(at_4) == dagtilbud_hours_per_day(code, 4)


@pytest.mark.parametrize("days", [0, 3, 6, 7])
def test_dagtilbud_per_day_refuses_other_than_4_or_5_days(days: int) -> None:
    """A dagtilbud is granted 4 or 5 days a week; anything else is an error."""
    with pytest.raises(ValueError, match="4 or 5"):
        dagtilbud_hours_per_day("1", days)


def test_dagtilbud_per_day_refuses_an_unknown_step() -> None:
    """Step 28 does not exist."""
    with pytest.raises(UnknownStep):
        dagtilbud_hours_per_day("28", 5)


@pytest.mark.parametrize(
    ("code", "days", "expected"),
    [
        ("21", 4, False),  # 22.75 h
        ("22", 4, True),  # 24.5 h
        ("24", 5, False),  # 22.4 h
        ("25", 5, False),  # 23.8 h: under a day, despite domain.md 3.2 finding 4
        ("26", 5, True),  # 25.2 h
        ("27", 5, True),
    ],
)
def test_a_dagtilbud_step_is_flagged_when_it_implies_over_24_hours_a_day(
    code: str,
    days: int,
    expected: bool,  # noqa: FBT001 - filled in by parametrize
) -> None:
    """The stair reuses botilbud hours, so high steps exceed a day (G5 warning)."""
    assert expected == exceeds_a_day(code, days)


@pytest.mark.parametrize("days", [4, 5])
def test_the_first_step_over_a_day_is_22_at_4_days_and_26_at_5(days: int) -> None:
    """Every step from the first flagged one up is flagged, none below it."""
    flagged = [n for n in range(1, 28) if exceeds_a_day(str(n), days)]

    first = {4: 22, 5: 26}[days]
    assert list(range(first, 28)) == flagged
