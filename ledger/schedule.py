"""Bilag 3 day schedules: the documentation behind a renegotiation request.

A day schedule ("Borgerens døgnskema") lists segments of a day with the
minutes staff spend, the staffing ratio (1:1, 1:2, ...) and whether the time is
direct or indirect citizen time [000:L914-1143]. From it we derive the weekly
hours the request rests on, so the parties can see which step they fall in.
It is evidence, not a decision: the agreed step is recorded separately (G9).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.errors import InvalidSchedule
from ledger.tariffs import Step, TariffModel

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class ScheduleSegment:
    """One row of the schedule: what staff do, for how long, at what ratio.

    ``citizens_per_staff`` is the right-hand number of the ratio as Bilag 3
    writes it: 1 for 1:1, 2 for 1:2. A citizen's share of a 1:2 segment is half
    of its minutes. ``days_per_week`` says how often the segment happens.
    """

    segment: str  # e.g. "Morgenrutine", "Aften", "Øvrig/Nat"
    description: str
    minutes: int
    citizens_per_staff: int = 1
    direct: bool = True
    days_per_week: int = 7

    def weekly_hours(self) -> Decimal:
        """The citizen's share of this segment in hours per week."""
        minutes = Decimal(self.minutes * self.days_per_week) / self.citizens_per_staff
        return minutes / 60


@dataclass(frozen=True)
class DaySchedule:
    """A completed Bilag 3 form (personal data stays in the citizen register)."""

    completed_on: str  # ISO date the form was filled in
    segments: tuple[ScheduleSegment, ...]

    def __post_init__(self) -> None:
        """Refuse impossible schedules: the form must describe real time."""
        if not self.segments:
            msg = "a day schedule needs at least one segment"
            raise InvalidSchedule(msg, field="schedule.segments")
        per_day: dict[int, int] = {}
        for index, row in enumerate(self.segments):
            where = f"schedule.segments[{index}]"
            if row.minutes <= 0:
                msg = f"minutes must be positive, got {row.minutes}"
                raise InvalidSchedule(msg, field=f"{where}.minutes")
            if row.citizens_per_staff < 1:
                msg = (
                    f"ratio must be 1:1 or more citizens per staff, got 1:{row.citizens_per_staff}"
                )
                raise InvalidSchedule(msg, field=f"{where}.citizens_per_staff")
            if not 1 <= row.days_per_week <= 7:  # noqa: PLR2004 - days in a week
                msg = f"days per week must be 1-7, got {row.days_per_week}"
                raise InvalidSchedule(msg, field=f"{where}.days_per_week")
            per_day[row.days_per_week] = per_day.get(row.days_per_week, 0) + row.minutes
        if sum(per_day.values()) > MINUTES_PER_DAY * 2:
            # Even with two staff at once a citizen cannot receive more than
            # two staff-days of 1:1 time in a day.
            msg = "the segments add up to more than two staff for a whole day"
            raise InvalidSchedule(msg, field="schedule.segments")

    def weekly_hours(self) -> Decimal:
        """Direct plus indirect hours per week."""
        return sum((row.weekly_hours() for row in self.segments), Decimal(0))

    def direct_weekly_hours(self) -> Decimal:
        """Direct citizen time in hours per week."""
        return sum((r.weekly_hours() for r in self.segments if r.direct), Decimal(0))

    def indirect_weekly_hours(self) -> Decimal:
        """Indirect citizen time (documentation, meetings about the citizen) per week."""
        return sum((r.weekly_hours() for r in self.segments if not r.direct), Decimal(0))


def suggested_step(schedule: DaySchedule, model: TariffModel, *, current_step: str) -> Step:
    """The step the schedule's weekly hours fall in: advice for the parties (G9).

    On Slotsvænget §104 the hours choose the sub-step within the line's current
    Takst (staffing is a separate judgement, G10).
    """
    takst = model.step(current_step).takst
    return model.suggest_step(schedule.weekly_hours(), takst=takst)
