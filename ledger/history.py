"""A contract's history as a person reads it: one line per event, with its dates and author.

Each recorded contract event becomes a :class:`HistoryEntry`: its version,
event type, when it was recorded (the event's timestamp, the record-time
axis), who recorded it (the event's actor), its business dates (the dates in
its payload: the valid-time axis) and a one-line English description such
as "Buyer and provider agreed step 2:3 on line 1 from 2025-04-01 (agreement
A-17)".

Some events name earlier ones only by id (an answer names its request, an
absence notice its absence); :func:`contract_history` reads the events in
order and remembers what it needs to describe the later ones.

The descriptions never carry personal data: the citizen is not in the events
(only a pseudonymous id, left out here too), parties appear by CVR, P-number
or offer code, never by name, and free text typed by a user (a renegotiation's
description, a rejection's reason, a non-delivery's cause) is left out,
because someone could have typed a name or a CPR number into it.

Pure domain code: no clock, no I/O; it imports only :mod:`ledger` modules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.clock import COPENHAGEN
from ledger.contract import ABSENCE_NOTICE_DAYS, ANSWER_DAYS, Contract
from ledger.values import AbsenceKind, Actor, ComponentPrice, Party, ServiceLineSpec

ENVELOPE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp"})

ABSENCE_WORDS = {
    AbsenceKind.HOSPITAL: "hospitalisation",
    AbsenceKind.PRISON: "imprisonment",
    AbsenceKind.CUSTODY: "custody",
}


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a contract, as the history shows it."""

    version: int
    event_type: str  # the event class, e.g. "RenegotiationAnswered"
    recorded_at: dt.datetime  # when it was recorded (UTC)
    actor: Actor | None  # who recorded it
    business_dates: dict[str, dt.date] = field(default_factory=dict)
    description: str = ""


@dataclass
class _Story:
    """What later events need to know about earlier ones."""

    requests: dict[str, Contract.RenegotiationRequested] = field(default_factory=dict)
    absences: dict[str, AbsenceKind] = field(default_factory=dict)


Describer = Callable[[Any, _Story], str]


def contract_history(events: Iterable[object]) -> list[HistoryEntry]:
    """The history of one contract from its events in recording order.

    Objects that are not contract events are skipped (a contract's stream
    holds only contract events; this keeps the function total).
    """
    story = _Story()
    entries = []
    for event in events:
        if not isinstance(event, Contract.Event):
            continue
        entries.append(
            HistoryEntry(
                version=event.originator_version,
                event_type=type(event).__name__,
                recorded_at=event.timestamp,
                actor=_actor(event),
                business_dates=business_dates(event),
                description=describe(event, story),
            )
        )
        _remember(event, story)
    return entries


def recorded_days(events: Iterable[object]) -> dict[int, dt.date]:
    """The day (in Copenhagen) each contract event was recorded on, by version."""
    return {
        event.originator_version: event.timestamp.astimezone(COPENHAGEN).date()
        for event in events
        if isinstance(event, Contract.Event)
    }


def describe(event: Contract.Event, story: _Story | None = None) -> str:
    """The one-line description of ``event`` (``story``: what earlier events told)."""
    describer = DESCRIBERS.get(type(event))
    if describer is None:
        return f"{type(event).__name__} (no description for this event type yet)"
    return describer(event, story or _Story())


def business_dates(event: Contract.Event) -> dict[str, dt.date]:
    """The business dates in ``event``'s payload, by field name.

    Dates of the service lines a draft or a new line brings are named
    ``lines.<id>.start`` and ``lines.<id>.end``; a regulation adds the
    1 January it takes effect from (pkt. 8), a respite record its first and
    last døgn.
    """
    found: dict[str, dt.date] = {}
    for item in dataclasses.fields(event):
        if item.name in ENVELOPE_FIELDS:
            continue
        value = getattr(event, item.name)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            found[item.name] = value
    if isinstance(event, Contract.Drafted):
        for number, spec in enumerate(event.lines, start=1):
            found.update(_line_dates(str(number), spec))
    elif isinstance(event, Contract.ServiceLineAdded):
        found.update(_line_dates(event.line_id, event.spec))
    elif isinstance(event, (Contract.RegulatedByTariffSheet, Contract.RegulatedByIndex)):
        found["effective_from"] = dt.date(event.year, 1, 1)  # pkt. 8: from 1 January
    elif isinstance(event, Contract.RespiteDaysUsed) and event.days:
        found["first_day"], found["last_day"] = min(event.days), max(event.days)
    return found


def _line_dates(line_id: str, spec: ServiceLineSpec) -> dict[str, dt.date]:
    dates = {f"lines.{line_id}.start": spec.start}
    if spec.end is not None:
        dates[f"lines.{line_id}.end"] = spec.end
    return dates


def _actor(event: Contract.Event) -> Actor | None:
    actor = getattr(event, "actor", None)
    return actor if isinstance(actor, Actor) else None


