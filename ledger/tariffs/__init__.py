"""Tariff models as data: the steps and price components of every known model.

The registry :data:`MODELS` maps each model's stable code (stored in events)
to its :class:`TariffModel`; :func:`get_model` looks one up. Models carry no
prices: those come from the offers' annual tariff sheets.

Known models:

* ``slotsvaenget-85`` and ``slotsvaenget-104``: LTK Slotsvænget Støttepakken
  (:mod:`ledger.tariffs.slotsvaenget`);
* ``gentofte-botilbud`` and ``gentofte-dagtilbud``: Gentofte Kommune
  (:mod:`ledger.tariffs.gentofte`);
* ``rksk-borgerprofil``: Ringkøbing-Skjern borgerprofiler
  (:mod:`ledger.tariffs.ringkobing_skjern`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ledger.errors import UnknownTariffModel
from ledger.tariffs.gentofte import (
    BOTILBUD as GENTOFTE_BOTILBUD,
)
from ledger.tariffs.gentofte import (
    DAGTILBUD as GENTOFTE_DAGTILBUD,
)
from ledger.tariffs.gentofte import (
    FunctionBand,
    botilbud_hours_per_day,
    dagtilbud_hours_per_day,
    exceeds_a_day,
    function_band,
    jump_rule_hours,
)
from ledger.tariffs.model import Component, Step, TariffModel, UnknownComponent
from ledger.tariffs.ringkobing_skjern import BORGERPROFIL as RKSK_BORGERPROFIL
from ledger.tariffs.slotsvaenget import (
    SECTION_85 as SLOTSVAENGET_85,
)
from ledger.tariffs.slotsvaenget import (
    SECTION_104 as SLOTSVAENGET_104,
)
from ledger.tariffs.slotsvaenget import (
    suggest_104_step,
)


def _registry(*models: TariffModel) -> Mapping[str, TariffModel]:
    by_code = {model.code: model for model in models}
    if len(by_code) != len(models):
        raise ValueError("two tariff models share a code")
    for model in models:
        missing = [code for code in model.requires if code not in by_code]
        if missing:
            raise ValueError(f"model {model.code!r} requires unknown models {missing}")
    return MappingProxyType(by_code)


MODELS: Mapping[str, TariffModel] = _registry(
    SLOTSVAENGET_85,
    SLOTSVAENGET_104,
    GENTOFTE_BOTILBUD,
    GENTOFTE_DAGTILBUD,
    RKSK_BORGERPROFIL,
)


def get_model(code: str) -> TariffModel:
    """Return the model with ``code``; raise :class:`UnknownTariffModel` if none."""
    try:
        return MODELS[code]
    except KeyError:
        raise UnknownTariffModel(
            f"unknown tariff model {code!r} (known: {', '.join(MODELS)})",
            field="tariff_model",
        ) from None


__all__ = [
    "GENTOFTE_BOTILBUD",
    "GENTOFTE_DAGTILBUD",
    "MODELS",
    "RKSK_BORGERPROFIL",
    "SLOTSVAENGET_85",
    "SLOTSVAENGET_104",
    "Component",
    "FunctionBand",
    "Step",
    "TariffModel",
    "UnknownComponent",
    "botilbud_hours_per_day",
    "dagtilbud_hours_per_day",
    "exceeds_a_day",
    "function_band",
    "get_model",
    "jump_rule_hours",
    "suggest_104_step",
]
