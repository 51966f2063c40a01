"""Gentofte Kommune "Takstmodel for bo- og dagtilbud": basistakst + indsatstrin.

Two models with the same stair of indsatstrin [002:L44-51], one for botilbud
(need counted over a 7-day week [002:L63-64]) and one for dagtilbud (need
counted over the working week of 4 or 5 days [002:L66-70]). The price is a
fixed basistakst per offer plus the indsatstrin [002:L32-42]; night cover is
inside the indsatstrin, not a separate component [002:L124-135].

The step hours follow the jump rule of the text: +1.75 h for steps 1-4, +3.5 h
for 5-14, +7 h from 15. The tables run to step 27 although the text names 24;
steps 25-27 are loaded but unconfirmed and blocked until Gentofte confirms
them (G5). Per-day figures use exact Decimal arithmetic (G24).

This module holds structure only; prices come from the offer's takstblad.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from ledger.tariffs.model import Component, Step, TariffModel
from ledger.values import Unit

BOTILBUD_CODE = "gentofte-botilbud"
DAGTILBUD_CODE = "gentofte-dagtilbud"

STEP_COUNT = 27
# G5: the text's stair ends at 24 [002:L49-51]; the tables show 25-27
# [002:L231-241, L345-348].
UNCONFIRMED_FROM = 25

DAYS_IN_WEEK = 7
DAGTILBUD_DAYS = (4, 5)  # "4 eller 5 dage" [002:L69]
HOURS_IN_DAY = Decimal(24)


class FunctionBand(StrEnum):
    """The function level of a step (KL's Funktionsevneguide, as in 002's tables).

    The bands do not follow the jump bands (1-4, 5-14, 15-24).
    """

    LET = "Let"  # mild, steps 1-4
    MODERAT = "Moderat"  # moderate, steps 5-14
    SVAER = "Svær"  # severe, steps 15-20
    FULDSTAENDIG = "Fuldstændig"  # complete, steps 21-27


LAST_SMALL_JUMP = 4  # steps 1-4 rise 1.75 h each [002:L49]
LAST_MEDIUM_JUMP = 14  # steps 5-14 rise 3.5 h each [002:L50]; from 15, 7 h [002:L51]
LAST_LET = 4  # function bands [002:L170-252]: Let 1-4,
LAST_MODERAT = 14  # Moderat 5-14,
LAST_SVAER = 20  # Svær 15-20, Fuldstændig 21-27


def jump_rule_hours(n: int) -> Decimal:
    """Return the weekly hours of indsatstrin ``n`` by the jump rule [002:L49-51].

    n <= 4: 1.75 n; 5 <= n <= 14: 7 + 3.5 (n - 4); n >= 15: 42 + 7 (n - 14).
    """
    if n < 1:
        raise ValueError(f"indsatstrin start at 1, got {n}")
    # Counted in quarter hours (1.75 h = 7 quarters) so that the division
    # below is exact and gives the shortest form: 3.5, not 3.50 (G24).
    if n <= LAST_SMALL_JUMP:
        quarters = 7 * n
    elif n <= LAST_MEDIUM_JUMP:
        quarters = 28 + 14 * (n - 4)
    else:
        quarters = 168 + 28 * (n - 14)
    return Decimal(quarters) / 4


def _band(n: int) -> FunctionBand:
    if n <= LAST_LET:
        return FunctionBand.LET
    if n <= LAST_MODERAT:
        return FunctionBand.MODERAT
    if n <= LAST_SVAER:
        return FunctionBand.SVAER
    return FunctionBand.FULDSTAENDIG


def _steps(setting: str) -> tuple[Step, ...]:
    return tuple(
        Step(
            code=str(n),
            label=f"Indsatstrin {n}",
            # Step n covers [hours(n), hours(n + 1)); step 1 from 0 so that
            # every need has a step; the top step includes its upper bound (G9).
            min_hours=Decimal(0) if n == 1 else jump_rule_hours(n),
            max_hours=jump_rule_hours(n + 1),
            average_hours=jump_rule_hours(n),
            unconfirmed=n >= UNCONFIRMED_FROM,
            description=(
                f"{_band(n).value} nedsat funktionsevne ({setting}); "
                f"{jump_rule_hours(n)} h/week"
                + (
                    "; in the tables only, not in the text: unconfirmed (G5)"
                    if n >= UNCONFIRMED_FROM
                    else ""
                )
            ),
        )
        for n in range(1, STEP_COUNT + 1)
    )


BASIS = Component("basis", "Basistakst (base tariff)", per_step=False)
# Night cover is part of the indsatstrin [002:L134]; it adds no component.
SERVICE = Component("service", "Indsatstrin (service step)", per_step=True)

BOTILBUD = TariffModel(
    code=BOTILBUD_CODE,
    name="Gentofte Kommune, takstmodel for botilbud (basistakst + indsatstrin)",
    paragraph="SEL §§ 107, 108 / ABL § 105 med § 85",
    steps=_steps("botilbud"),
    components=(BASIS, SERVICE),
    unit=Unit.HOURS_PER_WEEK,
)

# The dagtilbud stair reuses the botilbud hours although it counts a working
# week (domain.md 3.2, finding 4); see exceeds_a_day.
DAGTILBUD = TariffModel(
    code=DAGTILBUD_CODE,
    name="Gentofte Kommune, takstmodel for dagtilbud (basistakst + indsatstrin)",
    paragraph="SEL §§ 103, 104",
    steps=_steps("dagtilbud"),
    components=(BASIS, SERVICE),
    unit=Unit.HOURS_PER_WEEK,
)


def function_band(step_code: str) -> FunctionBand:
    """Return the function band of a step; raise UnknownStep for a bad code."""
    return _band(int(BOTILBUD.step(step_code).code))


def botilbud_hours_per_day(step_code: str) -> Decimal:
    """Return a botilbud step's average hours per day: week / 7 [002:L63-64]."""
    return BOTILBUD.step(step_code).average_hours / DAYS_IN_WEEK


def dagtilbud_hours_per_day(step_code: str, days_per_week: int) -> Decimal:
    """Return a dagtilbud step's average hours per day at 4 or 5 days a week.

    Exact (G24): step 1 at 4 days is 0.4375 h = 26.25 min, not the source's
    "26.5 min" [002:L72]. Raises ValueError for any other number of days and
    UnknownStep for a bad code.
    """
    if days_per_week not in DAGTILBUD_DAYS:
        raise ValueError(f"a dagtilbud is granted 4 or 5 days a week, not {days_per_week}")
    return DAGTILBUD.step(step_code).average_hours / days_per_week


def exceeds_a_day(step_code: str, days_per_week: int) -> bool:
    """Tell whether a dagtilbud step implies over 24 hours per day (G5 warning).

    Over 24 h a day is only possible with several staff at once; such a step
    needs Gentofte's confirmation. At 4 days it starts at step 22 (24.5 h);
    at 5 days at step 26 (25.2 h: step 25 is 23.8 h).
    """
    return dagtilbud_hours_per_day(step_code, days_per_week) > HOURS_IN_DAY
