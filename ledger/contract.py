"""The contract aggregate: one citizen's placement under the Bilag 1 standard contract.

A contract binds one buyer (handlekommune) and one provider (tilbud) about one
citizen, known here only by a pseudonymous id. It holds the service lines of
pkt. 5 and everything that happens to them, as events.

Each public method is a command: it checks every rule first and raises a
:mod:`ledger.errors` error naming the clause, so a rejected command records
nothing. Only then does it call a private ``@event`` method, whose body merely
changes state; those bodies run again on every replay and must never decide.

Business dates travel explicitly in the payloads (``effective_from``,
``received_on``, ...). The library's timestamp means only "when recorded".
This module knows nothing about prices in kroner: :mod:`ledger.pricing`
derives them from the price facts kept here and the tariff sheets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as LibrarySnapshot

from ledger import errors
from ledger.clock import recording_time
from ledger.identifiers import validate_cvr, validate_ean, validate_registration
from ledger.schedule import DaySchedule
from ledger.tariffs import get_model
from ledger.transcoding import restore_tuples
from ledger.values import (
    AbsenceKind,
    Actor,
    ComponentPrice,
    DataRole,
    IndexSource,
    Municipality,
    Operator,
    Party,
    PaymentOption,
    Pricing,
    Provider,
    RequestNature,
    RescissionGround,
    ServiceLineSpec,
    Terms,
)

ANSWER_DAYS = 30  # pkt. 16: "senest inden for 30 dage" (calendar days, G1)
ABSENCE_NOTICE_DAYS = 7  # pkt. 14: "senest 7 dage efter" (calendar days, G1)
ONE_DAY = dt.timedelta(days=1)
HUNDRED_PERCENT = 100


class ContractStatus:
    """Status names of a contract (strings, so they are stable in read models)."""

    DRAFT = "draft"
    OFFERED = "offered"
    FINAL = "final"
    SIGNED = "signed"
    UNDER_NOTICE = "under-notice"
    ENDED = "ended"


# --- state held by the aggregate (frozen values, replaced on change) ---------


@dataclass(frozen=True)
class PriceFact:
    """What a line's step or agreed prices are from a date, and which event said so.

    Facts are kept in recording order. For a day D the fact in force is the
    last-recorded one whose ``effective_from`` is on or before D: a later
    agreement with an earlier effective date (pkt. 16 retroactivity) wins.
    """

    effective_from: dt.date
    step: str
    agreed_prices: tuple[ComponentPrice, ...]
    cause: str  # event name, e.g. "RenegotiationAnswered"
    cause_version: int  # contract version of that event


@dataclass(frozen=True)
class ServiceLine:
    """A service line (indsats) of pkt. 5 with its price history."""

    line_id: str
    spec: ServiceLineSpec
    facts: tuple[PriceFact, ...]
    follow_ups: tuple[dt.date, ...] = ()
    respite_used: tuple[dt.date, ...] = ()  # døgn of respite used (pkt. 5), sorted

    @property
    def step(self) -> str:
        """The step of the most recently recorded fact."""
        return self.facts[-1].step

    def fact_on(self, day: dt.date) -> PriceFact | None:
        """The fact in force on ``day`` (see :class:`PriceFact`)."""
        for fact in reversed(self.facts):
            if fact.effective_from <= day:
                return fact
        return None

    def step_on(self, day: dt.date) -> str:
        """The step in force on ``day`` (the first step before the line starts)."""
        fact = self.fact_on(day)
        return fact.step if fact is not None else self.facts[0].step

    def prices_on(self, day: dt.date) -> tuple[ComponentPrice, ...]:
        """The agreed component prices in force on ``day`` (særforanstaltninger)."""
        fact = self.fact_on(day)
        return (fact or self.facts[0]).agreed_prices


@dataclass(frozen=True)
class Renegotiation:
    """A pkt. 16 request and, once given, its answer."""

    request_id: str
    line_id: str
    requested_by: Party
    received_on: dt.date  # the day the description was received: the retroactivity anchor
    nature: RequestNature
    proposed_step: str | None
    proposed_prices: tuple[ComponentPrice, ...]
    requested_effective_from: dt.date | None
    description: str
    schedule: DaySchedule | None
    answered_on: dt.date | None = None
    approved: bool | None = None
    agreement_ref: str | None = None
    effective_from: dt.date | None = None
    late: bool = False

    @property
    def due_on(self) -> dt.date:
        """The last day for the answer (pkt. 16, G1)."""
        return self.received_on + dt.timedelta(days=ANSWER_DAYS)

    @property
    def is_open(self) -> bool:
        """Whether the request awaits its answer."""
        return self.answered_on is None


@dataclass(frozen=True)
class Absence:
    """A hospitalisation, imprisonment or custody (pkt. 14)."""

    absence_id: str
    kind: AbsenceKind
    started_on: dt.date
    notified_on: dt.date | None = None
    notified_late: bool = False
    ended_on: dt.date | None = None

    @property
    def notice_due_on(self) -> dt.date:
        """The last day for the provider's notice (pkt. 14, G1, G16)."""
        return self.started_on + dt.timedelta(days=ABSENCE_NOTICE_DAYS)


@dataclass(frozen=True)
class Allonge:
    """A time-boxed amendment with a daily price delta (Gentofte, G6)."""

    line_id: str
    valid_from: dt.date
    valid_to: dt.date
    daily_delta: Decimal
    description: str
    agreement_ref: str
    cause_version: int


@dataclass(frozen=True)
class Regulation:
    """An annual regulation (pkt. 8) taking effect on 1 January of ``year``."""

    year: int
    basis: str  # "tariff-sheet" or "index"
    pl_percentage: Decimal = Decimal(0)
    overhead_percentage: Decimal = Decimal(0)
    beyond_index_percentage: Decimal = Decimal(0)
    source: IndexSource | None = None
    edition: str = ""
    buyer_acceptance_ref: str | None = None
    cause_version: int = 0

    @property
    def effective_from(self) -> dt.date:
        """1 January of the regulated year (pkt. 8, G3)."""
        return dt.date(self.year, 1, 1)

    @property
    def factor(self) -> Decimal:
        """The multiplier an index regulation applies to agreed prices."""
        total = self.pl_percentage + self.overhead_percentage + self.beyond_index_percentage
        return 1 + total / 100


@dataclass(frozen=True)
class Notice:
    """Notice of termination (pkt. 9)."""

    given_by: Party
    given_on: dt.date
    last_day: dt.date  # last day of the notice period


@dataclass(frozen=True)
class Rescission:
    """Termination without notice (pkt. 10)."""

    by: Party
    effective_on: dt.date  # first day without the contract
    ground: RescissionGround


@dataclass(frozen=True)
class NonDelivery:
    """A reported failure to deliver (pkt. 10)."""

    by: Party
    reported_on: dt.date
    cause: str
    citizen_related: bool


@dataclass(frozen=True)
class FrameworkNotice:
    """Notice of a revised rammeaftale (pkt. 4)."""

    received_on: dt.date
    framework_version: str
    adoption_year: int
    in_time: bool


