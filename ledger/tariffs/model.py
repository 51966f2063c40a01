"""The shape of a tariff model: steps with hour ranges, and price components.

A tariff model says *which* steps and components a service line can be priced
by; it never holds a price. Prices come from the offer's annual tariff sheet
(takstblad) [000:L629-630, L806-807], which must name a price for every
component of the model (and, for per-step components, every step).

Hour ranges follow gap G9: lower bound inclusive, upper bound exclusive,
except the top step of a ladder, whose upper bound is inclusive. A ladder is
the run of steps that hours choose between: the whole model, or for
Slotsvænget §104 the four sub-steps of one Takst (the Takst itself is a
staffing judgement, G10). :meth:`TariffModel.suggest_step` is advice only:
the agreed step is a decision recorded as an event, never a computation (G9).

This module must not know any concrete model and must not import the registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from ledger.errors import NotFound, StepUnconfirmed, UnknownStep
from ledger.values import Unit


class UnknownComponent(NotFound):
    """Raised when a component code is not one of the tariff model's components."""

    rule = "unknown-component"


def _require_decimal(name: str, value: object) -> None:
    # Floats would make the ranges inexact; the whole ledger is Decimal-only.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, not {value!r}")


@dataclass(frozen=True)
class Step:
    """One step of a tariff model and the weekly hours it stands for.

    ``min_hours`` is inclusive and ``max_hours`` exclusive, except on the top
    step of its ladder, where ``max_hours`` is inclusive (G9). ``takst`` is
    set only on Slotsvænget §104 steps, which form one ladder per Takst.
    """

    code: str
    label: str
    min_hours: Decimal
    max_hours: Decimal
    average_hours: Decimal
    unconfirmed: bool = False
    staffing: Decimal | None = None
    description: str = ""
    takst: int | None = None

    def __post_init__(self) -> None:
        """Refuse a step whose hours are not Decimal or do not form a range."""
        _require_decimal("min_hours", self.min_hours)
        _require_decimal("max_hours", self.max_hours)
        _require_decimal("average_hours", self.average_hours)
        if self.staffing is not None:
            _require_decimal("staffing", self.staffing)
        if not Decimal(0) <= self.min_hours < self.max_hours:
            raise ValueError(
                f"step {self.code!r}: need 0 <= min_hours < max_hours, "
                f"got {self.min_hours} and {self.max_hours}"
            )
        if not self.min_hours <= self.average_hours <= self.max_hours:
            raise ValueError(
                f"step {self.code!r}: average {self.average_hours} is outside "
                f"[{self.min_hours}, {self.max_hours}]"
            )


@dataclass(frozen=True)
class Component:
    """One price component of a model, e.g. basistakst or servicetakst.

    ``per_step`` is True when the tariff sheet gives one price per step
    (servicetakst, indsatstrin) and False when one price holds for every step
    (basistakst, Slotsvænget's night cover).
    """

    code: str
    label: str
    per_step: bool


