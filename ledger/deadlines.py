"""Deadlines: what a party must do by when, derived from a contract's state.

Everything here is a pure function of a :class:`~ledger.contract.Contract`:
no clock, no I/O. The day to judge a deadline on is always a parameter
(``today``), so a projection can compute the same rows on every replay and
ask for their status on any day.

Counting (G1): deadlines run in calendar days, with no roll-forward over
weekends or holidays, and expire at the end of their due day. So on the due
day a deadline is still open (or met, if the act was done that day); the day
after, an act not yet done is overdue and an act done later was missed.

Status of an act (:meth:`Deadline.status`): done on or before the due day
``MET``; done after it ``MISSED``; not done and the due day not passed
``OPEN``; not done and the due day passed ``OVERDUE``. An act dated after the
day asked about has not happened yet on that day, so a contract replayed with
an earlier ``today`` shows the deadline as it stood then.

Milestones are dates that pass, not acts: the end of the notice period and the
end of the payment obligation (pkt. 9). Nobody can miss them; they are
``OPEN`` up to and including their day and ``MET`` (on that day) afterwards.
They are never ``MISSED`` or ``OVERDUE``.

The kinds and their rules:

* Renegotiation answer (Bilag 1 pkt. 16): the party that did not ask answers
  within 30 days of receiving the request. One row per request; an answer
  after the due day is recorded and the deadline is missed (G2).
* Absence notice (Bilag 1 pkt. 14): the provider notifies a hospitalisation,
  imprisonment or custody no later than 7 days after it began. G16: the duty
  covers absences still ongoing on day 7, so an absence that ended before its
  due day without being notified has no deadline at all.
* Follow-up (Takstmodel 4.5, G20): once the contract binds (both signatures,
  pkt. 18), each service line is followed up at the latest 3 months after it
  starts, or on its "Første opfølgningsdato" (pkt. 5) when the contract sets
  one, and then at least every 12 months after the last follow-up held. The
  buyer calls follow-up meetings (Bilag 1, Dokumentationskrav til køber). The
  chain stops with the last held follow-up when the next one would fall after
  the line's last day (its end, or the contract's last day of delivery).
* Notice period end and payment end (Bilag 1 pkt. 9, G14): milestones, see
  above. The payment end follows the contract's payment option; a rescission
  without notice (pkt. 10) ends payment the day before it takes effect.
* Rammeaftale notice (Bilag 1 pkt. 4): the provider must notify a revised
  rammeaftale by 1 December of the year it is adopted. There is one such
  deadline for every year the contract is in force, so the rows form an
  open-ended series: :class:`FrameworkSchedule` describes it and yields the
  rows for the years a caller asks for. Only contracts with tariff-sheet lines
  fall under the rammeaftale; særforanstaltninger with agreed prices do not.

No row ever triggers after it is due: where the trigger would be later (a
payment that ends before the act that ended it), it is moved to the due day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from ledger.contract import Contract, ServiceLine
from ledger.values import Party, Pricing, add_months

FOLLOW_UP_FIRST_MONTHS = 3  # LTK kvalitetsstandard: "senest efter tre måneder" (G20)
FOLLOW_UP_INTERVAL_MONTHS = 12  # ... "minimum en gang om året"
FRAMEWORK_DUE_MONTH = 12  # pkt. 4: "senest den 1. december i året for vedtagelsen"
FRAMEWORK_DUE_DAY = 1

RENEGOTIATION_CLAUSE = "Bilag 1 pkt. 16"
ABSENCE_CLAUSE = "Bilag 1 pkt. 14"
FRAMEWORK_CLAUSE = "Bilag 1 pkt. 4"
FOLLOW_UP_CLAUSE = "Bilag 1 pkt. 5 / LTK kvalitetsstandard (G20)"
NOTICE_CLAUSE = "Bilag 1 pkt. 9"
PAYMENT_END_CLAUSE = "Bilag 1 pkt. 9 (G14)"


class DeadlineKind(Enum):
    """What a deadline is about (values are stable strings for read models)."""

    RENEGOTIATION_ANSWER = "renegotiation-answer"  # pkt. 16
    ABSENCE_NOTICE = "absence-notice"  # pkt. 14
    FRAMEWORK_NOTICE = "framework-notice"  # pkt. 4
    FOLLOW_UP = "follow-up"  # section 4.5, G20
    NOTICE_PERIOD_END = "notice-period-end"  # pkt. 9
    PAYMENT_END = "payment-end"  # pkt. 9


class DeadlineStatus(Enum):
    """Where a deadline stands on a given day (see :meth:`Deadline.status`)."""

    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Deadline:
    """One deadline of one contract: who must act, from when, by when, and when they did.

    ``key`` is unique within the contract and the same on every replay, so a
    read model can upsert by it. ``milestone`` marks a date that passes rather
    than an act (the module docstring explains the difference).
    """

    key: str
    kind: DeadlineKind
    party: Party  # who must act
    trigger_on: dt.date
    due_on: dt.date
    done_on: dt.date | None  # the day the act was done (None: not yet)
    clause: str
    line_id: str | None = None
    milestone: bool = False

    def status(self, today: dt.date) -> DeadlineStatus:
        """The status on ``today``; the deadline expires at the end of its due day (G1)."""
        if self.milestone:
            return DeadlineStatus.OPEN if today <= self.due_on else DeadlineStatus.MET
        done = self._done_by(today)
        if done is not None:
            return DeadlineStatus.MET if done <= self.due_on else DeadlineStatus.MISSED
        return DeadlineStatus.OPEN if today <= self.due_on else DeadlineStatus.OVERDUE

    def met_on(self, today: dt.date) -> dt.date | None:
        """The day the deadline was met, if it is met on ``today`` (a milestone: its day)."""
        if self.status(today) is not DeadlineStatus.MET:
            return None
        return self.due_on if self.milestone else self._done_by(today)

    def _done_by(self, today: dt.date) -> dt.date | None:
        """The act's day, if it had been done by ``today``."""
        if self.done_on is None or self.done_on > today:
            return None
        return self.done_on