class Contract(Aggregate):
    """A citizen contract (Bilag 1): the aggregate root."""

    class Event(Aggregate.Event):
        """Base of contract events: stamped with the injected recording clock."""

        create_timestamp = staticmethod(recording_time)

    class Snapshot(LibrarySnapshot):
        """A snapshot of a contract; restores tuples that JSON returns as lists."""

        def mutate(self, _: None) -> Contract:
            """Rebuild the contract from the snapshot."""
            aggregate = super().mutate(_)
            restore_tuples(aggregate)
            assert isinstance(aggregate, Contract)  # noqa: S101 - the topic names a Contract
            return aggregate

    # --- events -------------------------------------------------------------

    class Drafted(Event, Aggregate.Created):
        """The contract was drafted with its parties, lines and terms (pkt. 1-5, 9, 15, 17)."""

        buyer: Municipality
        payer: Municipality | None
        provider: Provider
        citizen_id: uuid.UUID
        lines: tuple[ServiceLineSpec, ...]
        terms: Terms
        actor: Actor

    class ServiceLineAdded(Event):
        """A service line was added (pkt. 5)."""

        line_id: str
        spec: ServiceLineSpec
        actor: Actor

    class ProvisionalStepRevised(Event):
        """A provisional step was revised before the placement became final (4.1)."""

        line_id: str
        step: str
        actor: Actor

    class PlaceOffered(Event):
        """The citizen was offered the place (4.1)."""

        offered_on: dt.date
        actor: Actor

    class PlacementFinalised(Event):
        """The placement became final: steps are now agreed (4.1)."""

        final_on: dt.date
        actor: Actor

    class Signed(Event):
        """A party signed (pkt. 18)."""

        party: Party
        signed_on: dt.date
        actor: Actor

    class StepChanged(Event):
        """A step change agreed in writing took effect from a date."""

        line_id: str
        step: str
        effective_from: dt.date
        agreed_on: dt.date
        agreement_ref: str
        actor: Actor

    class RenegotiationRequested(Event):
        """A party asked to renegotiate a line (pkt. 16)."""

        request_id: str
        line_id: str
        requested_by: Party
        received_on: dt.date
        nature: RequestNature
        proposed_step: str | None
        proposed_prices: tuple[ComponentPrice, ...]
        requested_effective_from: dt.date | None
        description: str
        schedule: DaySchedule | None
        actor: Actor

    class RenegotiationAnswered(Event):
        """The other party approved or rejected a request (pkt. 16)."""

        request_id: str
        answered_by: Party
        answered_on: dt.date
        approved: bool
        agreement_ref: str | None
        effective_from: dt.date | None
        late: bool
        reason: str
        actor: Actor

    class AllongeAdded(Event):
        """A time-boxed amendment with a price delta was agreed (G6)."""

        line_id: str
        valid_from: dt.date
        valid_to: dt.date
        daily_delta: Decimal
        description: str
        agreement_ref: str
        buyer_accepted: bool
        actor: Actor

    class AbsenceStarted(Event):
        """A hospitalisation, imprisonment or custody began (pkt. 14)."""

        absence_id: str
        kind: AbsenceKind
        started_on: dt.date
        actor: Actor

    class AbsenceNotified(Event):
        """The provider notified the buyer of an absence (pkt. 14)."""

        absence_id: str
        notified_on: dt.date
        late: bool
        actor: Actor

    class AbsenceEnded(Event):
        """An absence ended (pkt. 14)."""

        absence_id: str
        ended_on: dt.date
        actor: Actor

    class NonDeliveryReported(Event):
        """Delivery failed or became impossible (pkt. 10)."""

        by: Party
        reported_on: dt.date
        cause: str
        citizen_related: bool
        actor: Actor

    class ForceMajeureDeclared(Event):
        """A party declared force majeure (pkt. 10)."""

        by: Party
        declared_on: dt.date
        description: str
        actor: Actor

    class RescindedWithoutNotice(Event):
        """The contract ended without notice under pkt. 10."""

        by: Party
        effective_on: dt.date
        ground: RescissionGround
        actor: Actor

    class FrameworkChangeNotified(Event):
        """The provider notified a revised rammeaftale (pkt. 4)."""

        received_on: dt.date
        framework_version: str
        adoption_year: int
        in_time: bool
        actor: Actor

    class RegulatedByTariffSheet(Event):
        """Tariff-sheet lines move to the new year's sheet from 1 January (pkt. 8)."""

        year: int
        actor: Actor

    class RegulatedByIndex(Event):
        """Agreed prices were indexed from 1 January (pkt. 8, særforanstaltninger)."""

        year: int
        pl_percentage: Decimal
        overhead_percentage: Decimal
        beyond_index_percentage: Decimal
        source: IndexSource
        edition: str
        buyer_acceptance_ref: str | None
        actor: Actor

    class NoticeGiven(Event):
        """A party gave notice (pkt. 9)."""

        given_by: Party
        given_on: dt.date
        last_day: dt.date
        actor: Actor

    class PlaceReoccupied(Event):
        """The provider filled the terminated place (pkt. 9, G14)."""

        reoccupied_on: dt.date
        actor: Actor

    class PaymentEndAgreed(Event):
        """Under option 4 the parties agreed when payment ends (pkt. 9)."""

        payment_end: dt.date
        agreement_ref: str
        actor: Actor

    class FollowUpHeld(Event):
        """A follow-up on a line was held (4.5, G20)."""

        line_id: str
        held_on: dt.date
        actor: Actor

    class RespiteDaysUsed(Event):
        """The respite døgn used in one month (pkt. 5); replaces that month's earlier record."""

        line_id: str
        month: dt.date  # first day of the month
        days: tuple[dt.date, ...]
        actor: Actor

    # --- creation -----------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        buyer: Municipality,
        provider: Provider,
        citizen_id: uuid.UUID,
        lines: list[ServiceLineSpec] | tuple[ServiceLineSpec, ...],
        terms: Terms,
        actor: Actor,
        payer: Municipality | None = None,
    ) -> Contract:
        """Draft a contract; the steps are provisional until the placement is final."""
        _check_municipality(buyer, "buyer")
        if payer is not None:
            _check_municipality(payer, "payer")
        validate_registration(provider.registration, field="provider.registration")
        if not provider.offer.strip():
            msg = "the provider's offer code is required to find its tariff sheets"
            raise errors.InvalidValue(msg, field="provider.offer")
        specs = tuple(lines)
        if not specs:
            msg = "a contract needs at least one service line"
            raise errors.InvalidValue(msg, field="lines")
        for index, spec in enumerate(specs):
            _check_line(spec, f"lines[{index}]")
        _check_requirements(specs)
        _check_terms(terms, specs)
        return cls(
            buyer=buyer,
            payer=payer,
            provider=provider,
            citizen_id=citizen_id,
            lines=specs,
            terms=terms,
            actor=actor,
        )

    @event(Drafted)
    def __init__(
        self,
        *,
        buyer: Municipality,
        payer: Municipality | None,
        provider: Provider,
        citizen_id: uuid.UUID,
        lines: tuple[ServiceLineSpec, ...],
        terms: Terms,
        actor: Actor,
    ) -> None:
        """Apply Drafted: the initial state (runs on every replay; decides nothing)."""
        self.buyer = buyer
        self.payer = payer
        self.provider = provider
        self.citizen_id = citizen_id
        self.terms = terms
        self.lines: dict[str, ServiceLine] = {}
        for number, spec in enumerate(lines, start=1):
            self._put_line(str(number), spec, "Drafted", 1)
        self.offered_on: dt.date | None = None
        self.final_on: dt.date | None = None
        self.signatures: dict[str, dt.date] = {}
        self.renegotiations: dict[str, Renegotiation] = {}
        self.absences: dict[str, Absence] = {}
        self.allonges: tuple[Allonge, ...] = ()
        self.regulations: tuple[Regulation, ...] = ()
        self.non_deliveries: tuple[NonDelivery, ...] = ()
        self.force_majeure_on: dt.date | None = None
        self.framework_notices: tuple[FrameworkNotice, ...] = ()
        self.notice: Notice | None = None
        self.reoccupied_on: dt.date | None = None
        self.agreed_payment_end: dt.date | None = None
        self.rescission: Rescission | None = None

    def _put_line(self, line_id: str, spec: ServiceLineSpec, cause: str, version: int) -> None:
        fact = PriceFact(spec.start, spec.step, spec.agreed_prices, cause, version)
        self.lines[line_id] = ServiceLine(line_id, spec, (fact,))

    def _add_fact(self, line_id: str, fact: PriceFact) -> None:
        line = self.lines[line_id]
        self.lines[line_id] = dataclasses.replace(line, facts=(*line.facts, fact))

    @property
    def _next_version(self) -> int:
        return self.version + 1

    # --- placement and signatures (4.1, pkt. 18) ----------------------------

    def add_service_line(self, spec: ServiceLineSpec, *, actor: Actor) -> str:
        """Add a line (pkt. 5); returns its id."""
        self._check_running()
        _check_line(spec, "line")
        _check_requirements((*(line.spec for line in self.lines.values()), spec))
        if spec.respite and self.terms.respite_basis is None:
            msg = "a respite line needs the contract's respite basis (granted or used days)"
            raise errors.TermsIncomplete(msg, field="terms.respite_basis")
        line_id = str(len(self.lines) + 1)
        self._service_line_added(line_id=line_id, spec=spec, actor=actor)
        return line_id

    @event(ServiceLineAdded)
    def _service_line_added(self, *, line_id: str, spec: ServiceLineSpec, actor: Actor) -> None:
        self._put_line(line_id, spec, "ServiceLineAdded", self._next_version)

    def revise_provisional_step(self, line_id: str, step: str, *, actor: Actor) -> None:
        """Change a provisional step before the place is final, without renegotiation."""
        self._check_running()
        line = self._line(line_id)
        if self.final_on is not None:
            msg = "the placement is final; change the step by agreement or renegotiation"
            raise errors.PlacementAlreadyFinal(msg)
        get_model(line.spec.tariff_model).check_step(
            step, allow_unconfirmed=line.spec.allow_unconfirmed_step
        )
        if step == line.step:
            msg = f"line {line_id} is already on step {step}"
            raise errors.NothingChanges(msg, field="step")
        self._provisional_step_revised(line_id=line_id, step=step, actor=actor)

    @event(ProvisionalStepRevised)
    def _provisional_step_revised(self, *, line_id: str, step: str, actor: Actor) -> None:
        line = self.lines[line_id]
        # Before finality there is no price history to keep: the first fact
        # is the provisional placement itself, revised in place.
        first = dataclasses.replace(
            line.facts[0],
            step=step,
            cause="ProvisionalStepRevised",
            cause_version=self._next_version,
        )
        self.lines[line_id] = dataclasses.replace(line, facts=(first, *line.facts[1:]))

    def offer_place(self, offered_on: dt.date, *, actor: Actor) -> None:
        """Record that the citizen was offered the place (4.1)."""
        self._check_running()
        if self.offered_on is not None:
            msg = f"the place was already offered on {self.offered_on}"
            raise errors.PlaceAlreadyOffered(msg, field="offered_on")
        self._place_offered(offered_on=offered_on, actor=actor)

    @event(PlaceOffered)
    def _place_offered(self, *, offered_on: dt.date, actor: Actor) -> None:
        self.offered_on = offered_on

    def finalise_placement(self, final_on: dt.date, *, actor: Actor) -> None:
        """Make the placement final: "først endeligt når borger tilbydes plads" (4.1)."""
        self._check_running()
        if self.offered_on is None:
            msg = "the placement is final only once the place has been offered"
            raise errors.PlaceNotOffered(msg)
        if self.final_on is not None:
            msg = f"the placement became final on {self.final_on}"
            raise errors.PlacementAlreadyFinal(msg)
        _not_before(final_on, self.offered_on, "final_on", "the offer")
        self._placement_finalised(final_on=final_on, actor=actor)

    @event(PlacementFinalised)
    def _placement_finalised(self, *, final_on: dt.date, actor: Actor) -> None:
        self.final_on = final_on

    def sign(self, party: Party, signed_on: dt.date, *, actor: Actor) -> None:
        """A party signs; the contract binds when both have signed (pkt. 18)."""
        self._check_running()
        if self.final_on is None:
            msg = "sign once the placement is final"
            raise errors.PlacementNotFinal(msg)
        if party.value in self.signatures:
            msg = f"the {party.value} signed on {self.signatures[party.value]}"
            raise errors.AlreadySigned(msg, field="party")
        if (
            self.terms.data_role is DataRole.PROCESSOR
            and not (self.terms.dpa_reference or "").strip()
        ):
            msg = "a provider that is data processor needs a data processing agreement"
            raise errors.DataProcessorAgreementMissing(msg, field="terms.dpa_reference")
        _not_before(signed_on, self.final_on, "signed_on", "the final placement")
        self._signed(party=party, signed_on=signed_on, actor=actor)

    @event(Signed)
    def _signed(self, *, party: Party, signed_on: dt.date, actor: Actor) -> None:
        self.signatures[party.value] = signed_on

    # --- step changes and renegotiation (pkt. 16) ---------------------------

    def change_step(
        self,
        line_id: str,
        step: str,
        *,
        effective_from: dt.date,
        agreed_on: dt.date,
        agreement_ref: str,
        actor: Actor,
    ) -> None:
        """Record a step change both parties agreed in writing."""
        self._check_running()
        line = self._line(line_id)
        self._check_final()
        if not agreement_ref.strip():
            msg = "a step change needs the written agreement it rests on"
            raise errors.WrittenAgreementRequired(msg, field="agreement_ref")
        get_model(line.spec.tariff_model).check_step(
            step, allow_unconfirmed=line.spec.allow_unconfirmed_step
        )
        _not_before(effective_from, line.spec.start, "effective_from", "the line's start")
        if line.step_on(effective_from) == step:
            msg = f"line {line_id} is already on step {step} on {effective_from}"
            raise errors.NothingChanges(msg, field="step")
        self._step_changed(
            line_id=line_id,
            step=step,
            effective_from=effective_from,
            agreed_on=agreed_on,
            agreement_ref=agreement_ref,
            actor=actor,
        )

    @event(StepChanged)
    def _step_changed(
        self,
        *,
        line_id: str,
        step: str,
        effective_from: dt.date,
        agreed_on: dt.date,
        agreement_ref: str,
        actor: Actor,
    ) -> None:
        prices = self.lines[line_id].prices_on(effective_from)
        fact = PriceFact(effective_from, step, prices, "StepChanged", self._next_version)
        self._add_fact(line_id, fact)

    def request_renegotiation(
        self,
        line_id: str,
        *,
        requested_by: Party,
        received_on: dt.date,
        nature: RequestNature,
        description: str,
        actor: Actor,
        proposed_step: str | None = None,
        proposed_prices: tuple[ComponentPrice, ...] = (),
        requested_effective_from: dt.date | None = None,
        schedule: DaySchedule | None = None,
    ) -> str:
        """Ask the other party to renegotiate a line; returns the request id.

        "Ændringer i borgerens støttebehov, som har en midlertidig karakter, er
        ikke anledning til en genforhandling af kontrakten" (pkt. 16): a
        temporary change is refused; a Gentofte allonge records one (G6).
        """
        self._check_running()
        line = self._line(line_id)
        self._check_final()
        if nature is RequestNature.TEMPORARY:
            msg = "a temporary change in need is no ground for renegotiation; use an allonge"
            raise errors.TemporaryChangeNotAGround(msg, field="nature")
        if not description.strip():
            msg = "describe how the premises changed and what it means for the price"
            raise errors.InvalidValue(msg, field="description")
        open_request = next(
            (r for r in self.renegotiations.values() if r.line_id == line_id and r.is_open), None
        )
        if open_request is not None:
            msg = f"request {open_request.request_id} on line {line_id} is still unanswered"
            raise errors.RenegotiationAlreadyOpen(msg, field="line_id")
        _check_proposal(line, proposed_step, proposed_prices, received_on)
        if requested_effective_from is not None:
            _not_before(
                requested_effective_from, line.spec.start, "requested_effective_from", "line start"
            )
        request_id = f"R{len(self.renegotiations) + 1}"
        self._renegotiation_requested(
            request_id=request_id,
            line_id=line_id,
            requested_by=requested_by,
            received_on=received_on,
            nature=nature,
            proposed_step=proposed_step,
            proposed_prices=tuple(proposed_prices),
            requested_effective_from=requested_effective_from,
            description=description,
            schedule=schedule,
            actor=actor,
        )
        return request_id

    @event(RenegotiationRequested)
    def _renegotiation_requested(
        self,
        *,
        request_id: str,
        line_id: str,
        requested_by: Party,
        received_on: dt.date,
        nature: RequestNature,
        proposed_step: str | None,
        proposed_prices: tuple[ComponentPrice, ...],
        requested_effective_from: dt.date | None,
        description: str,
        schedule: DaySchedule | None,
        actor: Actor,
    ) -> None:
        self.renegotiations[request_id] = Renegotiation(
            request_id=request_id,
            line_id=line_id,
            requested_by=requested_by,
            received_on=received_on,
            nature=nature,
            proposed_step=proposed_step,
            # Stored JSON gives a list back; state keeps the tuple it was recorded with.
            proposed_prices=tuple(proposed_prices),
            requested_effective_from=requested_effective_from,
            description=description,
            schedule=schedule,
        )

    def answer_renegotiation(
        self,
        request_id: str,
        *,
        answered_by: Party,
        answered_on: dt.date,
        approved: bool,
        actor: Actor,
        agreement_ref: str | None = None,
        effective_from: dt.date | None = None,
        reason: str = "",
    ) -> None:
        """The other party approves or rejects a request (pkt. 16).

        An approved change takes effect "med tilbagevirkende kraft fra det
        tidspunkt, hvor beskrivelsen af de ændrede vilkår er modtaget af
        køber". Provider requests take effect from the later of the received
        date and the requested date; buyer requests from the agreed date,
        by default the received date (G13). An answer after 30 days is still
        accepted and marked late (G2).
        """
        self._check_running()
        request = self.renegotiations.get(request_id)
        if request is None:
            msg = f"no renegotiation request {request_id}"
            raise errors.UnknownRenegotiation(msg, field="request_id")
        if not request.is_open:
            msg = f"request {request_id} was answered on {request.answered_on}"
            raise errors.RenegotiationAlreadyAnswered(msg)
        if answered_by is request.requested_by:
            msg = f"the {request.requested_by.value} asked; the other party answers"
            raise errors.WrongParty(msg, field="answered_by")
        _not_before(answered_on, request.received_on, "answered_on", "the request's receipt")
        effective: dt.date | None = None
        if approved:
            if not agreement_ref or not agreement_ref.strip():
                msg = "a price change takes effect only with a written, binding agreement"
                raise errors.WrittenAgreementRequired(msg, field="agreement_ref")
            effective = _effective_from(request, effective_from)
        self._renegotiation_answered(
            request_id=request_id,
            answered_by=answered_by,
            answered_on=answered_on,
            approved=approved,
            agreement_ref=agreement_ref if approved else None,
            effective_from=effective,
            late=answered_on > request.due_on,
            reason=reason,
            actor=actor,
        )

    @event(RenegotiationAnswered)
    def _renegotiation_answered(
        self,
        *,
        request_id: str,
        answered_by: Party,
        answered_on: dt.date,
        approved: bool,
        agreement_ref: str | None,
        effective_from: dt.date | None,
        late: bool,
        reason: str,
        actor: Actor,
    ) -> None:
        request = self.renegotiations[request_id]
        self.renegotiations[request_id] = dataclasses.replace(
            request,
            answered_on=answered_on,
            approved=approved,
            agreement_ref=agreement_ref,
            effective_from=effective_from,
            late=late,
        )
        if approved and effective_from is not None:
            line = self.lines[request.line_id]
            fact = PriceFact(
                effective_from,
                request.proposed_step or line.step_on(effective_from),
                request.proposed_prices or line.prices_on(effective_from),
                "RenegotiationAnswered",
                self._next_version,
            )
            self._add_fact(request.line_id, fact)

    def add_allonge(
        self,
        line_id: str,
        *,
        valid_from: dt.date,
        valid_to: dt.date,
        daily_delta: Decimal,
        description: str,
        agreement_ref: str,
        buyer_accepted: bool,
        actor: Actor,
    ) -> None:
        """Record a time-boxed amendment for a temporary change (Gentofte, G6).

        A price delta needs the buyer's acceptance: "Ændringer af taksten ud
        over pris- og lønfremskrivning kræver købers accept" (pkt. 8).
        """
        self._check_running()
        line = self._line(line_id)
        self._check_final()
        _not_before(valid_to, valid_from, "valid_to", "valid_from")
        _not_before(valid_from, line.spec.start, "valid_from", "the line's start")
        if daily_delta != 0 and not buyer_accepted:
            msg = "an allonge that changes the price needs the buyer's acceptance"
            raise errors.BuyerAcceptanceRequired(msg, field="buyer_accepted")
        if not agreement_ref.strip():
            msg = "an allonge is a written amendment; give its reference"
            raise errors.WrittenAgreementRequired(msg, field="agreement_ref")
        self._allonge_added(
            line_id=line_id,
            valid_from=valid_from,
            valid_to=valid_to,
            daily_delta=daily_delta,
            description=description,
            agreement_ref=agreement_ref,
            buyer_accepted=buyer_accepted,
            actor=actor,
        )

    @event(AllongeAdded)
    def _allonge_added(
        self,
        *,
        line_id: str,
        valid_from: dt.date,
        valid_to: dt.date,
        daily_delta: Decimal,
        description: str,
        agreement_ref: str,
        buyer_accepted: bool,
        actor: Actor,
    ) -> None:
        allonge = Allonge(
            line_id,
            valid_from,
            valid_to,
            daily_delta,
            description,
            agreement_ref,
            self._next_version,
        )
        self.allonges = (*self.allonges, allonge)

    # --- absence (pkt. 14) --------------------------------------------------

    def start_absence(
        self,
        kind: AbsenceKind,
        started_on: dt.date,
        *,
        actor: Actor,
        notified_on: dt.date | None = None,
    ) -> str:
        """Record a hospitalisation, imprisonment or custody; returns its id.

        No price changes (G15): "Køber er forpligtet til at betale den aftalte
        pris" (pkt. 10); the parties may renegotiate under pkt. 16.
        """
        self._check_running()
        current = self.current_absence
        if current is not None:
            msg = f"absence {current.absence_id} since {current.started_on} has not ended"
            raise errors.AbsenceAlreadyOpen(msg)
        if notified_on is not None:
            _not_before(notified_on, started_on, "notified_on", "the start of the absence")
        absence_id = f"A{len(self.absences) + 1}"
        self._absence_started(absence_id=absence_id, kind=kind, started_on=started_on, actor=actor)
        if notified_on is not None:
            self.notify_absence(absence_id, notified_on, actor=actor)
        return absence_id

    @event(AbsenceStarted)
    def _absence_started(
        self, *, absence_id: str, kind: AbsenceKind, started_on: dt.date, actor: Actor
    ) -> None:
        self.absences[absence_id] = Absence(absence_id, kind, started_on)

    def notify_absence(self, absence_id: str, notified_on: dt.date, *, actor: Actor) -> None:
        """The provider notifies the buyer; after 7 days the notice is late (pkt. 14)."""
        absence = self._absence(absence_id)
        if absence.notified_on is not None:
            msg = f"absence {absence_id} was notified on {absence.notified_on}"
            raise errors.AbsenceAlreadyNotified(msg)
        _not_before(notified_on, absence.started_on, "notified_on", "the start of the absence")
        self._absence_notified(
            absence_id=absence_id,
            notified_on=notified_on,
            late=notified_on > absence.notice_due_on,
            actor=actor,
        )

    @event(AbsenceNotified)
    def _absence_notified(
        self, *, absence_id: str, notified_on: dt.date, late: bool, actor: Actor
    ) -> None:
        self.absences[absence_id] = dataclasses.replace(
            self.absences[absence_id], notified_on=notified_on, notified_late=late
        )

    def end_absence(self, absence_id: str, ended_on: dt.date, *, actor: Actor) -> None:
        """Record the end of an absence."""
        absence = self._absence(absence_id)
        if absence.ended_on is not None:
            msg = f"absence {absence_id} ended on {absence.ended_on}"
            raise errors.AbsenceAlreadyEnded(msg)
        _not_before(ended_on, absence.started_on, "ended_on", "the start of the absence")
        self._absence_ended(absence_id=absence_id, ended_on=ended_on, actor=actor)

    @event(AbsenceEnded)
    def _absence_ended(self, *, absence_id: str, ended_on: dt.date, actor: Actor) -> None:
        self.absences[absence_id] = dataclasses.replace(
            self.absences[absence_id], ended_on=ended_on
        )

    # --- non-delivery and force majeure (pkt. 10) ---------------------------

    def report_non_delivery(
        self,
        *,
        by: Party,
        reported_on: dt.date,
        cause: str,
        citizen_related: bool,
        actor: Actor,
    ) -> None:
        """Record that the service is not or cannot be delivered, and why."""
        self._check_running()
        if not cause.strip():
            msg = "give the cause of the non-delivery"
            raise errors.InvalidValue(msg, field="cause")
        self._non_delivery_reported(
            by=by,
            reported_on=reported_on,
            cause=cause,
            citizen_related=citizen_related,
            actor=actor,
        )

    @event(NonDeliveryReported)
    def _non_delivery_reported(
        self, *, by: Party, reported_on: dt.date, cause: str, citizen_related: bool, actor: Actor
    ) -> None:
        self.non_deliveries = (
            *self.non_deliveries,
            NonDelivery(by, reported_on, cause, citizen_related),
        )

    def declare_force_majeure(
        self, *, by: Party, declared_on: dt.date, description: str, actor: Actor
    ) -> None:
        """Record force majeure; either party may then end the contract at once."""
        self._check_running()
        if not description.strip():
            msg = "describe the force majeure event"
            raise errors.InvalidValue(msg, field="description")
        self._force_majeure_declared(
            by=by, declared_on=declared_on, description=description, actor=actor
        )

    @event(ForceMajeureDeclared)
    def _force_majeure_declared(
        self, *, by: Party, declared_on: dt.date, description: str, actor: Actor
    ) -> None:
        self.force_majeure_on = declared_on

    def rescind_without_notice(
        self, *, by: Party, effective_on: dt.date, ground: RescissionGround, actor: Actor
    ) -> None:
        """End the contract without notice where pkt. 10 allows it.

        Non-delivery: only the buyer, and only when the cause "ikke skyldes
        forhold, der knytter sig til borgerens udvikling, trivsel eller
        adfærd". Force majeure: either party. Payment ends the day before
        ``effective_on``.
        """
        self._check_running()
        if ground is RescissionGround.NON_DELIVERY:
            if by is not Party.BUYER:
                msg = "only the buyer may rescind for non-delivery"
                raise errors.WrongParty(msg, field="by")
            grounds = [n for n in self.non_deliveries if not n.citizen_related]
            if not grounds:
                msg = "rescission needs a reported non-delivery not related to the citizen"
                raise errors.RescissionNotAllowed(msg, field="ground")
            _not_before(effective_on, grounds[0].reported_on, "effective_on", "the report")
        else:
            if self.force_majeure_on is None:
                msg = "rescission for force majeure needs a declared force majeure"
                raise errors.RescissionNotAllowed(msg, field="ground")
            _not_before(effective_on, self.force_majeure_on, "effective_on", "the declaration")
        self._rescinded(by=by, effective_on=effective_on, ground=ground, actor=actor)

    @event(RescindedWithoutNotice)
    def _rescinded(
        self, *, by: Party, effective_on: dt.date, ground: RescissionGround, actor: Actor
    ) -> None:
        self.rescission = Rescission(by, effective_on, ground)

    # --- framework and annual regulation (pkt. 4, 8) ------------------------

    def notify_framework_change(
        self, *, received_on: dt.date, framework_version: str, adoption_year: int, actor: Actor
    ) -> None:
        """Record the provider's notice of a revised rammeaftale (pkt. 4).

        Notice must reach the buyer "senest den 1. december i året for
        rammeaftalens vedtagelse"; a later one is recorded as not in time and
        leaves the terms unchanged.
        """
        self._check_running()
        if not framework_version.strip():
            msg = "name the rammeaftale version"
            raise errors.InvalidValue(msg, field="framework_version")
        self._framework_change_notified(
            received_on=received_on,
            framework_version=framework_version,
            adoption_year=adoption_year,
            in_time=received_on <= dt.date(adoption_year, 12, 1),
            actor=actor,
        )

    @event(FrameworkChangeNotified)
    def _framework_change_notified(
        self,
        *,
        received_on: dt.date,
        framework_version: str,
        adoption_year: int,
        in_time: bool,
        actor: Actor,
    ) -> None:
        notice = FrameworkNotice(received_on, framework_version, adoption_year, in_time)
        self.framework_notices = (*self.framework_notices, notice)

    def regulate_by_tariff_sheet(self, year: int, *, actor: Actor) -> None:
        """Move tariff-sheet lines to ``year``'s sheet from 1 January (pkt. 8, G3).

        The application checks that the offer has a sheet for ``year``.
        """
        self._check_running()
        if not any(line.spec.pricing is Pricing.TARIFF_SHEET for line in self.lines.values()):
            msg = "no line is priced from a tariff sheet; regulate by index instead"
            raise errors.RegulationNotApplicable(msg, field="basis")
        self._check_year_free(year, "tariff-sheet")
        self._regulated_by_tariff_sheet(year=year, actor=actor)

    @event(RegulatedByTariffSheet)
    def _regulated_by_tariff_sheet(self, *, year: int, actor: Actor) -> None:
        regulation = Regulation(year, "tariff-sheet", cause_version=self._next_version)
        self.regulations = (*self.regulations, regulation)

    def regulate_by_index(
        self,
        year: int,
        *,
        pl_percentage: Decimal,
        overhead_percentage: Decimal,
        source: IndexSource,
        edition: str,
        actor: Actor,
        beyond_index_percentage: Decimal = Decimal(0),
        buyer_acceptance_ref: str | None = None,
    ) -> None:
        """Index agreed prices from 1 January (pkt. 8, særforanstaltninger).

        KL's estimate for municipal offers, Danske Regioner's for regional
        ones; anything beyond the index needs the buyer's acceptance. Each
        component is rounded half-up to øre after indexing (G23).
        """
        self._check_running()
        if not any(line.spec.pricing is Pricing.AGREED for line in self.lines.values()):
            msg = "no line has agreed prices; tariff-sheet lines follow the new sheet"
            raise errors.RegulationNotApplicable(msg, field="basis")
        expected = (
            IndexSource.KL
            if self.provider.operator is Operator.MUNICIPAL
            else IndexSource.DANSKE_REGIONER
        )
        if source is not expected:
            msg = (
                f"a {self.provider.operator.value} offer is indexed by {expected.value}'s estimate"
            )
            raise errors.WrongIndexSource(msg, field="source")
        if not edition.strip():
            msg = "name the estimate's edition (the one current when the tariff was set)"
            raise errors.InvalidValue(msg, field="edition")
        if beyond_index_percentage != 0 and not (
            buyer_acceptance_ref and buyer_acceptance_ref.strip()
        ):
            msg = "a change beyond price and wage indexation needs the buyer's acceptance"
            raise errors.BuyerAcceptanceRequired(msg, field="buyer_acceptance_ref")
        if pl_percentage + overhead_percentage + beyond_index_percentage <= -HUNDRED_PERCENT:
            msg = "the regulation would make prices non-positive"
            raise errors.NonPositivePrice(msg, field="pl_percentage")
        self._check_year_free(year, "index")
        self._regulated_by_index(
            year=year,
            pl_percentage=pl_percentage,
            overhead_percentage=overhead_percentage,
            beyond_index_percentage=beyond_index_percentage,
            source=source,
            edition=edition,
            buyer_acceptance_ref=buyer_acceptance_ref,
            actor=actor,
        )

    @event(RegulatedByIndex)
    def _regulated_by_index(
        self,
        *,
        year: int,
        pl_percentage: Decimal,
        overhead_percentage: Decimal,
        beyond_index_percentage: Decimal,
        source: IndexSource,
        edition: str,
        buyer_acceptance_ref: str | None,
        actor: Actor,
    ) -> None:
        regulation = Regulation(
            year,
            "index",
            pl_percentage,
            overhead_percentage,
            beyond_index_percentage,
            source,
            edition,
            buyer_acceptance_ref,
            self._next_version,
        )
        self.regulations = (*self.regulations, regulation)

    def _check_year_free(self, year: int, basis: str) -> None:
        if any(r.year == year and r.basis == basis for r in self.regulations):
            msg = f"the {year} regulation ({basis}) is already recorded"
            raise errors.RegulationAlreadyApplied(msg, field="year")
        first_year = min(line.spec.start.year for line in self.lines.values())
        if year <= first_year:
            msg = f"regulation applies from the year after the contract starts ({first_year})"
            raise errors.RegulationNotApplicable(msg, field="year")

    # --- termination (pkt. 9) -----------------------------------------------

    def give_notice(self, *, given_by: Party, given_on: dt.date, actor: Actor) -> dt.date:
        """A party gives notice; returns the last day of the notice period."""
        self._check_running()
        if self.notice is not None:
            msg = f"notice was given on {self.notice.given_on}"
            raise errors.NoticeAlreadyGiven(msg)
        last_day = self.terms.notice_period.last_day(given_on)
        self._notice_given(given_by=given_by, given_on=given_on, last_day=last_day, actor=actor)
        return last_day

    @event(NoticeGiven)
    def _notice_given(
        self, *, given_by: Party, given_on: dt.date, last_day: dt.date, actor: Actor
    ) -> None:
        self.notice = Notice(given_by, given_on, last_day)

    def record_reoccupation(self, reoccupied_on: dt.date, *, actor: Actor) -> None:
        """The terminated place is filled from ``reoccupied_on`` (G14: "besat")."""
        notice = self._check_notice()
        if self.reoccupied_on is not None:
            msg = f"the place was re-occupied on {self.reoccupied_on}"
            raise errors.PlaceAlreadyReoccupied(msg, field="reoccupied_on")
        _not_before(reoccupied_on, notice.given_on, "reoccupied_on", "the notice")
        self._place_reoccupied(reoccupied_on=reoccupied_on, actor=actor)

    @event(PlaceReoccupied)
    def _place_reoccupied(self, *, reoccupied_on: dt.date, actor: Actor) -> None:
        self.reoccupied_on = reoccupied_on

    def agree_payment_end(self, payment_end: dt.date, *, agreement_ref: str, actor: Actor) -> None:
        """Under option 4 ("Andet") the parties agree when payment ends."""
        notice = self._check_notice()
        if self.terms.payment_option is not PaymentOption.OTHER:
            msg = f"option {self.terms.payment_option.value} decides the payment end"
            raise errors.PaymentEndNotManual(msg, field="payment_end")
        if not agreement_ref.strip():
            msg = "give the agreement the payment end rests on"
            raise errors.WrittenAgreementRequired(msg, field="agreement_ref")
        _not_before(payment_end, notice.given_on, "payment_end", "the notice")
        self._payment_end_agreed(payment_end=payment_end, agreement_ref=agreement_ref, actor=actor)

    @event(PaymentEndAgreed)
    def _payment_end_agreed(
        self, *, payment_end: dt.date, agreement_ref: str, actor: Actor
    ) -> None:
        self.agreed_payment_end = payment_end

    # --- follow-up (4.5, G20) -----------------------------------------------

    def hold_follow_up(self, line_id: str, held_on: dt.date, *, actor: Actor) -> None:
        """Record a follow-up on a line."""
        self._check_running()
        line = self._line(line_id)
        _not_before(held_on, line.spec.start, "held_on", "the line's start")
        self._follow_up_held(line_id=line_id, held_on=held_on, actor=actor)

    @event(FollowUpHeld)
    def _follow_up_held(self, *, line_id: str, held_on: dt.date, actor: Actor) -> None:
        line = self.lines[line_id]
        self.lines[line_id] = dataclasses.replace(line, follow_ups=(*line.follow_ups, held_on))

    def record_respite_used(
        self, line_id: str, month: dt.date, days: tuple[dt.date, ...], *, actor: Actor
    ) -> None:
        """Record which respite døgn were used in ``month`` (pkt. 5, used-days settlement).

        A later record for the same month replaces the earlier one, so a
        correction is a new event, never an edit.
        """
        self._check_running()
        line = self._line(line_id)
        if not line.spec.respite:
            msg = f"service line {line_id} is not a respite line"
            raise errors.NotARespiteLine(msg, field="line_id")
        if month.day != 1:
            msg = f"month {month} must be the first day of a month"
            raise errors.InvalidValue(msg, field="month")
        if len(set(days)) != len(days):
            msg = "a respite døgn is listed twice"
            raise errors.InvalidValue(msg, field="days")
        last = line.spec.end
        for day in days:
            if (day.year, day.month) != (month.year, month.month):
                msg = f"{day} is not in {month:%Y-%m}"
                raise errors.InvalidValue(msg, field="days")
            _not_before(day, line.spec.start, "days", "the line's start")
            if last is not None and day > last:
                msg = f"{day} is after the line's end ({last})"
                raise errors.DateOutOfOrder(msg, field="days")
        self._respite_days_used(line_id=line_id, month=month, days=tuple(sorted(days)), actor=actor)

    @event(RespiteDaysUsed)
    def _respite_days_used(
        self, *, line_id: str, month: dt.date, days: tuple[dt.date, ...], actor: Actor
    ) -> None:
        line = self.lines[line_id]
        kept = tuple(d for d in line.respite_used if (d.year, d.month) != (month.year, month.month))
        used = tuple(sorted((*kept, *tuple(days))))
        self.lines[line_id] = dataclasses.replace(line, respite_used=used)

    # --- derived facts ------------------------------------------------------

    @property
    def current_absence(self) -> Absence | None:
        """The absence that has not ended, if any."""
        return next((a for a in self.absences.values() if a.ended_on is None), None)

    @property
    def is_binding(self) -> bool:
        """Both parties have signed (pkt. 18)."""
        return {Party.BUYER.value, Party.PROVIDER.value} <= set(self.signatures)

    @property
    def payment_end(self) -> dt.date | None:
        """The last day the buyer pays for, or None while the contract runs.

        Pkt. 9 and G14, with ``last`` the last day of notice:
        option 1 ``min(last, reoccupied - 1)``, option 2 ``min(last,
        reoccupied - 1 + N)``, option 3 ``last``, option 4 as agreed (``last``
        until then). Rescission ends payment the day before it takes effect.
        """
        ends: list[dt.date] = []
        if self.rescission is not None:
            ends.append(self.rescission.effective_on - ONE_DAY)
        if self.notice is not None:
            ends.append(self._notice_payment_end(self.notice))
        return min(ends) if ends else None

    def _notice_payment_end(self, notice: Notice) -> dt.date:
        option = self.terms.payment_option
        last = notice.last_day
        if option is PaymentOption.OTHER:
            return self.agreed_payment_end or last
        if option is PaymentOption.CONTINUES_WHOLE_NOTICE or self.reoccupied_on is None:
            return last
        filled_from = self.reoccupied_on - ONE_DAY
        if option is PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED:
            days = self.terms.payment_days_after_reoccupation or 0
            filled_from += dt.timedelta(days=days)
        return min(last, filled_from)

    @property
    def delivery_end(self) -> dt.date | None:
        """The last day of delivery: end of notice, or the day before rescission."""
        if self.rescission is not None:
            return self.rescission.effective_on - ONE_DAY
        return self.notice.last_day if self.notice is not None else None

    def status(self, today: dt.date) -> str:
        """The contract's status on ``today`` (see :class:`ContractStatus`)."""
        if self._has_ended(today):
            return ContractStatus.ENDED
        if self.notice is not None:
            return ContractStatus.UNDER_NOTICE
        if self.is_binding:
            return ContractStatus.SIGNED
        if self.final_on is not None:
            return ContractStatus.FINAL
        if self.offered_on is not None:
            return ContractStatus.OFFERED
        return ContractStatus.DRAFT

    def _has_ended(self, today: dt.date) -> bool:
        if self.rescission is not None and today >= self.rescission.effective_on:
            return True
        end, payment_end = self.delivery_end, self.payment_end
        return end is not None and payment_end is not None and today > max(end, payment_end)

    # --- guards ---------------------------------------------------------------

    def _line(self, line_id: str) -> ServiceLine:
        try:
            return self.lines[line_id]
        except KeyError:
            msg = f"the contract has no service line {line_id}"
            raise errors.UnknownServiceLine(msg, field="line_id") from None

    def _absence(self, absence_id: str) -> Absence:
        try:
            return self.absences[absence_id]
        except KeyError:
            msg = f"the contract has no absence {absence_id}"
            raise errors.UnknownAbsence(msg, field="absence_id") from None

    def _check_running(self) -> None:
        if self.rescission is not None:
            msg = f"the contract was rescinded from {self.rescission.effective_on}"
            raise errors.ContractEnded(msg)

    def _check_final(self) -> None:
        if self.final_on is None:
            msg = "before the placement is final, revise the provisional step instead"
            raise errors.PlacementNotFinal(msg)

    def _check_notice(self) -> Notice:
        self._check_running()
        if self.notice is None:
            msg = "no notice has been given"
            raise errors.NotUnderNotice(msg)
        return self.notice


