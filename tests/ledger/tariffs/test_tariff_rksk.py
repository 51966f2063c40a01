"""Ringkøbing-Skjern borgerprofiler 1-7 and 7.1-7.4 (G17)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.tariffs import RKSK_BORGERPROFIL


@pytest.mark.parametrize(
    ("code", "low", "high", "midpoint"),
    [
        ("1", "0", "1.1", "0.5"),
        ("2", "1.1", "2.55", "1.8"),
        ("3", "2.55", "4.55", "3.525"),
        ("4", "4.55", "8.55", "6.525"),
        ("5", "8.55", "14.1", "11.275"),
        ("6", "14.1", "22.1", "18.05"),
        ("7", "22.1", "33.1", "27.55"),
        ("7.1", "33.1", "46.1", "39.55"),
        ("7.2", "46.1", "65.1", "55.55"),
        ("7.3", "65.1", "78.1", "71.55"),
        ("7.4", "78.1", "95", "86.55"),
    ],
)
def test_each_profile_runs_from_its_printed_lower_to_the_next_profiles_lower(
    code: str, low: str, high: str, midpoint: str
) -> None:
    """Half-open [lower, next lower) closes the printed gaps (G17); average = midpoint."""
    step = RKSK_BORGERPROFIL.step(code)

    assert (Decimal(low), Decimal(high), Decimal(midpoint)) == (
        step.min_hours,
        step.max_hours,
        step.average_hours,
    )
    assert f"Borgerprofil {code}" == step.label


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("0", "1"),
        ("1", "1"),
        ("1.05", "1"),  # between printed 1 and 1,1: still profile 1
        ("1.1", "2"),
        ("2.52", "2"),  # between printed 2,5 and 2,55
        ("2.55", "3"),
        ("33", "7"),
        ("33.05", "7"),
        ("33.1", "7.1"),
        ("50", "7.2"),
        ("78.1", "7.4"),
        ("95", "7.4"),  # the top profile includes 95
        ("120", "7.4"),
    ],
)
def test_suggestion_places_hours_in_the_half_open_profile_ranges(hours: str, expected: str) -> None:
    """G17: the printed gaps belong to the lower profile; 7.4 is closed above."""
    assert expected == RKSK_BORGERPROFIL.suggest_step(Decimal(hours)).code


def test_profile_descriptions_keep_the_printed_range() -> None:
    """The printed range stays visible for audit, since the boundaries are ours."""
    assert "printed 1.1-2.5" in RKSK_BORGERPROFIL.step("2").description


def test_no_profile_is_unconfirmed_or_has_a_staffing_ratio() -> None:
    """Confirmation (G5) and staffing (G10) belong to other models."""
    assert not any(step.unconfirmed for step in RKSK_BORGERPROFIL.steps)
    assert all(step.staffing is None for step in RKSK_BORGERPROFIL.steps)
