"""Bilag 3 day schedules: the weekly hours a renegotiation request rests on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.errors import InvalidSchedule
from ledger.schedule import DaySchedule, ScheduleSegment, suggested_step
from ledger.tariffs import get_model


def schedule(*segments: ScheduleSegment) -> DaySchedule:
    return DaySchedule("2025-03-01", segments)


def test_a_one_to_one_segment_every_day_counts_all_its_minutes():
    """60 minutes 1:1 on 7 days a week is 7 hours a week."""
    segment = ScheduleSegment("Morgenrutine", "Hjælp til bad og påklædning", 60)

    assert Decimal(7) == segment.weekly_hours()


def test_a_one_to_two_segment_counts_half_its_minutes():
    """120 minutes at 1:2 on 7 days is 7 hours a week; 45 minutes is 2.625."""
    assert Decimal(7) == ScheduleSegment("Aften", "Aftensmad", 120, 2).weekly_hours()
    assert Decimal("2.625") == ScheduleSegment("Aften", "Oprydning", 45, 2).weekly_hours()


def test_a_segment_on_fewer_days_counts_only_those_days():
    """90 minutes 1:1 on 5 days a week is 7.5 hours a week."""
    segment = ScheduleSegment("Dag", "Beskæftigelse", 90, days_per_week=5)

    assert Decimal("7.5") == segment.weekly_hours()


def test_a_schedule_adds_direct_and_indirect_time_separately():
    """Direct 7 + 3.5 h, indirect 1 h: total 11.5 h a week."""
    day = schedule(
        ScheduleSegment("Morgenrutine", "Bad", 60),
        ScheduleSegment("Aften", "Madlavning", 60, 2),
        ScheduleSegment("Øvrig", "Dokumentation", 30, direct=False, days_per_week=2),
    )

    assert Decimal("10.5") == day.direct_weekly_hours()
    assert Decimal(1) == day.indirect_weekly_hours()
    assert Decimal("11.5") == day.weekly_hours()


def test_a_schedule_with_only_direct_time_has_no_indirect_hours():
    """No indirect segment: indirect hours are zero."""
    day = schedule(ScheduleSegment("Morgenrutine", "Bad", 30))

    assert Decimal(0) == day.indirect_weekly_hours()
    assert Decimal("3.5") == day.direct_weekly_hours()


@pytest.mark.parametrize(
    ("segment", "field"),
    [
        (ScheduleSegment("Nat", "Tilsyn", 0), "schedule.segments[1].minutes"),
        (ScheduleSegment("Nat", "Tilsyn", -15), "schedule.segments[1].minutes"),
        (ScheduleSegment("Nat", "Tilsyn", 30, 0), "schedule.segments[1].citizens_per_staff"),
        (
            ScheduleSegment("Nat", "Tilsyn", 30, days_per_week=8),
            "schedule.segments[1].days_per_week",
        ),
        (
            ScheduleSegment("Nat", "Tilsyn", 30, days_per_week=0),
            "schedule.segments[1].days_per_week",
        ),
    ],
    ids=["zero-minutes", "negative-minutes", "zero-citizens", "eight-days", "zero-days"],
)
def test_an_impossible_segment_is_refused_and_named(segment, field):
    """Zero minutes, a ratio of 1:0, or more than 7 days a week is refused."""
    with pytest.raises(InvalidSchedule) as raised:
        schedule(ScheduleSegment("Morgenrutine", "Bad", 60), segment)

    assert field == raised.value.field


def test_a_schedule_without_segments_is_refused():
    """An empty form describes no time."""
    with pytest.raises(InvalidSchedule) as raised:
        schedule()

    assert "schedule.segments" == raised.value.field


def test_a_schedule_of_more_than_two_whole_staff_days_is_refused():
    """1441 + 1440 minutes a day exceed two staff for 24 hours."""
    with pytest.raises(InvalidSchedule):
        schedule(ScheduleSegment("Dag", "A", 1441), ScheduleSegment("Nat", "B", 1440))


def test_two_whole_staff_days_are_allowed():
    """Exactly 2 × 1440 minutes (two staff around the clock) is possible: 336 h a week."""
    day = schedule(ScheduleSegment("Dag", "A", 1440), ScheduleSegment("Nat", "B", 1440))

    assert Decimal(336) == day.weekly_hours()


def test_the_schedule_suggests_the_step_its_hours_fall_in():
    """33 h/week falls in Slotsvænget §85 step 4 (30-37 h); advice only (G9)."""
    schedule = DaySchedule(
        completed_on="2025-04-08",
        segments=(ScheduleSegment("Dag", "støtte", 330, days_per_week=6),),  # 33 h
    )

    step = suggested_step(schedule, get_model("slotsvaenget-85"), current_step="2")

    assert "4" == step.code


def test_on_section_104_the_schedule_keeps_the_current_takst():
    """The hours choose the sub-step; the Takst (staffing, G10) stays as agreed."""
    schedule = DaySchedule(
        completed_on="2025-04-08",
        segments=(ScheduleSegment("Aften", "samvær", 240, days_per_week=5),),  # 20 h
    )

    step = suggested_step(schedule, get_model("slotsvaenget-104"), current_step="3:1")

    assert "3:2" == step.code