# --- rules shared by several commands ----------------------------------------


def _not_before(day: dt.date, earliest: dt.date, field: str, what: str) -> None:
    if day < earliest:
        msg = f"{field} {day} is before {what} ({earliest})"
        raise errors.DateOutOfOrder(msg, field=field)


def _check_municipality(municipality: Municipality, field: str) -> None:
    if not municipality.name.strip():
        msg = f"the {field}'s name is required"
        raise errors.InvalidValue(msg, field=f"{field}.name")
    validate_cvr(municipality.cvr, field=f"{field}.cvr")
    validate_ean(municipality.ean, field=f"{field}.ean")


def _check_line(spec: ServiceLineSpec, where: str) -> None:
    try:
        model = get_model(spec.tariff_model)
    except errors.UnknownTariffModel as error:
        error.field = f"{where}.tariff_model"  # which line's model, not just "a model"
        raise
    try:
        model.check_step(spec.step, allow_unconfirmed=spec.allow_unconfirmed_step)
    except (errors.UnknownStep, errors.StepUnconfirmed) as error:
        error.field = f"{where}.step"
        raise
    if spec.quantity <= 0:
        msg = f"quantity must be positive, got {spec.quantity}"
        raise errors.InvalidValue(msg, field=f"{where}.quantity")
    if not spec.paragraph.strip():
        msg = "name the paragraph of the service (e.g. SEL §85)"
        raise errors.InvalidValue(msg, field=f"{where}.paragraph")
    if spec.end is not None:
        _not_before(spec.end, spec.start, f"{where}.end", "the start")
    if spec.first_follow_up is not None:
        _not_before(spec.first_follow_up, spec.start, f"{where}.first_follow_up", "the start")
    if spec.pricing is Pricing.AGREED:
        _check_agreed_prices(spec.tariff_model, spec.agreed_prices, f"{where}.agreed_prices")
    elif spec.agreed_prices:
        msg = "tariff-sheet lines take their prices from the sheet; give no agreed prices"
        raise errors.InvalidValue(msg, field=f"{where}.agreed_prices")