@dataclass(frozen=True)
class TariffModel:
    """A tariff model: its steps in ascending order and its price components.

    ``code`` is public API: it is stored in events, so it never changes.
    ``requires`` names models that must also be on the same contract (e.g.
    Slotsvænget §85 requires §104 [000:L212-213]); the contract enforces it.
    """

    code: str
    name: str
    paragraph: str
    steps: tuple[Step, ...]
    components: tuple[Component, ...]
    unit: Unit
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a model whose steps or components are not well formed."""
        if not self.steps:
            raise ValueError(f"model {self.code!r} has no steps")
        _refuse_duplicates(self.code, "step", [s.code for s in self.steps])
        _refuse_duplicates(self.code, "component", [c.code for c in self.components])
        for ladder in self._ladders():
            # Adjacent steps share their boundary, so every hour total in the
            # ladder falls in exactly one step (G9).
            for lower, upper in pairwise(ladder):
                if lower.max_hours != upper.min_hours:
                    raise ValueError(
                        f"model {self.code!r}: step {lower.code!r} ends at "
                        f"{lower.max_hours} but step {upper.code!r} starts at "
                        f"{upper.min_hours}"
                    )

    # --- steps -------------------------------------------------------------

    @property
    def step_codes(self) -> tuple[str, ...]:
        """The step codes in ascending order."""
        return tuple(step.code for step in self.steps)

    @property
    def takster(self) -> tuple[int, ...]:
        """The Takst numbers of a model with a Takst dimension (§104); else empty."""
        return tuple(sorted({s.takst for s in self.steps if s.takst is not None}))

    def step(self, code: str) -> Step:
        """Return the step with ``code``; raise :class:`UnknownStep` if none."""
        for step in self.steps:
            if step.code == code:
                return step
        raise UnknownStep(
            f"tariff model {self.code!r} has no step {code!r} "
            f"(steps: {', '.join(self.step_codes)})",
            field="step",
        )

    def check_step(self, code: str, *, allow_unconfirmed: bool = False) -> Step:
        """Return the step with ``code`` if a service line may use it.

        Raises :class:`UnknownStep` for a code the model lacks and
        :class:`StepUnconfirmed` for an unconfirmed step (Gentofte 25-27, G5)
        unless ``allow_unconfirmed`` is given.
        """
        step = self.step(code)
        if step.unconfirmed and not allow_unconfirmed:
            raise StepUnconfirmed(
                f"step {code!r} of tariff model {self.code!r} is not confirmed "
                "by the provider; it may only be used with explicit permission",
                field="step",
            )
        return step

    def is_top(self, code: str) -> bool:
        """Tell whether the step ends its ladder, so its upper bound is inclusive (G9)."""
        step = self.step(code)
        return self._ladder(step.takst)[-1] is step

    def covers(self, code: str, hours_per_week: Decimal) -> bool:
        """Tell whether ``hours_per_week`` lies in the step's range by G9."""
        step = self.step(code)
        if hours_per_week < step.min_hours:
            return False
        if self.is_top(code):
            return hours_per_week <= step.max_hours
        return hours_per_week < step.max_hours

    def suggest_step(self, hours_per_week: Decimal, *, takst: int | None = None) -> Step:
        """Suggest the step whose range holds ``hours_per_week`` (advice only).

        Ranges are half-open with the top step upper-inclusive (G9). Hours
        above the top go to the top step; hours below the bottom step (only
        Slotsvænget §85 starts above 0, at 2 h) go to the bottom step. A
        suggested step may be unconfirmed; :meth:`check_step` decides use.

        ``takst`` chooses the ladder on a model with a Takst dimension
        (Slotsvænget §104). Hours cannot tell the Takst, which is a separate
        judgement of staffing (G10); without it the lowest Takst is used.
        Giving ``takst`` to a model without that dimension is refused.

        Raises ValueError for negative hours or an unknown Takst.
        """
        _require_decimal("hours_per_week", hours_per_week)
        if hours_per_week < 0:
            raise ValueError(f"hours per week cannot be negative: {hours_per_week}")
        ladder = self._ladder(self._resolve_takst(takst))
        for step in ladder:
            if hours_per_week < step.max_hours:
                return step
        return ladder[-1]

    # --- components --------------------------------------------------------

    def component(self, code: str) -> Component:
        """Return the component with ``code``; raise :class:`UnknownComponent` if none."""
        for component in self.components:
            if component.code == code:
                return component
        raise UnknownComponent(
            f"tariff model {self.code!r} has no component {code!r} "
            f"(components: {', '.join(c.code for c in self.components)})",
            field="component",
        )

    def fixed_components(self) -> tuple[Component, ...]:
        """Components with one price for all steps (basis, night)."""
        return tuple(c for c in self.components if not c.per_step)

    def step_components(self) -> tuple[Component, ...]:
        """Components priced per step (service)."""
        return tuple(c for c in self.components if c.per_step)

    # --- ladders -----------------------------------------------------------

    def _resolve_takst(self, takst: int | None) -> int | None:
        takster = self.takster
        if not takster:
            if takst is not None:
                raise ValueError(f"tariff model {self.code!r} has no Takst dimension")
            return None
        if takst is None:
            return takster[0]
        if takst not in takster:
            raise ValueError(
                f"tariff model {self.code!r} has no Takst {takst} "
                f"(Takster: {', '.join(map(str, takster))})"
            )
        return takst

    def _ladder(self, takst: int | None) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.takst == takst)

    def _ladders(self) -> Iterator[tuple[Step, ...]]:
        seen: list[int | None] = []
        for step in self.steps:
            if step.takst not in seen:
                seen.append(step.takst)
                yield self._ladder(step.takst)


def _refuse_duplicates(model: str, kind: str, codes: list[str]) -> None:
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValueError(f"model {model!r} repeats {kind} codes {duplicates}")