def contract_deadlines(contract: Contract) -> list[Deadline]:
    """Every deadline of ``contract`` except the rammeaftale series, by (due_on, key).

    The rammeaftale notices (pkt. 4) recur every year without end; ask
    :class:`FrameworkSchedule` for the years you need.
    """
    rows = [
        *_renegotiation_answers(contract),
        *_absence_notices(contract),
        *_follow_ups(contract),
        *_termination_milestones(contract),
    ]
    return sorted(rows, key=lambda row: (row.due_on, row.key))


@dataclass(frozen=True)
class FrameworkSchedule:
    """The yearly rammeaftale notice deadlines of a contract (pkt. 4).

    ``first_year`` is the year the contract became binding, or the next year
    when it bound after 1 December (that year's deadline had passed before the
    contract existed). ``last_year`` is the year of the contract's last day of
    delivery (or of payment), None while the contract runs without notice.
    ``notices`` holds the earliest notice received for each adoption year.
    ``bound_on`` is the day the later signature was given: the first year's
    deadline starts then rather than on 1 January.
    """

    first_year: int
    last_year: int | None  # None: open-ended
    notices: tuple[tuple[int, dt.date], ...]  # (adoption_year, received_on), by year
    bound_on: dt.date | None = None

    @classmethod
    def from_contract(cls, contract: Contract) -> FrameworkSchedule | None:
        """The schedule of a binding contract with a tariff-sheet line, else None.

        Særforanstaltninger whose prices are agreed in the contract are outside
        the rammeaftale, so a contract with only such lines has no schedule.
        """
        if not contract.is_binding:
            return None
        if not any(line.spec.pricing is Pricing.TARIFF_SHEET for line in contract.lines.values()):
            return None
        bound_on = max(contract.signatures.values())
        first_year = bound_on.year
        if bound_on > _framework_due(first_year):
            first_year += 1
        end = contract.delivery_end or contract.payment_end
        earliest: dict[int, dt.date] = {}
        for notice in contract.framework_notices:
            known = earliest.get(notice.adoption_year)
            if known is None or notice.received_on < known:
                earliest[notice.adoption_year] = notice.received_on
        return cls(
            first_year=first_year,
            last_year=end.year if end is not None else None,
            notices=tuple(sorted(earliest.items())),
            bound_on=bound_on,
        )

    def years(self, until_year: int) -> range:
        """The years with a deadline, from ``first_year`` to ``until_year`` or ``last_year``."""
        last = until_year if self.last_year is None else min(self.last_year, until_year)
        return range(self.first_year, last + 1)

    def covers(self, year: int) -> bool:
        """Whether the contract owes a rammeaftale notice deadline in ``year``."""
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)

    def deadlines(self, years: Iterable[int]) -> list[Deadline]:
        """The deadlines of ``years`` (each once; years outside the schedule are skipped)."""
        received = dict(self.notices)
        rows = [
            Deadline(
                key=f"framework:{year}",
                kind=DeadlineKind.FRAMEWORK_NOTICE,
                party=Party.PROVIDER,
                trigger_on=self._trigger_on(year),
                due_on=_framework_due(year),
                done_on=received.get(year),
                clause=FRAMEWORK_CLAUSE,
            )
            for year in sorted(set(years))
            if self.covers(year)
        ]
        return sorted(rows, key=lambda row: (row.due_on, row.key))

    def _trigger_on(self, year: int) -> dt.date:
        new_year = dt.date(year, 1, 1)
        if self.bound_on is None:
            return new_year
        return max(new_year, self.bound_on)