def _check_agreed_prices(model_code: str, prices: tuple[ComponentPrice, ...], field: str) -> None:
    model = get_model(model_code)
    given = [p.component for p in prices]
    expected = [c.code for c in model.components]
    if sorted(given) != sorted(expected):
        msg = f"agreed prices must cover exactly the components {', '.join(expected)}"
        raise errors.InvalidValue(msg, field=field)
    for item in prices:
        if item.daily <= 0:
            msg = f"the {item.component} price must be positive"
            raise errors.NonPositivePrice(msg, field=field)


def _check_requirements(specs: tuple[ServiceLineSpec, ...]) -> None:
    present = {spec.tariff_model for spec in specs}
    for spec in specs:
        for required in get_model(spec.tariff_model).requires:
            if required not in present:
                msg = (
                    f"a {spec.tariff_model} line requires a {required} line on the same "
                    "contract: §85 is bought only with §104"
                )
                raise errors.Section85RequiresSection104(msg, field="lines")


def _check_terms(terms: Terms, specs: tuple[ServiceLineSpec, ...]) -> None:
    if not terms.notice_period.is_defined:
        msg = "the notice period must be agreed (rammeaftale or contract)"
        raise errors.TermsIncomplete(msg, field="terms.notice_period")
    option = terms.payment_option
    if option is PaymentOption.CONTINUES_N_DAYS_AFTER_REOCCUPIED and (
        terms.payment_days_after_reoccupation is None or terms.payment_days_after_reoccupation < 0
    ):
        msg = "option 2 needs the number of days payment continues after re-occupation"
        raise errors.TermsIncomplete(msg, field="terms.payment_days_after_reoccupation")
    if option is PaymentOption.OTHER and not (terms.payment_other_text or "").strip():
        msg = "option 4 needs the text of the agreed payment rule"
        raise errors.TermsIncomplete(msg, field="terms.payment_other_text")
    has_respite = any(spec.respite for spec in specs)
    if has_respite and terms.respite_basis is None:
        msg = "respite is settled on granted or used days: choose one"
        raise errors.TermsIncomplete(msg, field="terms.respite_basis")
    if (
        terms.data_role is DataRole.PROCESSOR_UNDER_EXISTING_DPA
        and not (terms.dpa_municipality or "").strip()
    ):
        msg = "name the municipality whose data processing agreement covers the provider"
        raise errors.TermsIncomplete(msg, field="terms.dpa_municipality")


