"""Helpers for the billing scenarios: a clock at business dates, contracts, invoices.

Everything goes through the application's use cases and the billing view,
the way billing runs in production: move the clock to the business day, run
the command, catch the billing view up, cut the month's invoice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

from ledger.clock import local_instant
from ledger.invoice import AdjustmentLine, Invoice, InvoiceLine
from ledger.tariff_sheet import SheetPrice
from ledger.values import (
    Actor,
    ComponentPrice,
    Municipality,
    Party,
    Pricing,
    ServiceLineSpec,
    Terms,
    Unit,
)
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    OPERATOR,
    PROVIDER,
    PROVIDER_ADMIN,
    TERMS,
    sheet_prices,
)
from tests.projections.conftest import World

CPRS = ("0101901009", "0202851234", "0303751234", "0404651234", "0505551234", "0606451234")


def agreed(
    start: dt.date,
    basis: str = "400.00",
    service: str = "600.00",
    *,
    end: dt.date | None = None,
    respite_per_year: int | None = None,
) -> ServiceLineSpec:
    """A særforanstaltning (Gentofte botilbud model) with agreed daily prices.

    With ``respite_per_year`` it is a respite line granting that many døgn a year.
    """
    return ServiceLineSpec(
        "SEL §108",
        "gentofte-botilbud",
        "10",
        Decimal(respite_per_year or 28),
        Unit.DAYS_PER_YEAR if respite_per_year else Unit.PLACE,
        start,
        end=end,
        pricing=Pricing.AGREED,
        agreed_prices=(
            ComponentPrice("basis", Decimal(basis)),
            ComponentPrice("service", Decimal(service)),
        ),
        respite=respite_per_year is not None,
    )


def sheet_line(start: dt.date, step: str = "2:2") -> ServiceLineSpec:
    """A Støttepakken §104 line priced from the offer's tariff sheet."""
    return ServiceLineSpec(
        "SEL §104", "slotsvaenget-104", step, Decimal(23), Unit.HOURS_PER_WEEK, start
    )


def prices_104(service: dict[str, str], base: int = 100) -> list[SheetPrice]:
    """A complete example sheet (see ``sheet_prices``) with some §104 service prices replaced."""
    return [
        dataclasses.replace(item, daily=Decimal(service[item.step]))
        if item.model == "slotsvaenget-104" and item.step in service
        else item
        for item in sheet_prices(base=Decimal(base))
    ]


@dataclasses.dataclass
class Billing:
    """A world seen from billing: business days, contracts and the invoices cut."""

    world: World
    _citizens: int = 0

    def on(self, day: dt.date) -> None:
        """Move the clock to noon in Copenhagen on ``day``."""
        self.world.clock.set(local_instant(day))

    def publish(self, year: int, prices: list[SheetPrice], on: dt.date) -> None:
        """The provider publishes the offer's tariff sheet for ``year`` on ``on``."""
        self.on(on)
        self.world.ledger.publish_tariff_sheet(
            offer=PROVIDER.offer,
            year=year,
            prices=prices,
            source=f"Takstblad {year}",
            actor=PROVIDER_ADMIN,
        )

    def contract(
        self,
        *lines: ServiceLineSpec,
        drafted_on: dt.date,
        signed_on: dt.date | None = None,
        contract_terms: Terms = TERMS,
        buyer: Municipality = BUYER,
        signed_by: tuple[Party, ...] = (Party.BUYER, Party.PROVIDER),
    ) -> uuid.UUID:
        """Draft, offer and finalise on ``drafted_on``; sign on ``signed_on`` (default: then)."""
        ledger = self.world.ledger
        citizen = self.world.runtime.citizens.register(
            CPRS[self._citizens], f"Borger {self._citizens + 1}"
        )
        self._citizens += 1
        drafter: Actor = BUYER_ADMIN if buyer == BUYER else OPERATOR
        self.on(drafted_on)
        contract_id = ledger.draft_contract(
            buyer=buyer,
            provider=PROVIDER,
            citizen_id=citizen,
            lines=list(lines),
            terms=contract_terms,
            actor=drafter,
        )
        ledger.offer_place(contract_id, drafted_on, actor=PROVIDER_ADMIN)
        ledger.finalise_placement(contract_id, drafted_on, actor=OPERATOR)
        day = signed_on or drafted_on
        self.on(day)
        for party in signed_by:
            self.sign(contract_id, party, day, buyer=buyer)
        return contract_id

    def sign(
        self, contract_id: uuid.UUID, party: Party, day: dt.date, *, buyer: Municipality = BUYER
    ) -> None:
        """``party`` signs on ``day``."""
        self.on(day)
        if party is Party.PROVIDER:
            actor = PROVIDER_ADMIN
        else:
            actor = BUYER_ADMIN if buyer == BUYER else OPERATOR
        self.world.ledger.sign(contract_id, party, day, actor=actor)

    def invoice(
        self, month: dt.date, *, on: dt.date, buyer: Municipality = BUYER
    ) -> Invoice | None:
        """Cut every buyer's invoice for ``month`` on ``on``; ``buyer``'s, or None if none."""
        self.on(on)
        self.world.views.catch_up(["billing"])
        issued = self.world.ledger.issue_invoices(month, self.world.views.billing, actor=OPERATOR)
        return next((i for i in issued if i.buyer.ean == buyer.ean), None)

    def issue(self, month: dt.date, *, on: dt.date, buyer: Municipality = BUYER) -> Invoice:
        """Cut the buyer's invoice for ``month`` on ``on``; there must be one."""
        invoice = self.invoice(month, on=on, buyer=buyer)
        assert invoice is not None, f"no invoice for {buyer.ean} {month:%Y-%m}"
        return invoice

    def pending(self, month: dt.date, buyer: Municipality = BUYER) -> list[AdjustmentLine]:
        """The corrections the buyer's invoice for ``month`` would carry, as now known."""
        self.world.views.catch_up(["billing"])
        return self.world.views.billing.adjustments(buyer.ean, month)

    def head(self) -> int:
        """The notification id of the last recorded event."""
        return int(self.world.ledger.recorder.max_notification_id() or 0)


def line_of(invoice: Invoice, contract_id: uuid.UUID, line_id: str = "1") -> InvoiceLine:
    """The invoice line of a contract line; there must be exactly one."""
    found = [i for i in invoice.lines if (i.contract_id, i.line_id) == (contract_id, line_id)]
    assert len(found) == 1, f"{len(found)} lines for {contract_id}/{line_id}"
    return found[0]


def has_line(invoice: Invoice, contract_id: uuid.UUID, line_id: str = "1") -> bool:
    """Whether the invoice bills the contract line for its month."""
    return any((i.contract_id, i.line_id) == (contract_id, line_id) for i in invoice.lines)


def adjustment_of(
    items: Invoice | list[AdjustmentLine],
    contract_id: uuid.UUID,
    month: dt.date,
    line_id: str = "1",
) -> AdjustmentLine:
    """The adjustment of a contract line's ``month``; there must be exactly one."""
    adjustments = items.adjustments if isinstance(items, Invoice) else items
    found = [
        a
        for a in adjustments
        if (a.contract_id, a.line_id, a.month) == (contract_id, line_id, month)
    ]
    assert len(found) == 1, f"{len(found)} adjustments for {contract_id}/{line_id} {month}"
    return found[0]


def segments(line: InvoiceLine) -> list[tuple[dt.date, dt.date, Decimal, Decimal]]:
    """The line's segments as (start, end, days, daily)."""
    return [(s.start, s.end, s.days, s.daily) for s in line.segments]