def _remember(event: Contract.Event, story: _Story) -> None:
    if isinstance(event, Contract.RenegotiationRequested):
        story.requests[event.request_id] = event
    elif isinstance(event, Contract.AbsenceStarted):
        story.absences[event.absence_id] = event.kind


# --- wording ----------------------------------------------------------------------------


def _party(party: Party) -> str:
    return f"the {party.value}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _prices(prices: Iterable[ComponentPrice]) -> str:
    return ", ".join(f"{p.component} {_money(p.daily)}" for p in prices)


def _line(spec: ServiceLineSpec) -> str:
    text = f"{spec.paragraph} ({spec.tariff_model}) step {spec.step} from {spec.start}"
    if spec.end is not None:
        text += f" to {spec.end}"
    if spec.agreed_prices:
        text += f", agreed prices {_prices(spec.agreed_prices)}"
    return text


def _percent(value: Decimal) -> str:
    return f"{value:+g} %"


def _absence(story: _Story, absence_id: str) -> str:
    kind = story.absences.get(absence_id)
    what = ABSENCE_WORDS[kind] if kind is not None else "absence"
    return f"{what} {absence_id}"


# --- one describer per event class ----------------------------------------------------------


def _drafted(e: Contract.Drafted, _: _Story) -> str:
    payer = f", paid by CVR {e.payer.cvr}" if e.payer is not None else ""
    lines = "; ".join(f"line {n}: {_line(s)}" for n, s in enumerate(e.lines, start=1))
    return (
        f"Placement drafted between buyer CVR {e.buyer.cvr} (EAN {e.buyer.ean}){payer} and "
        f"provider {e.provider.registration} (offer {e.provider.offer}); {lines}"
    )


def _line_added(e: Contract.ServiceLineAdded, _: _Story) -> str:
    return f"Line {e.line_id} added: {_line(e.spec)}"


def _provisional(e: Contract.ProvisionalStepRevised, _: _Story) -> str:
    return (
        f"Provisional step of line {e.line_id} revised to {e.step} (before the placement is final)"
    )


def _offered(e: Contract.PlaceOffered, _: _Story) -> str:
    return f"The citizen was offered the place on {e.offered_on}"


def _finalised(e: Contract.PlacementFinalised, _: _Story) -> str:
    return f"The placement became final on {e.final_on}; steps change by agreement from now on"


def _signed(e: Contract.Signed, _: _Story) -> str:
    return f"{_sentence(_party(e.party))} signed on {e.signed_on}"


def _step_changed(e: Contract.StepChanged, _: _Story) -> str:
    return (
        f"Buyer and provider agreed step {e.step} on line {e.line_id} from {e.effective_from} "
        f"(agreement {e.agreement_ref}, agreed on {e.agreed_on})"
    )


def _renegotiation_requested(e: Contract.RenegotiationRequested, _: _Story) -> str:
    proposal = []
    if e.proposed_step is not None:
        proposal.append(f"step {e.proposed_step}")
    if e.proposed_prices:
        proposal.append(f"prices {_prices(e.proposed_prices)}")
    proposing = f", proposing {' and '.join(proposal)}" if proposal else ""
    wanted = f" from {e.requested_effective_from}" if e.requested_effective_from is not None else ""
    due = e.received_on + dt.timedelta(days=ANSWER_DAYS)
    return (
        f"{_sentence(_party(e.requested_by))} asked to renegotiate line {e.line_id} "
        f"(request {e.request_id}, {e.nature.value} change){proposing}{wanted}; "
        f"received {e.received_on}, answer due by {due}"
    )


def _renegotiation_answered(e: Contract.RenegotiationAnswered, story: _Story) -> str:
    request = story.requests.get(e.request_id)
    on_line = f" on line {request.line_id}" if request is not None else ""
    late = " (late)" if e.late else ""
    if not e.approved:
        return (
            f"{_sentence(_party(e.answered_by))} rejected request {e.request_id}{on_line} "
            f"on {e.answered_on}{late}"
        )
    change = ""
    if request is not None and request.proposed_step is not None:
        change = f": step {request.proposed_step}"
    elif request is not None and request.proposed_prices:
        change = f": prices {_prices(request.proposed_prices)}"
    effective = f" from {e.effective_from}" if e.effective_from is not None else ""
    return (
        f"{_sentence(_party(e.answered_by))} approved request {e.request_id}{on_line} "
        f"on {e.answered_on}{late}{change}{effective} (agreement {e.agreement_ref})"
    )


def _allonge(e: Contract.AllongeAdded, _: _Story) -> str:
    delta = (
        "no price change"
        if e.daily_delta == 0
        else f"{'+' if e.daily_delta > 0 else ''}{_money(e.daily_delta)} DKK per day"
    )
    return (
        f"Allonge on line {e.line_id} from {e.valid_from} to {e.valid_to}: {delta} "
        f"(agreement {e.agreement_ref})"
    )


