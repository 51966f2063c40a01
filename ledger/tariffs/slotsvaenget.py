"""Lyngby-Taarbæk "Takstmodel Slotsvænget Støttepakken" (effective 1 January 2024).

Two models, one per paragraph, because the source prices them separately
[000:L190-192]:

* ``slotsvaenget-85``: socialpædagogisk støtte, nine taksttrin 0-8
  [000:L254-625; 001:L78-347]. Optional, but only together with §104
  [000:L212-213], hence ``requires``.
* ``slotsvaenget-104``: the activity and social offer, Takst 1-4 (staffing)
  × sub-step 1-4 (hours of access) [000:L646-814], plus the fixed night cover
  that cannot be opted out [000:L815-833].

Each paragraph's price is basistakst + servicetakst(step) [000:L225-238,
L653-666]; §104 adds the night component. This module holds structure only;
prices come from the annual takstblad.
"""

from __future__ import annotations

from decimal import Decimal

from ledger.tariffs.model import Component, Step, TariffModel
from ledger.values import Unit

SECTION_85_CODE = "slotsvaenget-85"
SECTION_104_CODE = "slotsvaenget-104"

BASIS = Component("basis", "Basistakst (base tariff)", per_step=False)
SERVICE = Component("service", "Servicetakst (service tariff)", per_step=True)
# G8: a published annual amount (Slotsvænget's night-cover cost base / 35),
# "fast/ens for alle" [000:L823-824], so one price for every step.
NIGHT = Component(
    "night",
    "Natdækning (night cover): 1/35 of Slotsvænget's night-cover cost (G8)",
    per_step=False,
)

# (step, min, max, stated average, need level), from the table in
# [000:L254-625]; sources per row on the right.
# G9: the printed ranges share endpoints and leave a 51-52 gap between steps 5
# and 6; steps are half-open, so step 5 is 37 <= h < 52 and step 8 (the top)
# includes 100.
_SECTION_85_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("0", "2", "9", "5", "compensating support for some daily tasks"),  # 000:L299-310
    ("1", "9", "16", "12", "compensating support for some daily tasks"),  # L332-361
    ("2", "16", "23", "19", "support for a fair number of daily tasks"),  # L364-389
    ("3", "23", "30", "26", "support for many daily tasks"),  # 000:L393-435
    ("4", "30", "37", "33", "support for most daily tasks"),  # 000:L438-469
    # Printed 37-51 [000:L470-507]; the label "5" is only in 001:L228.
    ("5", "37", "52", "44", "support for virtually all daily tasks"),
    ("6", "52", "65", "58", "extensive support for many tasks; close support"),  # L510-551
    ("7", "65", "79", "72", "extensive support for most tasks"),  # 000:L554-582
    # [000:L583-624]; the label "8" is only in 001:L317.
    ("8", "79", "100", "89", "full compensating support for all daily tasks"),
)

SECTION_85 = TariffModel(
    code=SECTION_85_CODE,
    name="Takstmodel Slotsvænget Støttepakken, § 85 (socialpædagogisk støtte)",
    paragraph="SEL §85",
    steps=tuple(
        Step(
            code=code,
            label=f"Taksttrin {code}",
            min_hours=Decimal(low),
            max_hours=Decimal(high),
            average_hours=Decimal(average),
            description=need,
        )
        for code, low, high, average, need in _SECTION_85_TABLE
    ),
    components=(BASIS, SERVICE),
    unit=Unit.HOURS_PER_WEEK,
    # "Det er en forudsætning for indskrivning i Støttepakkens § 85, at
    # borgeren også indskrives i … § 104" [000:L212-213].
    requires=(SECTION_104_CODE,),
)

# G10: staff per citizen (the prose "1 borger til 0,25 medarbejder"
# [000:L722-727], not the inverted table heading); the maximum need, not hours.
_STAFFING: tuple[tuple[int, str], ...] = (
    (1, "0.25"),
    (2, "0.5"),
    (3, "0.75"),
    (4, "1.0"),
)

# Figure 1, the same for every Takst [000:L741-803]: hours of access per week.
# Shared endpoints 15/30/45 are resolved by G9 (lower inclusive).
_SUB_STEPS: tuple[tuple[int, str, str, str], ...] = (
    (1, "0", "15", "8"),
    (2, "15", "30", "23"),
    (3, "30", "45", "38"),
    (4, "45", "60", "53"),
)

SECTION_104 = TariffModel(
    code=SECTION_104_CODE,
    name="Takstmodel Slotsvænget Støttepakken, § 104 (aktivitets- og samværstilbud)",
    paragraph="SEL §104",
    steps=tuple(
        Step(
            code=f"{takst}:{sub}",
            label=f"Trin {takst}:{sub}",
            min_hours=Decimal(low),
            max_hours=Decimal(high),
            average_hours=Decimal(average),
            staffing=Decimal(staffing),
            description=(
                f"Takst {takst} (staffing 1 citizen : {staffing} staff, G10), "
                f"sub-step {sub} ({low}-{high} h/week of access)"
            ),
            takst=takst,
        )
        for takst, staffing in _STAFFING
        for sub, low, high, average in _SUB_STEPS
    ),
    # The night cover is always present on §104: "kan denne ydelse derfor
    # ikke fravælges" [000:L823].
    components=(BASIS, SERVICE, NIGHT),
    unit=Unit.HOURS_PER_WEEK,
)


def suggest_104_step(takst: int, hours_per_week: Decimal) -> Step:
    """Suggest the §104 sub-step on ``takst`` whose range holds ``hours_per_week``.

    The Takst (staffing, G10) is a separate judgement that hours cannot make;
    this only chooses the sub-step. Advice only (G9).
    """
    return SECTION_104.suggest_step(hours_per_week, takst=takst)
