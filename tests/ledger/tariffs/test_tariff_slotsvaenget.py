"""Slotsvænget Støttepakken: §85 taksttrin 0-8 and §104 Takst 1-4 × sub-step 1-4."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from ledger.tariffs import SLOTSVAENGET_85, SLOTSVAENGET_104, suggest_104_step


@pytest.mark.parametrize(
    ("code", "low", "high", "average"),
    [
        ("0", "2", "9", "5"),
        ("1", "9", "16", "12"),
        ("2", "16", "23", "19"),
        ("3", "23", "30", "26"),
        ("4", "30", "37", "33"),
        ("5", "37", "52", "44"),
        ("6", "52", "65", "58"),
        ("7", "65", "79", "72"),
        ("8", "79", "100", "89"),
    ],
)
def test_section_85_steps_carry_the_printed_ranges_and_stated_averages(
    code: str, low: str, high: str, average: str
) -> None:
    """Ranges and averages of [000:L299-624]; step 5 reaches 52 (G9)."""
    step = SLOTSVAENGET_85.step(code)

    assert (Decimal(low), Decimal(high), Decimal(average)) == (
        step.min_hours,
        step.max_hours,
        step.average_hours,
    )
    assert f"Taksttrin {code}" == step.label


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("0", "0"),  # below the printed 2 h: the bottom step
        ("2", "0"),
        ("8.99", "0"),
        ("9", "1"),  # shared endpoint goes up (G9)
        ("16", "2"),
        ("36.99", "4"),
        ("37", "5"),
        ("51", "5"),
        ("51.5", "5"),  # the 51-52 gap belongs to step 5 (G9)
        ("52", "6"),
        ("79", "8"),
        ("99.99", "8"),
        ("100", "8"),  # the top step includes its upper bound
        ("150", "8"),  # above the top: the top step
    ],
)
def test_section_85_suggestion_follows_the_half_open_boundary_rule(
    hours: str, expected: str
) -> None:
    """Lower bounds are inclusive, upper exclusive, the top inclusive (G9)."""
    assert expected == SLOTSVAENGET_85.suggest_step(Decimal(hours)).code


def test_section_85_step_8_includes_100_hours_but_step_5_excludes_52() -> None:
    """covers() applies G9: only the top step is closed above."""
    assert SLOTSVAENGET_85.covers("8", Decimal(100))
    assert not SLOTSVAENGET_85.covers("5", Decimal(52))
    assert SLOTSVAENGET_85.covers("6", Decimal(52))


def test_section_85_averages_rise_by_seven_hours_up_to_step_4() -> None:
    """+7 h between steps 0-4, then +11, +14, +14, +17 [000:L259-261]."""
    averages = [step.average_hours for step in SLOTSVAENGET_85.steps]

    differences = [b - a for a, b in pairwise(averages)]

    assert list(map(Decimal, [7, 7, 7, 7, 11, 14, 14, 17])) == differences


@pytest.mark.parametrize(
    ("takst", "staffing"),
    [(1, "0.25"), (2, "0.5"), (3, "0.75"), (4, "1")],
)
def test_section_104_staffing_is_staff_per_citizen_for_each_takst(
    takst: int, staffing: str
) -> None:
    """Takst 1-4 store 0.25/0.5/0.75/1.0 staff per citizen (G10)."""
    steps = [SLOTSVAENGET_104.step(f"{takst}:{sub}") for sub in range(1, 5)]

    assert [Decimal(staffing)] * 4 == [s.staffing for s in steps]


@pytest.mark.parametrize("takst", [1, 2, 3, 4])
def test_section_104_sub_steps_are_the_same_for_every_takst(takst: int) -> None:
    """Figure 1 [000:L741-803]: 0-15, 15-30, 30-45, 45-60 h, averages 8/23/38/53."""
    cells = [SLOTSVAENGET_104.step(f"{takst}:{sub}") for sub in range(1, 5)]

    assert [
        (Decimal(0), Decimal(15), Decimal(8)),
        (Decimal(15), Decimal(30), Decimal(23)),
        (Decimal(30), Decimal(45), Decimal(38)),
        (Decimal(45), Decimal(60), Decimal(53)),
    ] == [(c.min_hours, c.max_hours, c.average_hours) for c in cells]


def test_section_104_labels_read_trin_takst_colon_sub_step() -> None:
    """The §104 cell 2:3 is labelled "Trin 2:3"."""
    expected = "Trin 2:3"

    assert expected == SLOTSVAENGET_104.step("2:3").label


def test_section_104_has_one_takst_per_staffing_level() -> None:
    """The model exposes its Takst dimension as 1-4; §85 has none."""
    assert tuple(range(1, 5)) == SLOTSVAENGET_104.takster
    assert not SLOTSVAENGET_85.takster


@pytest.mark.parametrize(
    ("takst", "hours", "expected"),
    [
        (1, "0", "1:1"),
        (1, "14.99", "1:1"),
        (1, "15", "1:2"),  # shared endpoint goes up (G9)
        (2, "15", "2:2"),
        (3, "30", "3:3"),
        (3, "44.5", "3:3"),
        (4, "45", "4:4"),
        (4, "60", "4:4"),  # top sub-step includes 60
        (4, "105", "4:4"),  # above the top: the top sub-step
    ],
)
def test_section_104_suggestion_chooses_the_sub_step_on_the_given_takst(
    takst: int, hours: str, expected: str
) -> None:
    """Hours choose the sub-step; the Takst is the caller's staffing judgement."""
    assert expected == SLOTSVAENGET_104.suggest_step(Decimal(hours), takst=takst).code
    assert expected == suggest_104_step(takst, Decimal(hours)).code


def test_section_104_suggestion_without_a_takst_uses_takst_1() -> None:
    """Hours cannot tell the Takst (G10), so the lowest staffing is assumed."""
    assert SLOTSVAENGET_104.step("1:2") == SLOTSVAENGET_104.suggest_step(Decimal(15))


def test_section_104_refuses_an_unknown_takst() -> None:
    """There is no Takst 5."""
    with pytest.raises(ValueError, match="no Takst 5"):
        suggest_104_step(5, Decimal(10))


def test_every_section_104_sub_step_4_is_the_top_of_its_ladder() -> None:
    """Each Takst is its own ladder, so x:4 includes 60 h and x:1 does not end it."""
    assert all(SLOTSVAENGET_104.is_top(f"{takst}:4") for takst in range(1, 5))
    assert not SLOTSVAENGET_104.is_top("2:1")
    assert SLOTSVAENGET_104.covers("3:4", Decimal(60))