def _check_proposal(
    line: ServiceLine,
    proposed_step: str | None,
    proposed_prices: tuple[ComponentPrice, ...],
    received_on: dt.date,
) -> None:
    if (proposed_step is None) == (not proposed_prices):
        msg = "propose either a new step or new agreed prices"
        raise errors.InvalidValue(msg, field="proposed_step")
    if proposed_step is not None:
        get_model(line.spec.tariff_model).check_step(
            proposed_step, allow_unconfirmed=line.spec.allow_unconfirmed_step
        )
        if line.step_on(received_on) == proposed_step:
            msg = f"line {line.line_id} is already on step {proposed_step}"
            raise errors.NothingChanges(msg, field="proposed_step")
    else:
        if line.spec.pricing is not Pricing.AGREED:
            msg = "tariff-sheet lines change price by changing step"
            raise errors.InvalidValue(msg, field="proposed_prices")
        _check_agreed_prices(line.spec.tariff_model, proposed_prices, "proposed_prices")


def _effective_from(request: Renegotiation, agreed: dt.date | None) -> dt.date:
    """When an approved change takes effect (pkt. 16, G13)."""
    if request.requested_by is Party.PROVIDER:
        wanted = request.requested_effective_from or request.received_on
        effective = max(request.received_on, wanted)
        if agreed is not None:
            _not_before(agreed, request.received_on, "effective_from", "the description's receipt")
            effective = agreed
        return effective
    if agreed is not None:
        _not_before(agreed, request.received_on, "effective_from", "the justification's receipt")
        return agreed
    return max(request.received_on, request.requested_effective_from or request.received_on)


STATE_TYPES: list[type[object]] = [
    PriceFact,
    ServiceLine,
    Renegotiation,
    Absence,
    Allonge,
    Regulation,
    Notice,
    Rescission,
    NonDelivery,
    FrameworkNotice,
]
