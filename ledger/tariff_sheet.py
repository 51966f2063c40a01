"""The tariff sheet (takstblad) aggregate: one offer's prices for one year.

The documents give no prices: "Taksterne ajourføres og udgives årligt i et
separat takstblad" [000:L629-630]. A sheet publishes, for each tariff model the
offer sells, a daily DKK price per component (and per step for step-dependent
components), valid from 1 January of its year (G3). A correction is a new
event with who and why, so an auditor can see which prices were in force and
when they became known.

This module must not know about contracts; pricing joins the two.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as LibrarySnapshot

from ledger.clock import recording_time
from ledger.errors import (
    IncompleteTariffSheet,
    InvalidValue,
    NonPositivePrice,
    UnknownStep,
)
from ledger.tariffs import TariffModel, get_model
from ledger.transcoding import restore_tuples
from ledger.values import Actor

SHEET_NAMESPACE = uuid.UUID("6f1f8a2e-8c55-4d39-9b53-2f0f8f1d7a10")
DAYS_PER_YEAR = Decimal(365)
DAILY_PRECISION = Decimal("0.000001")  # G4: keep daily accrual exact to 1e-6 DKK


@dataclass(frozen=True)
class SheetPrice:
    """A component's daily price in a sheet; ``step`` is None for fixed components.

    ``annual`` keeps the published annual amount when the sheet gave one, so
    the G4 conversion can be audited.
    """

    model: str
    component: str
    step: str | None
    daily: Decimal
    annual: Decimal | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Where the price sits in the sheet."""
        return (self.model, self.component, self.step)


def daily_from_annual(annual: Decimal) -> Decimal:
    """G4: day rate = annual / 365, kept to 6 decimals; billing rounds to øre per line.

    29 February is billable at the same day rate (G4's default).
    """
    return (annual / DAYS_PER_YEAR).quantize(DAILY_PRECISION, rounding=ROUND_HALF_UP)


def price(
    model: str,
    component: str,
    step: str | None = None,
    *,
    daily: Decimal | None = None,
    annual: Decimal | None = None,
) -> SheetPrice:
    """Build a sheet price from a daily amount or an annual amount (G4)."""
    if (daily is None) == (annual is None):
        msg = "give exactly one of a daily or an annual amount"
        raise InvalidValue(msg, field="daily")
    if annual is not None:
        return SheetPrice(model, component, step, daily_from_annual(annual), annual)
    assert daily is not None  # noqa: S101 - narrowed by the check above
    return SheetPrice(model, component, step, daily)


def validate_prices(prices: tuple[SheetPrice, ...]) -> tuple[str, ...]:
    """Check a complete price list and return the models it covers, in order.

    Refuses an unknown model, an unknown component or step, a duplicate, a
    non-positive price, and a sheet that misses a component or step of a model
    it names.
    """
    if not prices:
        msg = "a tariff sheet needs at least one price"
        raise IncompleteTariffSheet(msg, field="prices")
    seen: dict[tuple[str, str, str | None], SheetPrice] = {}
    models: dict[str, TariffModel] = {}
    for index, item in enumerate(prices):
        model = models.get(item.model) or get_model(item.model)
        models[item.model] = model
        component = model.component(item.component)
        if component.per_step:
            if item.step is None:
                msg = f"{model.code} {component.code} is priced per step; name the step"
                raise IncompleteTariffSheet(msg, field=f"prices[{index}].step")
            model.step(item.step)
        elif item.step is not None:
            msg = f"{model.code} {component.code} is the same for all steps; give no step"
            raise UnknownStep(msg, field=f"prices[{index}].step")
        if item.daily <= 0:
            msg = f"{model.code} {component.code} {item.step or ''} must be positive"
            raise NonPositivePrice(msg, field=f"prices[{index}].daily")
        if item.key in seen:
            msg = f"{model.code} {component.code} {item.step or ''} is priced twice"
            raise InvalidValue(msg, field=f"prices[{index}]")
        seen[item.key] = item
    for model in models.values():
        _check_complete(model, seen)
    return tuple(models)


