"""Ringkøbing-Skjern Kommune borgerprofiler: basisbudget + borgerprofil.

A borgerprofil is "en ressourceramme, på et antal timer, som gives til
leverandør" [004:L1350]; the basisbudget covers the fixed costs on top of it
(and night watch in botilbud) [004:L1392-1402]. There are profiles 1-7 plus
7.1-7.4 beyond profile 7 [004:L417-494]. Profile 0 ("uvisiteret") is no
contract step and is left out.

The source prints hour ranges in "timer" without a period, with gaps between
the ranges (e.g. 2,5 then 2,55). G17 decides: hours per week (to be
confirmed), each profile half-open from its printed lower bound to the next
profile's printed lower bound, the top profile 7.4 inclusive at 95.

This module holds structure only; prices come elsewhere.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.tariffs.model import Component, Step, TariffModel
from ledger.values import Unit

BORGERPROFIL_CODE = "rksk-borgerprofil"

# (profile, printed lower, printed upper, VUM category / level) [004:L417-494].
# Categories are printed once per group (B: 1; C/D: 2-4; D/E: 5-7).
_PRINTED: tuple[tuple[str, str, str, str], ...] = (
    ("1", "0", "1", "B, betydelig (considerable)"),
    ("2", "1.1", "2.5", "C/D, omfattende (extensive)"),
    ("3", "2.55", "4.5", "C/D, meget omfattende (very extensive)"),
    ("4", "4.55", "8.5", "C/D, vidtgående (far-reaching)"),
    ("5", "8.55", "14", "D/E, massiv (massive)"),
    ("6", "14.1", "22", "D/E, gennemgribende (pervasive)"),
    ("7", "22.1", "33", "D/E, fuldstændig (complete)"),
    ("7.1", "33.1", "46", "beyond profile 7"),
    ("7.2", "46.1", "65", "beyond profile 7"),
    ("7.3", "65.1", "78", "beyond profile 7"),
    ("7.4", "78.1", "95", "beyond profile 7"),
)


def _steps() -> tuple[Step, ...]:
    steps: list[Step] = []
    for index, (code, low, high, level) in enumerate(_PRINTED):
        printed_low, printed_high = Decimal(low), Decimal(high)
        is_top = index == len(_PRINTED) - 1
        # G17: up to the next profile's printed lower bound; the top keeps its own.
        upper = printed_high if is_top else Decimal(_PRINTED[index + 1][1])
        steps.append(
            Step(
                code=code,
                label=f"Borgerprofil {code}",
                min_hours=printed_low,
                max_hours=upper,
                average_hours=(printed_low + printed_high) / 2,
                description=f"{level}; printed {low}-{high} timer (G17)",
            )
        )
    return tuple(steps)


BORGERPROFIL = TariffModel(
    code=BORGERPROFIL_CODE,
    name="Ringkøbing-Skjern Kommune, borgerprofiler (basisbudget + borgerprofil)",
    paragraph="SEL §§ 85, 107, 108 / ABL § 105",
    steps=_steps(),
    components=(
        Component("basis", "Basisbudget (base budget)", per_step=False),
        Component("service", "Borgerprofil (citizen profile)", per_step=True),
    ),
    # G17: the period is not printed; hours per week until RKSK confirms.
    unit=Unit.HOURS_PER_WEEK,
)