# --- the kinds ------------------------------------------------------------------


def _renegotiation_answers(contract: Contract) -> Iterator[Deadline]:
    for request in contract.renegotiations.values():
        yield Deadline(
            key=f"renegotiation:{request.request_id}",
            kind=DeadlineKind.RENEGOTIATION_ANSWER,
            party=request.requested_by.other,
            trigger_on=request.received_on,
            due_on=request.due_on,
            done_on=request.answered_on,
            clause=RENEGOTIATION_CLAUSE,
            line_id=request.line_id,
        )


def _absence_notices(contract: Contract) -> Iterator[Deadline]:
    for absence in contract.absences.values():
        due_on = absence.notice_due_on
        over_before_due = absence.ended_on is not None and absence.ended_on < due_on
        if absence.notified_on is None and over_before_due:
            continue  # G16: only absences still ongoing on the due day must be notified
        yield Deadline(
            key=f"absence:{absence.absence_id}",
            kind=DeadlineKind.ABSENCE_NOTICE,
            party=Party.PROVIDER,
            trigger_on=absence.started_on,
            due_on=due_on,
            done_on=absence.notified_on,
            clause=ABSENCE_CLAUSE,
        )


def _follow_ups(contract: Contract) -> Iterator[Deadline]:
    if not contract.is_binding:
        return
    for line in contract.lines.values():
        ends = [day for day in (line.spec.end, contract.delivery_end) if day is not None]
        yield from _line_follow_ups(line, min(ends) if ends else None)


def _line_follow_ups(line: ServiceLine, last_day: dt.date | None) -> Iterator[Deadline]:
    """The chain of one line: each follow-up held opens the next (G20)."""
    held = sorted(line.follow_ups)
    spec = line.spec
    trigger_on = spec.start
    due_on = spec.first_follow_up or add_months(spec.start, FOLLOW_UP_FIRST_MONTHS)
    number = 1
    while True:
        done_on = held[number - 1] if number <= len(held) else None
        if done_on is None and last_day is not None and due_on > last_day:
            return  # the line ends before the next follow-up falls due
        yield Deadline(
            key=f"follow-up:{line.line_id}:{number}",
            kind=DeadlineKind.FOLLOW_UP,
            party=Party.BUYER,
            trigger_on=trigger_on,
            due_on=due_on,
            done_on=done_on,
            clause=FOLLOW_UP_CLAUSE,
            line_id=line.line_id,
        )
        if done_on is None:
            return
        trigger_on = done_on
        due_on = add_months(done_on, FOLLOW_UP_INTERVAL_MONTHS)
        number += 1


def _termination_milestones(contract: Contract) -> Iterator[Deadline]:
    notice = contract.notice
    if notice is not None:
        yield Deadline(
            key="notice-end",
            kind=DeadlineKind.NOTICE_PERIOD_END,
            party=Party.PROVIDER,  # it keeps delivering until then
            trigger_on=notice.given_on,
            due_on=notice.last_day,
            done_on=None,
            clause=NOTICE_CLAUSE,
            milestone=True,
        )
    payment_end = contract.payment_end
    if payment_end is None:
        return
    if notice is not None:
        anchor = notice.given_on
    elif contract.rescission is not None:
        anchor = contract.rescission.effective_on
    else:  # pragma: no cover - payment_end needs a notice or a rescission
        anchor = payment_end
    yield Deadline(
        key="payment-end",
        kind=DeadlineKind.PAYMENT_END,
        party=Party.BUYER,
        trigger_on=min(anchor, payment_end),
        due_on=payment_end,
        done_on=None,
        clause=PAYMENT_END_CLAUSE,
        milestone=True,
    )


def _framework_due(year: int) -> dt.date:
    return dt.date(year, FRAMEWORK_DUE_MONTH, FRAMEWORK_DUE_DAY)