def _check_complete(
    model: TariffModel, seen: dict[tuple[str, str, str | None], SheetPrice]
) -> None:
    """Refuse a sheet that misses a component or step of ``model``."""
    for component in model.components:
        keys = (
            [(model.code, component.code, s) for s in model.step_codes]
            if component.per_step
            else [(model.code, component.code, None)]
        )
        missing = [k for k in keys if k not in seen]
        if missing:
            steps = ", ".join(str(k[2]) for k in missing)
            msg = f"{model.code} misses {component.code} prices" + (
                f" for steps {steps}" if component.per_step else ""
            )
            raise IncompleteTariffSheet(msg, field="prices")


class TariffSheet(Aggregate):
    """An offer's published prices for one year."""

    class Event(Aggregate.Event):
        """Base of sheet events: stamped with the injected recording clock."""

        create_timestamp = staticmethod(recording_time)

    class Snapshot(LibrarySnapshot):
        """A snapshot of a sheet; restores tuples that JSON returns as lists."""

        def mutate(self, _: None) -> TariffSheet:
            """Rebuild the sheet from the snapshot."""
            aggregate = super().mutate(_)
            restore_tuples(aggregate)
            assert isinstance(aggregate, TariffSheet)  # noqa: S101 - the topic names a sheet
            return aggregate

    class Published(Event, Aggregate.Created):
        """A year's prices were published for an offer."""

        offer: str
        year: int
        valid_from: dt.date
        prices: tuple[SheetPrice, ...]
        source: str
        actor: Actor

    class Corrected(Event):
        """The year's prices were replaced, with a reason."""

        prices: tuple[SheetPrice, ...]
        reason: str
        actor: Actor

    @staticmethod
    def create_id(offer: str, year: int, **_: object) -> uuid.UUID:
        """One sheet per offer and year: the id is derived from both."""
        return sheet_id(offer, year)

    @classmethod
    def publish(
        cls,
        *,
        offer: str,
        year: int,
        prices: list[SheetPrice] | tuple[SheetPrice, ...],
        source: str,
        actor: Actor,
        valid_from: dt.date | None = None,
    ) -> TariffSheet:
        """Publish a complete sheet; valid from 1 January of ``year`` unless given (G3)."""
        items = tuple(prices)
        validate_prices(items)
        start = valid_from or dt.date(year, 1, 1)
        if start.year != year:
            msg = f"a {year} sheet must take effect in {year}"
            raise InvalidValue(msg, field="valid_from")
        if not source.strip():
            msg = "say where the prices come from (e.g. the takstblad's reference)"
            raise InvalidValue(msg, field="source")
        return cls(
            offer=offer, year=year, valid_from=start, prices=items, source=source, actor=actor
        )

    @event(Published)
    def __init__(
        self,
        *,
        offer: str,
        year: int,
        valid_from: dt.date,
        prices: tuple[SheetPrice, ...],
        source: str,
        actor: Actor,
    ) -> None:
        """Apply Published: the sheet's initial state."""
        self.offer = offer
        self.publisher = actor.organisation
        self.year = year
        self.valid_from = valid_from
        self.source = source
        # Stored JSON gives a list back; keep the tuple the sheet was published with.
        self.prices: tuple[SheetPrice, ...] = tuple(prices)
        self.corrections = 0

    def correct(
        self, *, prices: list[SheetPrice] | tuple[SheetPrice, ...], reason: str, actor: Actor
    ) -> None:
        """Replace the year's prices; the old ones stay in the history."""
        items = tuple(prices)
        validate_prices(items)
        if not reason.strip():
            msg = "a correction needs a reason"
            raise InvalidValue(msg, field="reason")
        if set(items) == set(self.prices):
            msg = "the corrected prices equal the published ones"
            raise InvalidValue(msg, field="prices")
        self._corrected(prices=items, reason=reason, actor=actor)

    @event(Corrected)
    def _corrected(self, *, prices: tuple[SheetPrice, ...], reason: str, actor: Actor) -> None:
        self.prices = tuple(prices)
        self.corrections += 1

    @property
    def models(self) -> tuple[str, ...]:
        """The tariff models this sheet prices."""
        return tuple(dict.fromkeys(p.model for p in self.prices))

    def lookup(self, model: str, component: str, step: str | None) -> Decimal | None:
        """The daily price of a component (and step), or None if the sheet lacks it."""
        for item in self.prices:
            if item.key == (model, component, step):
                return item.daily
        return None


def sheet_id(offer: str, year: int) -> uuid.UUID:
    """The id of an offer's sheet for a year."""
    return uuid.uuid5(SHEET_NAMESPACE, f"{offer}:{year}")
