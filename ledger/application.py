"""The use cases: what administrators, auditors and billing can ask of the ledger.

``Ledger`` is the one event-sourced application. It holds the ``Contract`` and
``TariffSheet`` aggregates, so both share one notification log, which the
read models follow. Its name is pinned: it names the tables and tracking rows.

Each command use case loads the aggregate, authorises the caller for the party
the clause gives the action to, optionally checks the version the caller read
(optimistic concurrency across a user's think time), runs the aggregate's
command under the injected clock, and saves. A concurrent writer that got in
first makes the save fail with :class:`~ledger.errors.ConcurrencyConflict`,
never a lost update. Who did it travels in every event's ``actor``.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification

from ledger import errors
from ledger.billing import BillingSource
from ledger.citizens import CitizenRegister
from ledger.clock import Clock, SystemClock, recording_with, today
from ledger.contract import STATE_TYPES, Contract
from ledger.invoice import INVOICE_VALUE_TYPES, Invoice, invoice_id
from ledger.pricing import PricePeriod, SheetSource, daily_price, price_timeline
from ledger.repository import EventsFirstRepository
from ledger.schedule import DaySchedule, ScheduleSegment
from ledger.tariff_sheet import SheetPrice, TariffSheet, sheet_id
from ledger.transcoding import register_all
from ledger.values import (
    AbsenceKind,
    Actor,
    ComponentPrice,
    DataRole,
    IndexSource,
    Municipality,
    NoticePeriod,
    Operator,
    Party,
    PaymentOption,
    Pricing,
    Provider,
    RequestNature,
    RescissionGround,
    RespiteBasis,
    Role,
    ServiceLineSpec,
    Terms,
    Unit,
    add_months,
)

T = TypeVar("T")

VALUE_TYPES: list[type[Any]] = [
    Actor,
    Role,
    Party,
    Operator,
    Municipality,
    Provider,
    Unit,
    Pricing,
    ComponentPrice,
    ServiceLineSpec,
    PaymentOption,
    RespiteBasis,
    DataRole,
    NoticePeriod,
    Terms,
    RequestNature,
    AbsenceKind,
    RescissionGround,
    IndexSource,
    ScheduleSegment,
    DaySchedule,
    SheetPrice,
    *STATE_TYPES,
    *INVOICE_VALUE_TYPES,
]

CONTRACT_DRAFTED_TOPIC = "ledger.contract:Contract.Drafted"
SHEET_PUBLISHED_TOPIC = "ledger.tariff_sheet:TariffSheet.Published"


class Ledger(Application[uuid.UUID]):
    """Contracts and tariff sheets, as events."""

    name = "Ledger"
    # Contracts have tens of events; a snapshot every 50 keeps long-lived
    # ones fast to load without snapshotting the many short ones.
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Contract: 50, TariffSheet: 50}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        citizens: CitizenRegister | None = None,
    ) -> None:
        """Build the application; persistence comes from ``env`` and the environment."""
        super().__init__(env)
        self.clock: Clock = clock or SystemClock()
        self.citizens = citizens
        size = int(self.env.get(SHARED_CACHE_SIZE) or 0)
        self._shared = _SharedAggregates(self, size) if size > 0 else None

    def construct_repository(self) -> Repository[uuid.UUID]:
        """The library's repository, made to skip snapshot lookups for short aggregates."""
        library = super().construct_repository()
        if library.snapshot_store is None or not self.snapshotting_intervals:
            return library
        repository = EventsFirstRepository(
            event_store=library.event_store,
            snapshot_store=library.snapshot_store,
            fastforward=library.fastforward,
            fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=library.deepcopy_from_cache,
            interval=min(self.snapshotting_intervals.values()),
        )
        repository.cache = library.cache  # as the environment configured it
        return repository

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Register dates and every value the events and snapshots carry."""
        super().register_transcodings(transcoder)
        register_all(transcoder, VALUE_TYPES)

    # --- tariff sheets --------------------------------------------------------

    def publish_tariff_sheet(
        self,
        *,
        offer: str,
        year: int,
        prices: Sequence[SheetPrice],
        source: str,
        actor: Actor,
        valid_from: dt.date | None = None,
    ) -> uuid.UUID:
        """Publish an offer's prices for a year; one sheet per offer and year.

        A provider administrator publishes only for an offer no other provider
        holds: none of the offer's sheets was published by another provider,
        and no contract names another provider for it. Otherwise any provider
        could set the prices of another provider's contracts for a year not
        published yet. The operator publishes for any offer.
        """
        _require_role(actor, Role.PROVIDER_ADMIN, Role.OPERATOR)
        if self._exists(sheet_id(offer, year)):
            msg = f"offer {offer} already has a {year} sheet; correct it instead"
            raise errors.TariffSheetAlreadyPublished(msg, field="year")
        if actor.role is Role.PROVIDER_ADMIN:
            holder = self._other_provider_of(offer, actor.organisation)
            if holder is not None:
                msg = (
                    f"offer {offer} is provided by {holder}, not {actor.organisation}; "
                    "only its provider or the system administrator publishes its sheets"
                )
                raise errors.NotPermitted(msg, field="offer")
        with recording_with(self.clock):
            sheet = TariffSheet.publish(
                offer=offer,
                year=year,
                prices=tuple(prices),
                source=source,
                actor=actor,
                valid_from=valid_from,
            )
        self._save(sheet)
        return sheet.id

    def correct_tariff_sheet(
        self,
        *,
        offer: str,
        year: int,
        prices: Sequence[SheetPrice],
        reason: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Replace a sheet's prices with a reason; the old prices stay in the history."""
        _require_role(actor, Role.PROVIDER_ADMIN, Role.OPERATOR)
        sheet = self.get_tariff_sheet(offer, year)
        if actor.role is Role.PROVIDER_ADMIN and actor.organisation != sheet.publisher:
            msg = f"only the publisher ({sheet.publisher}) corrects the {year} sheet of {offer}"
            raise errors.NotPermitted(msg)
        _check_version(sheet.version, expected_version)
        with recording_with(self.clock):
            sheet.correct(prices=tuple(prices), reason=reason, actor=actor)
        self._save(sheet)

    def get_tariff_sheet(
        self, offer: str, year: int, *, known_at: dt.datetime | None = None
    ) -> TariffSheet:
        """An offer's sheet for a year (as known at ``known_at``)."""
        sheet = self._load(sheet_id(offer, year), known_at)
        if not isinstance(sheet, TariffSheet):
            msg = f"offer {offer} has no tariff sheet for {year}"
            raise errors.TariffSheetNotFound(msg, field="year")
        return sheet

    def sheets(self, *, known_at: dt.datetime | None = None) -> SheetSource:
        """A sheet source for pricing, as known at ``known_at`` (default: now)."""
        return _RepositorySheets(self, known_at)

    # --- contracts: creation and placement --------------------------------------

    def draft_contract(
        self,
        *,
        buyer: Municipality,
        provider: Provider,
        citizen_id: uuid.UUID,
        lines: Sequence[ServiceLineSpec],
        terms: Terms,
        actor: Actor,
        payer: Municipality | None = None,
    ) -> uuid.UUID:
        """Draft a contract (pkt. 1-5, 9, 15, 17); the buyer or an operator drafts."""
        _require_role(actor, Role.BUYER_ADMIN, Role.OPERATOR)
        if actor.role is Role.BUYER_ADMIN and actor.organisation != buyer.cvr:
            msg = "a buyer administrator drafts contracts for their own municipality only"
            raise errors.NotPermitted(msg, field="buyer.cvr")
        if self.citizens is not None and self.citizens.find(citizen_id) is None:
            msg = f"citizen {citizen_id} is not in the citizen register"
            raise errors.CitizenNotFound(msg, field="citizen_id")
        with recording_with(self.clock):
            contract = Contract.draft(
                buyer=buyer,
                provider=provider,
                citizen_id=citizen_id,
                lines=tuple(lines),
                terms=terms,
                actor=actor,
                payer=payer,
            )
        self._save(contract)
        return contract.id

    def add_service_line(
        self,
        contract_id: uuid.UUID,
        spec: ServiceLineSpec,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> str:
        """Add a service line (pkt. 5)."""
        return self._execute(
            contract_id,
            actor,
            Party.BUYER,
            expected_version,
            lambda c: c.add_service_line(spec, actor=actor),
        )

    def revise_provisional_step(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        step: str,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Revise a provisional step before the placement is final (4.1)."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.revise_provisional_step(line_id, step, actor=actor),
        )

    def offer_place(
        self,
        contract_id: uuid.UUID,
        offered_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """The provider offers the citizen the place (4.1)."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.offer_place(offered_on, actor=actor),
        )

    def finalise_placement(
        self,
        contract_id: uuid.UUID,
        final_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Make the placement final (4.1)."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.finalise_placement(final_on, actor=actor),
        )

    def sign(
        self,
        contract_id: uuid.UUID,
        party: Party,
        signed_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """A party signs (pkt. 18)."""
        self._execute(
            contract_id,
            actor,
            party,
            expected_version,
            lambda c: c.sign(party, signed_on, actor=actor),
        )

    # --- price changes -------------------------------------------------------

    def change_step(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        step: str,
        *,
        effective_from: dt.date,
        agreed_on: dt.date,
        agreement_ref: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record a step change agreed in writing."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.change_step(
                line_id,
                step,
                effective_from=effective_from,
                agreed_on=agreed_on,
                agreement_ref=agreement_ref,
                actor=actor,
            ),
        )

    def request_renegotiation(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        *,
        requested_by: Party,
        received_on: dt.date,
        nature: RequestNature,
        description: str,
        actor: Actor,
        proposed_step: str | None = None,
        proposed_prices: Sequence[ComponentPrice] = (),
        requested_effective_from: dt.date | None = None,
        schedule: DaySchedule | None = None,
        expected_version: int | None = None,
    ) -> str:
        """Request a renegotiation (pkt. 16); returns the request id."""
        return self._execute(
            contract_id,
            actor,
            requested_by,
            expected_version,
            lambda c: c.request_renegotiation(
                line_id,
                requested_by=requested_by,
                received_on=received_on,
                nature=nature,
                description=description,
                actor=actor,
                proposed_step=proposed_step,
                proposed_prices=tuple(proposed_prices),
                requested_effective_from=requested_effective_from,
                schedule=schedule,
            ),
        )

    def answer_renegotiation(
        self,
        contract_id: uuid.UUID,
        request_id: str,
        *,
        answered_by: Party,
        answered_on: dt.date,
        approved: bool,
        actor: Actor,
        agreement_ref: str | None = None,
        effective_from: dt.date | None = None,
        reason: str = "",
        expected_version: int | None = None,
    ) -> None:
        """Approve or reject a renegotiation request (pkt. 16)."""
        self._execute(
            contract_id,
            actor,
            answered_by,
            expected_version,
            lambda c: c.answer_renegotiation(
                request_id,
                answered_by=answered_by,
                answered_on=answered_on,
                approved=approved,
                actor=actor,
                agreement_ref=agreement_ref,
                effective_from=effective_from,
                reason=reason,
            ),
        )

    def add_allonge(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        *,
        valid_from: dt.date,
        valid_to: dt.date,
        daily_delta: Decimal,
        description: str,
        agreement_ref: str,
        buyer_accepted: bool,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record a Gentofte allonge (G6)."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.add_allonge(
                line_id,
                valid_from=valid_from,
                valid_to=valid_to,
                daily_delta=daily_delta,
                description=description,
                agreement_ref=agreement_ref,
                buyer_accepted=buyer_accepted,
                actor=actor,
            ),
        )

    def regulate_by_tariff_sheet(
        self,
        contract_id: uuid.UUID,
        year: int,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Move the contract's tariff-sheet lines to ``year``'s sheet (pkt. 8)."""

        def command(contract: Contract) -> None:
            self.get_tariff_sheet(contract.provider.offer, year)  # must exist
            contract.regulate_by_tariff_sheet(year, actor=actor)

        self._execute(contract_id, actor, None, expected_version, command)

    def regulate_by_index(
        self,
        contract_id: uuid.UUID,
        year: int,
        *,
        pl_percentage: Decimal,
        overhead_percentage: Decimal,
        source: IndexSource,
        edition: str,
        actor: Actor,
        beyond_index_percentage: Decimal = Decimal(0),
        buyer_acceptance_ref: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Index agreed prices from 1 January (pkt. 8)."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.regulate_by_index(
                year,
                pl_percentage=pl_percentage,
                overhead_percentage=overhead_percentage,
                source=source,
                edition=edition,
                actor=actor,
                beyond_index_percentage=beyond_index_percentage,
                buyer_acceptance_ref=buyer_acceptance_ref,
            ),
        )

    # --- absence, delivery, framework ------------------------------------------

    def start_absence(
        self,
        contract_id: uuid.UUID,
        kind: AbsenceKind,
        started_on: dt.date,
        *,
        actor: Actor,
        notified_on: dt.date | None = None,
        expected_version: int | None = None,
    ) -> str:
        """The provider records a hospitalisation, imprisonment or custody (pkt. 14)."""
        return self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.start_absence(kind, started_on, actor=actor, notified_on=notified_on),
        )

    def notify_absence(
        self,
        contract_id: uuid.UUID,
        absence_id: str,
        notified_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """The provider notifies the buyer of an absence (pkt. 14)."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.notify_absence(absence_id, notified_on, actor=actor),
        )

    def end_absence(
        self,
        contract_id: uuid.UUID,
        absence_id: str,
        ended_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record that an absence ended."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.end_absence(absence_id, ended_on, actor=actor),
        )

    def report_non_delivery(
        self,
        contract_id: uuid.UUID,
        *,
        by: Party,
        reported_on: dt.date,
        cause: str,
        citizen_related: bool,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record non-delivery and its cause (pkt. 10)."""
        self._execute(
            contract_id,
            actor,
            by,
            expected_version,
            lambda c: c.report_non_delivery(
                by=by,
                reported_on=reported_on,
                cause=cause,
                citizen_related=citizen_related,
                actor=actor,
            ),
        )

    def declare_force_majeure(
        self,
        contract_id: uuid.UUID,
        *,
        by: Party,
        declared_on: dt.date,
        description: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record force majeure (pkt. 10)."""
        self._execute(
            contract_id,
            actor,
            by,
            expected_version,
            lambda c: c.declare_force_majeure(
                by=by, declared_on=declared_on, description=description, actor=actor
            ),
        )

    def rescind_without_notice(
        self,
        contract_id: uuid.UUID,
        *,
        by: Party,
        effective_on: dt.date,
        ground: RescissionGround,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """End the contract without notice where pkt. 10 allows it."""
        self._execute(
            contract_id,
            actor,
            by,
            expected_version,
            lambda c: c.rescind_without_notice(
                by=by, effective_on=effective_on, ground=ground, actor=actor
            ),
        )

    def notify_framework_change(
        self,
        contract_id: uuid.UUID,
        *,
        received_on: dt.date,
        framework_version: str,
        adoption_year: int,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """The provider notifies a revised rammeaftale (pkt. 4)."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.notify_framework_change(
                received_on=received_on,
                framework_version=framework_version,
                adoption_year=adoption_year,
                actor=actor,
            ),
        )

    # --- termination and follow-up ---------------------------------------------

    def give_notice(
        self,
        contract_id: uuid.UUID,
        *,
        given_by: Party,
        given_on: dt.date,
        actor: Actor,
        expected_version: int | None = None,
    ) -> dt.date:
        """A party gives notice (pkt. 9); returns the last day of notice."""
        return self._execute(
            contract_id,
            actor,
            given_by,
            expected_version,
            lambda c: c.give_notice(given_by=given_by, given_on=given_on, actor=actor),
        )

    def record_reoccupation(
        self,
        contract_id: uuid.UUID,
        reoccupied_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """The provider reports the terminated place filled (pkt. 9, G14)."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.record_reoccupation(reoccupied_on, actor=actor),
        )

    def agree_payment_end(
        self,
        contract_id: uuid.UUID,
        payment_end: dt.date,
        *,
        agreement_ref: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record the payment end agreed under option 4 (pkt. 9)."""
        self._execute(
            contract_id,
            actor,
            None,
            expected_version,
            lambda c: c.agree_payment_end(payment_end, agreement_ref=agreement_ref, actor=actor),
        )

    def hold_follow_up(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        held_on: dt.date,
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record a follow-up (4.5); the buyer calls follow-up meetings."""
        self._execute(
            contract_id,
            actor,
            Party.BUYER,
            expected_version,
            lambda c: c.hold_follow_up(line_id, held_on, actor=actor),
        )

    def record_respite_used(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        month: dt.date,
        days: Sequence[dt.date],
        *,
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        """Record the respite døgn used in a month (pkt. 5); the provider reports them."""
        self._execute(
            contract_id,
            actor,
            Party.PROVIDER,
            expected_version,
            lambda c: c.record_respite_used(line_id, month, tuple(days), actor=actor),
        )

    # --- queries ---------------------------------------------------------------

    def get_contract(
        self,
        contract_id: uuid.UUID,
        *,
        known_at: dt.datetime | None = None,
        shared: bool = False,
        latest: bool = True,
    ) -> Contract:
        """The contract now, or as it was known at ``known_at``.

        ``shared=True`` may return the instance the ledger keeps in memory
        (setting ``LEDGER_SHARED_CACHE_SIZE``): cheaper, and only for reading. Never
        call a command method on it. With ``latest=False`` as well, a kept
        instance is returned without asking the store for newer events: for
        what never changes (the parties), or right after this process saved it.
        """
        contract = self._load(contract_id, known_at, shared=shared, latest=latest)
        if not isinstance(contract, Contract):
            msg = f"no contract {contract_id}"
            raise errors.ContractNotFound(msg, field="contract_id")
        return contract

    def contract_ids(self) -> Iterator[uuid.UUID]:
        """Every contract's id, in the order they were drafted."""
        for notification in self._notifications(CONTRACT_DRAFTED_TOPIC):
            yield uuid.UUID(str(notification.originator_id))

    def price_timeline(
        self,
        contract_id: uuid.UUID,
        line_id: str,
        *,
        end: dt.date,
        start: dt.date | None = None,
        known_at: dt.datetime | None = None,
    ) -> list[PricePeriod]:
        """A line's price periods up to ``end``, as known at ``known_at``."""
        contract = self.get_contract(contract_id, known_at=known_at)
        if line_id not in contract.lines:
            msg = f"the contract has no service line {line_id}"
            raise errors.UnknownServiceLine(msg, field="line_id")
        return price_timeline(
            contract, line_id, self.sheets(known_at=known_at), start=start, end=end
        )

    def prices_on(
        self, contract_id: uuid.UUID, day: dt.date, *, known_at: dt.datetime | None = None
    ) -> dict[str, PricePeriod | None]:
        """Each line's daily price on ``day`` as known at ``known_at``."""
        contract = self.get_contract(contract_id, known_at=known_at)
        return self.contract_prices(contract, day, known_at=known_at)

    def contract_prices(
        self, contract: Contract, day: dt.date, *, known_at: dt.datetime | None = None
    ) -> dict[str, PricePeriod | None]:
        """Each line's daily price on ``day`` of a contract already loaded (as of ``known_at``)."""
        sheets = self.sheets(known_at=known_at)
        return {line_id: daily_price(contract, line_id, day, sheets) for line_id in contract.lines}

    # --- invoices ------------------------------------------------------------------

    def issue_invoices(
        self,
        month: dt.date,
        billing: BillingSource,
        *,
        actor: Actor,
        buyer_ean: str | None = None,
    ) -> list[Invoice]:
        """Issue the month's invoice for every buyer (or one), from ``billing``.

        Each invoice carries the month's lines and an adjustment line for every
        earlier month whose amount as now known differs from what was billed
        (architecture section 7). Issuing a (buyer, month) again returns the
        invoice already issued and records nothing. ``billing`` must include
        every event recorded so far, the buyers' earlier invoices above all.
        Months are invoiced in order per buyer, at most one month ahead (G12).
        """
        if actor.role is not Role.OPERATOR:
            msg = "invoices are issued by billing (the operator role)"
            raise errors.NotPermitted(msg)
        month = month.replace(day=1)
        today_ = self.today()
        latest = add_months(today_.replace(day=1), 1)
        if month > latest:
            msg = f"{month:%Y-%m} is more than one month ahead of {today_}"
            raise errors.InvoiceTooEarly(msg, field="month")
        buyers = billing.buyers()
        if buyer_ean is not None:
            buyers = [b for b in buyers if b.ean == buyer_ean]
            if not buyers:
                msg = f"no contract is billed to EAN {buyer_ean}"
                raise errors.BuyerNotFound(msg, field="buyer_ean")
        issued, to_issue = self._issued_already(month, buyers, billing.invoiced(buyer_ean))
        known_at = billing.position()
        lines = billing.invoice_lines(month, buyer_ean)
        adjustments = billing.pending_adjustments(month, buyer_ean)
        new: list[Invoice] = []
        for buyer in to_issue:
            if not lines.get(buyer.ean) and not adjustments.get(buyer.ean):
                continue
            with recording_with(self.clock):
                new.append(
                    Invoice.issue(
                        buyer=buyer,
                        month=month,
                        issued_on=today_,
                        lines=lines.get(buyer.ean, []),
                        adjustments=adjustments.get(buyer.ean, []),
                        known_at=known_at,
                        actor=actor,
                    )
                )
        for group in _save_groups(new, INVOICE_LINES_PER_SAVE):
            self._save(*group)
            issued.extend(group)
        return sorted(issued, key=lambda i: i.buyer.ean)

    def _issued_already(
        self, month: dt.date, buyers: list[Municipality], invoiced: dict[str, list[dt.date]]
    ) -> tuple[list[Invoice], list[Municipality]]:
        """The buyers' invoices of ``month`` already issued, and the buyers still to invoice."""
        issued: list[Invoice] = []
        to_issue: list[Municipality] = []
        for buyer in buyers:
            existing = self._load(invoice_id(buyer.ean, month), None)
            if isinstance(existing, Invoice):
                issued.append(existing)
                continue
            later = [m for m in invoiced.get(buyer.ean, []) if m > month]
            if later:
                msg = f"EAN {buyer.ean} is already invoiced for {later[-1]:%Y-%m}"
                raise errors.InvoicesOutOfOrder(msg, field="month")
            to_issue.append(buyer)
        return issued, to_issue

    def get_invoice(self, buyer_ean: str, month: dt.date) -> Invoice:
        """The invoice of a buyer and month."""
        invoice = self._load(invoice_id(buyer_ean, month), None)
        if not isinstance(invoice, Invoice):
            msg = f"no invoice for EAN {buyer_ean} and {month:%Y-%m}"
            raise errors.InvoiceNotFound(msg, field="month")
        return invoice

    def today(self) -> dt.date:
        """The business date in Copenhagen according to the injected clock."""
        return today(self.clock)

    # --- internals ---------------------------------------------------------------

    def _execute(
        self,
        contract_id: uuid.UUID,
        actor: Actor,
        party: Party | None,
        expected_version: int | None,
        command: Callable[[Contract], T],
    ) -> T:
        contract = self.get_contract(contract_id)
        _authorise(contract, actor, party)
        _check_version(contract.version, expected_version)
        with recording_with(self.clock):
            result = command(contract)
        self._save(contract)
        return result

    def _save(self, *aggregates: Contract | TariffSheet | Invoice) -> None:
        try:
            recordings = self.save(*aggregates)
        except IntegrityError as error:
            msg = "the record changed while this command ran; read it again and retry"
            raise errors.ConcurrencyConflict(msg) from error
        written = _WRITTEN.get()
        if written is not None and recordings:
            written.position = max(written.position, *(r.notification.id for r in recordings))
        if self._shared is not None:  # saved, so each is the stored state: share it
            for aggregate in aggregates:
                if isinstance(aggregate, Contract | TariffSheet):
                    self._shared.remember(aggregate)

    def _exists(self, aggregate_id: uuid.UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _load(
        self,
        aggregate_id: uuid.UUID,
        known_at: dt.datetime | None,
        *,
        shared: bool = False,
        latest: bool = True,
    ) -> object | None:
        try:
            if known_at is None:
                if self._shared is not None:
                    return self._shared.get(aggregate_id, private=not shared, latest=latest)
                return self.repository.get(aggregate_id)
            version = self._version_known_at(aggregate_id, known_at)
            if version is None:
                return None
            return self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None

    def _version_known_at(self, aggregate_id: uuid.UUID, known_at: dt.datetime) -> int | None:
        """The last version recorded at or before ``known_at`` (architecture 3)."""
        if known_at.tzinfo is None:
            msg = "known_at needs a timezone"
            raise errors.InvalidValue(msg, field="known_at")
        version = None
        for domain_event in self.events.get(aggregate_id):
            if not isinstance(domain_event, Aggregate.Event):  # pragma: no cover - ours all are
                continue
            if domain_event.timestamp > known_at:
                break
            version = domain_event.originator_version
        return version

    # --- sheets listed, sheet history, the annual regulation of an offer -----------
    # (issue 4: the API's tariff-sheet and regulation resources)

    def tariff_sheets(
        self, *, offer: str | None = None, year: int | None = None
    ) -> list[TariffSheet]:
        """The published sheets as they are now, by offer and year; optionally filtered.

        Read from the publication events in the log (no read model holds sheets);
        there are a few per offer and year, so this stays small.
        """
        found: list[TariffSheet] = []
        for published in self._created_events(SHEET_PUBLISHED_TOPIC):
            if not isinstance(published, TariffSheet.Published):  # pragma: no cover - by topic
                continue
            if offer is not None and published.offer != offer:
                continue
            if year is not None and published.year != year:
                continue
            found.append(self.get_tariff_sheet(published.offer, published.year))
        return sorted(found, key=lambda sheet: (sheet.offer, sheet.year))

    def tariff_sheet_history(
        self, offer: str, year: int, *, known_at: dt.datetime | None = None
    ) -> list[TariffSheet.Event]:
        """The sheet's publication and corrections, in order, as recorded by ``known_at``.

        Each event says who recorded it (``actor``), when (``timestamp``) and,
        for a correction, why (``reason``).
        """
        sheet = self.get_tariff_sheet(offer, year, known_at=known_at)
        return [
            item
            for item in self.events.get(sheet.id, lte=sheet.version)
            if isinstance(item, TariffSheet.Event)
        ]

    def _other_provider_of(self, offer: str, organisation: str) -> str | None:
        """Another provider holding ``offer``; None when only ``organisation`` or nobody does.

        A provider holds an offer when it published one of its sheets or is
        the provider of a contract for it. Read from the creation events in
        the log: publishing a sheet is rare, and a contract's provider is
        fixed when it is drafted. Sheets the operator published are nobody's
        claim.
        """
        for published in self._created_events(SHEET_PUBLISHED_TOPIC):
            if (
                isinstance(published, TariffSheet.Published)
                and published.offer == offer
                and published.actor.role is Role.PROVIDER_ADMIN
                and published.actor.organisation != organisation
            ):
                return published.actor.organisation
        for drafted in self._created_events(CONTRACT_DRAFTED_TOPIC):
            if (
                isinstance(drafted, Contract.Drafted)
                and drafted.provider.offer == offer
                and drafted.provider.registration != organisation
            ):
                return drafted.provider.registration
        return None

    def offer_contract_ids(self, offer: str) -> list[uuid.UUID]:
        """The ids of every contract drafted with ``offer``, in the order they were drafted.

        A contract's provider (and so its offer) is fixed when it is drafted,
        so the drafting events alone answer this, without loading contracts.
        """
        return [
            drafted.originator_id
            for drafted in self._created_events(CONTRACT_DRAFTED_TOPIC)
            if isinstance(drafted, Contract.Drafted) and drafted.provider.offer == offer
        ]

    def regulate_offer_by_tariff_sheet(
        self, offer: str, year: int, *, actor: Actor
    ) -> list[RegulationOutcome]:
        """Move every affected contract of ``offer`` onto ``year``'s sheet (pkt. 8, G3).

        The operator's one act for the whole offer; each contract gets its own
        ``RegulatedByTariffSheet`` event. Safe to run again: a contract already
        regulated for ``year`` is reported as such and records nothing. The
        sheet must be published first (``TariffSheetNotFound``, nothing recorded).
        """
        _require_role(actor, Role.OPERATOR)
        self.get_tariff_sheet(offer, year)
        return self._regulate_offer(
            offer,
            year,
            "tariff-sheet",
            actor,
            lambda contract: contract.regulate_by_tariff_sheet(year, actor=actor),
        )

    def regulate_offer_by_index(
        self,
        offer: str,
        year: int,
        *,
        pl_percentage: Decimal,
        overhead_percentage: Decimal,
        source: IndexSource,
        edition: str,
        actor: Actor,
    ) -> list[RegulationOutcome]:
        """Index the agreed prices of every særforanstaltning of ``offer`` from 1 January (pkt. 8).

        Each contract with agreed prices gets its own ``RegulatedByIndex``
        event; contracts priced by the tariff sheet are not affected. Safe to
        run again, as :meth:`regulate_offer_by_tariff_sheet`.
        """
        _require_role(actor, Role.OPERATOR)
        return self._regulate_offer(
            offer,
            year,
            "index",
            actor,
            lambda contract: contract.regulate_by_index(
                year,
                pl_percentage=pl_percentage,
                overhead_percentage=overhead_percentage,
                source=source,
                edition=edition,
                actor=actor,
            ),
        )

    def _regulate_offer(
        self,
        offer: str,
        year: int,
        basis: str,
        actor: Actor,
        regulate: Callable[[Contract], None],
    ) -> list[RegulationOutcome]:
        """Regulate each contract of ``offer`` on its own; one's failure stops no other."""
        return [
            self._regulate_contract(contract_id, year, basis, actor, regulate)
            for contract_id in self.offer_contract_ids(offer)
        ]

    def _regulate_contract(
        self,
        contract_id: uuid.UUID,
        year: int,
        basis: str,
        actor: Actor,
        regulate: Callable[[Contract], None],
    ) -> RegulationOutcome:
        """Regulate one contract and say what happened; a concurrent change is retried."""
        conflict = ""
        for _ in range(REGULATION_ATTEMPTS):
            contract = self.get_contract(contract_id)
            skipped = _regulation_skipped(contract, year, basis)
            if skipped is not None:
                return skipped
            try:
                _authorise(contract, actor, None)
                with recording_with(self.clock):
                    regulate(contract)
                self._save(contract)
            except errors.ConcurrencyConflict as error:
                conflict = str(error)  # another writer got in first: load and decide again
                continue
            except errors.RegulationNotApplicable as error:
                return RegulationOutcome(
                    contract_id, NOT_AFFECTED, contract.version, error.rule, str(error)
                )
            except errors.LedgerError as error:
                return RegulationOutcome(
                    contract_id, FAILED, contract.version, error.rule, str(error)
                )
            return RegulationOutcome(contract_id, REGULATED, contract.version)
        return RegulationOutcome(
            contract_id, FAILED, contract.version, errors.ConcurrencyConflict.rule, conflict
        )

    def _created_events(self, topic: str) -> Iterator[object]:
        """The decoded creation events of one topic, in log order."""
        for notification in self._notifications(topic):
            yield self.mapper.to_domain_event(notification)

    def _notifications(self, topic: str) -> Iterator[Notification]:
        """The log's notifications of one topic, in order, read in pages of 500."""
        start = 1
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            if not page:
                return
            yield from page
            start = page[-1].id + 1


class _RepositorySheets:
    """Tariff sheets loaded from the ledger, each once, as known at a time."""

    def __init__(self, ledger: Ledger, known_at: dt.datetime | None) -> None:
        self._ledger = ledger
        self._known_at = known_at
        self._loaded: dict[tuple[str, int], TariffSheet | None] = {}

    def sheet(self, offer: str, year: int) -> TariffSheet | None:
        key = (offer, year)
        if key not in self._loaded:
            found = self._ledger._load(  # noqa: SLF001 - the ledger's own helper
                sheet_id(offer, year), self._known_at, shared=True
            )
            self._loaded[key] = found if isinstance(found, TariffSheet) else None
        return self._loaded[key]


@dataclass
class Written:
    """The log position of the last event saved inside :func:`tracking_writes` (0: none)."""

    position: int = 0


_WRITTEN: ContextVar[Written | None] = ContextVar("ledger_written", default=None)


@contextmanager
def tracking_writes() -> Iterator[Written]:
    """Note the notification id of every event the ledger saves in this block.

    A reader that waits for its views to reach this position sees its own
    writes (read-your-writes) without waiting for the rest of the log. A
    context variable, so concurrent requests (threads) each see their own.
    """
    written = Written()
    token = _WRITTEN.set(written)
    try:
        yield written
    finally:
        _WRITTEN.reset(token)


SHARED_CACHE_SIZE = "LEDGER_SHARED_CACHE_SIZE"
"""Environment name: how many contracts and tariff sheets a ledger keeps in memory (0: none)."""


class _SharedAggregates:
    """Contracts and tariff sheets kept in memory between uses, copy-on-write.

    A kept aggregate is never changed: when the store holds newer events, a
    copy is brought up to date and replaces it. Readers may therefore share an
    instance while another thread catches up; commands get a private copy.
    Each use costs one query for newer events, so other processes' writes are
    always seen. Invoices are not kept: they are large and read once.
    """

    def __init__(self, ledger: Ledger, size: int) -> None:
        self._ledger = ledger
        self._size = size
        self._kept: OrderedDict[uuid.UUID, Contract | TariffSheet] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: uuid.UUID, *, private: bool, latest: bool = True) -> object:
        with self._lock:
            kept = self._kept.get(aggregate_id)
        if kept is not None and not latest and not private:
            return kept
        if kept is None:
            loaded: object = self._ledger.repository.get(aggregate_id)
            if not private and isinstance(loaded, Contract | TariffSheet):
                self.remember(loaded)
            # A private load is not kept: a command keeps its contract once it is saved.
            return loaded
        newer = list(self._ledger.events.get(aggregate_id, gt=kept.version))
        if newer:
            caught_up = project_aggregate(copy.deepcopy(kept), newer)
            if not isinstance(caught_up, Contract | TariffSheet):  # pragma: no cover
                msg = f"{aggregate_id} changed type while kept in memory"
                raise TypeError(msg)
            kept = caught_up
            self.remember(kept)
        return copy.deepcopy(kept) if private else kept

    def remember(self, aggregate: Contract | TariffSheet) -> None:
        with self._lock:
            current = self._kept.get(aggregate.id)
            if current is not None and current.version > aggregate.version:
                return  # a newer state is already kept
            self._kept[aggregate.id] = aggregate
            self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def _check_version(actual: int, expected: int | None) -> None:
    if expected is not None and actual != expected:
        msg = f"you read version {expected} but the record is at version {actual}"
        raise errors.ConcurrencyConflict(msg, field="expected_version")


_PARTY_ROLE = {Party.BUYER: Role.BUYER_ADMIN, Party.PROVIDER: Role.PROVIDER_ADMIN}


def _require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        names = ", ".join(r.value for r in roles)
        msg = f"this needs one of the roles {names}; the caller is {actor.role.value}"
        raise errors.NotPermitted(msg)


def _authorise(contract: Contract, actor: Actor, party: Party | None) -> None:
    """Check the caller may act on this contract for ``party`` (architecture 8).

    Operators act for either party. Administrators act only for their own
    organisation's side; ``party=None`` means either side may act.
    """
    if actor.role is Role.OPERATOR:
        return
    if actor.role is Role.AUDITOR:
        msg = "auditors read; they do not change contracts"
        raise errors.NotPermitted(msg)
    side = Party.BUYER if actor.role is Role.BUYER_ADMIN else Party.PROVIDER
    own = contract.buyer.cvr if side is Party.BUYER else contract.provider.registration
    if actor.organisation != own:
        msg = f"organisation {actor.organisation} is not this contract's {side.value}"
        raise errors.NotPermitted(msg)
    if party is not None and _PARTY_ROLE[party] is not actor.role:
        msg = f"the clause gives this action to the {party.value}"
        raise errors.NotPermitted(msg, field="party")


# Invoices are saved in groups of at most this many lines (about 1.5 MB of
# stored events). One save of the 98 invoices of a 10,000-contract month (about
# 6 MB) never returns: psycopg's pipeline mode, which the event library uses to
# insert events, hangs on messages of a few megabytes (ADR 0012).
INVOICE_LINES_PER_SAVE = 1_000


def _save_groups(invoices: Sequence[Invoice], budget: int) -> list[list[Invoice]]:
    """``invoices`` in order, in groups of at most ``budget`` lines (or one larger invoice).

    Each invoice is atomic on its own; a run that stops between groups is
    completed by running it again, which returns the invoices already issued.
    """
    groups: list[list[Invoice]] = []
    size = budget
    for invoice in invoices:
        lines = len(invoice.lines) + len(invoice.adjustments)
        if size + lines > budget:
            groups.append([])
            size = 0
        groups[-1].append(invoice)
        size += lines
    return groups


# --- the annual regulation of an offer (issue 4) ---------------------------------

REGULATED = "regulated"
ALREADY_REGULATED = "already-regulated"
NOT_AFFECTED = "not-affected"
FAILED = "failed"
REGULATION_ATTEMPTS = 3  # loads per contract when concurrent writers keep getting in first


@dataclass(frozen=True)
class RegulationOutcome:
    """What an offer's regulation did to one contract.

    ``outcome`` is :data:`REGULATED` (an event was recorded), :data:`ALREADY_REGULATED`
    (the year's regulation of this basis was recorded before; nothing new),
    :data:`NOT_AFFECTED` (the regulation does not apply, ``reason`` says why) or
    :data:`FAILED` (a rule refused it, ``rule`` and ``reason`` say which).
    ``version`` is the contract's version afterwards.
    """

    contract_id: uuid.UUID
    outcome: str
    version: int
    rule: str | None = None
    reason: str | None = None


def _regulation_skipped(contract: Contract, year: int, basis: str) -> RegulationOutcome | None:
    """The outcome for a contract the regulation leaves alone, or None to regulate it."""
    if any(r.year == year and r.basis == basis for r in contract.regulations):
        reason = f"the {year} regulation ({basis}) is already recorded"
        return RegulationOutcome(
            contract.id,
            ALREADY_REGULATED,
            contract.version,
            errors.RegulationAlreadyApplied.rule,
            reason,
        )
    new_year = dt.date(year, 1, 1)
    end, payment_end = contract.delivery_end, contract.payment_end
    if end is not None and payment_end is not None and max(end, payment_end) < new_year:
        reason = f"the contract ended on {max(end, payment_end)}, before {new_year}"
        return RegulationOutcome(
            contract.id, NOT_AFFECTED, contract.version, errors.ContractEnded.rule, reason
        )
    return None