def _absence_started(e: Contract.AbsenceStarted, _: _Story) -> str:
    due = e.started_on + dt.timedelta(days=ABSENCE_NOTICE_DAYS)
    return (
        f"A {ABSENCE_WORDS[e.kind]} began on {e.started_on} (absence {e.absence_id}); "
        f"the provider's notice is due by {due}"
    )


def _absence_notified(e: Contract.AbsenceNotified, story: _Story) -> str:
    late = " (late)" if e.late else ""
    return f"The provider notified the {_absence(story, e.absence_id)} on {e.notified_on}{late}"


def _absence_ended(e: Contract.AbsenceEnded, story: _Story) -> str:
    return f"The {_absence(story, e.absence_id)} ended on {e.ended_on}"


def _non_delivery(e: Contract.NonDeliveryReported, _: _Story) -> str:
    related = "related" if e.citizen_related else "not related"
    return (
        f"{_sentence(_party(e.by))} reported on {e.reported_on} that the service is not "
        f"delivered (cause {related} to the citizen)"
    )


def _force_majeure(e: Contract.ForceMajeureDeclared, _: _Story) -> str:
    return f"{_sentence(_party(e.by))} declared force majeure on {e.declared_on}"


def _rescinded(e: Contract.RescindedWithoutNotice, _: _Story) -> str:
    return (
        f"{_sentence(_party(e.by))} ended the contract without notice from {e.effective_on} "
        f"(ground: {e.ground.value})"
    )


def _framework(e: Contract.FrameworkChangeNotified, _: _Story) -> str:
    timely = "in time" if e.in_time else f"after 1 December {e.adoption_year}, too late"
    return (
        f"The provider notified rammeaftale {e.framework_version} adopted in {e.adoption_year}, "
        f"received {e.received_on} ({timely})"
    )


def _regulated_by_sheet(e: Contract.RegulatedByTariffSheet, _: _Story) -> str:
    return f"Tariff-sheet lines moved to the {e.year} tariff sheet from {e.year}-01-01"


def _regulated_by_index(e: Contract.RegulatedByIndex, _: _Story) -> str:
    parts = [f"price and wage {_percent(e.pl_percentage)}"]
    if e.overhead_percentage:
        parts.append(f"overhead {_percent(e.overhead_percentage)}")
    if e.beyond_index_percentage:
        accepted = f", buyer's acceptance {e.buyer_acceptance_ref}"
        parts.append(f"beyond the index {_percent(e.beyond_index_percentage)}{accepted}")
    return (
        f"Agreed prices indexed from {e.year}-01-01 by {e.source.value}'s estimate "
        f"(edition {e.edition}): {', '.join(parts)}"
    )


def _notice(e: Contract.NoticeGiven, _: _Story) -> str:
    return (
        f"{_sentence(_party(e.given_by))} gave notice on {e.given_on}; "
        f"the notice period ends on {e.last_day}"
    )


def _reoccupied(e: Contract.PlaceReoccupied, _: _Story) -> str:
    return f"The provider reported the place re-occupied from {e.reoccupied_on}"


def _payment_end(e: Contract.PaymentEndAgreed, _: _Story) -> str:
    return f"The parties agreed that payment ends on {e.payment_end} (agreement {e.agreement_ref})"


def _follow_up(e: Contract.FollowUpHeld, _: _Story) -> str:
    return f"Follow-up on line {e.line_id} held on {e.held_on}"


def _respite(e: Contract.RespiteDaysUsed, _: _Story) -> str:
    # "døgn" is the same in singular and plural.
    return f"{len(e.days)} respite døgn used on line {e.line_id} in {e.month:%Y-%m}"


DESCRIBERS: dict[type[Any], Describer] = {
    Contract.Drafted: _drafted,
    Contract.ServiceLineAdded: _line_added,
    Contract.ProvisionalStepRevised: _provisional,
    Contract.PlaceOffered: _offered,
    Contract.PlacementFinalised: _finalised,
    Contract.Signed: _signed,
    Contract.StepChanged: _step_changed,
    Contract.RenegotiationRequested: _renegotiation_requested,
    Contract.RenegotiationAnswered: _renegotiation_answered,
    Contract.AllongeAdded: _allonge,
    Contract.AbsenceStarted: _absence_started,
    Contract.AbsenceNotified: _absence_notified,
    Contract.AbsenceEnded: _absence_ended,
    Contract.NonDeliveryReported: _non_delivery,
    Contract.ForceMajeureDeclared: _force_majeure,
    Contract.RescindedWithoutNotice: _rescinded,
    Contract.FrameworkChangeNotified: _framework,
    Contract.RegulatedByTariffSheet: _regulated_by_sheet,
    Contract.RegulatedByIndex: _regulated_by_index,
    Contract.NoticeGiven: _notice,
    Contract.PlaceReoccupied: _reoccupied,
    Contract.PaymentEndAgreed: _payment_end,
    Contract.FollowUpHeld: _follow_up,
    Contract.RespiteDaysUsed: _respite,
}
"""The describer of each contract event class; a test fails when a class is missing."""
