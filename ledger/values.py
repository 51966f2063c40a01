"""Value objects shared by the aggregates: parties, terms, service lines, actors.

Values are frozen dataclasses and string enums, so that events carrying them
are immutable and transcode to JSON by :mod:`ledger.transcoding`. Sequences
inside values are tuples (the transcoder turns JSON lists back into tuples).

Personal data never appears here: a citizen is a pseudonymous id; CPR and name
live in the citizen register.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Party(Enum):
    """The two contract parties (Bilag 1 pkt. 2 and 3)."""

    BUYER = "buyer"  # køber, the handlekommune
    PROVIDER = "provider"  # leverandør, the tilbud

    @property
    def other(self) -> Party:
        """The counterparty."""
        return Party.PROVIDER if self is Party.BUYER else Party.BUYER


class Role(Enum):
    """What an authenticated caller is allowed to be."""

    BUYER_ADMIN = "buyer-admin"
    PROVIDER_ADMIN = "provider-admin"
    AUDITOR = "auditor"
    OPERATOR = "operator"  # ops scripts and demo loading; acts for either party


@dataclass(frozen=True)
class Actor:
    """Who did it: recorded with every event (architecture section 8)."""

    organisation: str  # CVR of the municipality or provider, or "system"
    role: Role
    key_id: str
    request_id: str


class Operator(Enum):
    """Driftsherre of the offer (pkt. 3); chooses the PL index source (pkt. 8)."""

    MUNICIPAL = "municipal"  # kommunalt tilbud -> KL's estimate
    REGIONAL = "regional"  # regionalt tilbud -> Danske Regioner's estimate


@dataclass(frozen=True)
class Municipality:
    """A municipality as a contract party: the buyer or the paying municipality."""

    name: str
    cvr: str
    ean: str  # electronic invoicing address (pkt. 6)


@dataclass(frozen=True)
class Provider:
    """The tilbud (pkt. 3). ``offer`` keys its tariff sheets."""

    offer: str  # stable offer code, e.g. "slotsvaenget-stottepakken"
    name: str
    registration: str  # CVR number or P-number
    operator: Operator


class Unit(Enum):
    """The unit a line's quantity is expressed in (pkt. 5 "Antal")."""

    HOURS_PER_WEEK = "hours-per-week"
    DAYS_PER_WEEK = "days-per-week"
    DAYS_PER_YEAR = "days-per-year"  # respite (aflastning) is granted in døgn per year
    PLACE = "place"  # a residential place (døgn)


class Pricing(Enum):
    """Where a line's component prices come from (architecture section 4)."""

    TARIFF_SHEET = "tariff-sheet"  # the offer's annual takstblad
    AGREED = "agreed"  # særforanstaltning: prices agreed in the contract


@dataclass(frozen=True)
class ServiceLineSpec:
    """One indsats of pkt. 5 as the parties wrote it down.

    ``step`` is a code of the line's tariff model (G7: always present, also on
    §104 lines). ``agreed_prices`` holds daily DKK per component for
    særforanstaltninger; it is empty for tariff-sheet lines.
    """

    paragraph: str  # e.g. "SEL §85", "ABL §105/SEL §85", "SEL §104"
    tariff_model: str
    step: str
    quantity: Decimal
    unit: Unit
    start: dt.date
    end: dt.date | None = None
    first_follow_up: dt.date | None = None
    dwelling_address: str | None = None
    pricing: Pricing = Pricing.TARIFF_SHEET
    agreed_prices: tuple[ComponentPrice, ...] = ()
    respite: bool = False
    allow_unconfirmed_step: bool = False  # G5: Gentofte steps 25-27


@dataclass(frozen=True)
class ComponentPrice:
    """A daily DKK price of one component (basis, service, night, ...)."""

    component: str
    daily: Decimal


class PaymentOption(Enum):
    """Betalingsforpligtelsen i opsigelsesperioden, pkt. 9 (exactly one)."""

    ENDS_WHEN_REOCCUPIED = "1"  # bortfalder, idet en opsagt plads bliver besat
    CONTINUES_N_DAYS_AFTER_REOCCUPIED = "2"  # fortsætter N dage efter besættelse
    CONTINUES_WHOLE_NOTICE = "3"  # fortsætter i hele varslingsperioden
    OTHER = "4"  # andet: agreed by hand


class RespiteBasis(Enum):
    """How respite døgn are settled (pkt. 5)."""

    GRANTED_DAYS = "granted"
    USED_DAYS = "used"


class DataRole(Enum):
    """The provider's role under GDPR (pkt. 17)."""

    INDEPENDENT_CONTROLLER = "independent-controller"
    PROCESSOR = "processor"
    PROCESSOR_UNDER_EXISTING_DPA = "processor-under-existing-dpa"


@dataclass(frozen=True)
class NoticePeriod:
    """A notice period (pkt. 9; the number comes from the rammeaftale, G11).

    The last day of notice is ``given_on`` plus ``months`` calendar months
    (clamped to the month's end) plus ``days`` days.
    """

    months: int = 0
    days: int = 0

    def last_day(self, given_on: dt.date) -> dt.date:
        """The last day of a notice period that starts on ``given_on``."""
        return add_months(given_on, self.months) + dt.timedelta(days=self.days)

    @property
    def is_defined(self) -> bool:
        """Whether the period is longer than nothing."""
        return self.months > 0 or self.days > 0


@dataclass(frozen=True)
class Terms:
    """The contract terms of pkt. 5, 9, 15 and 17."""

    payment_option: PaymentOption
    notice_period: NoticePeriod
    data_role: DataRole
    payment_days_after_reoccupation: int | None = None  # N of option 2
    payment_other_text: str | None = None  # text of option 4
    respite_basis: RespiteBasis | None = None
    dpa_reference: str | None = None  # required before signing when processor
    dpa_municipality: str | None = None  # option 3 of pkt. 17
    other_agreements: str = ""  # pkt. 15, verbatim


class RequestNature(Enum):
    """Lasting or temporary change in need (pkt. 16)."""

    LASTING = "lasting"  # vedblivende karakter
    TEMPORARY = "temporary"  # midlertidig karakter: not a ground


class AbsenceKind(Enum):
    """The absences pkt. 14 requires the provider to notify."""

    HOSPITAL = "hospital"  # sygehusindlæggelse
    PRISON = "prison"  # fængsling
    CUSTODY = "custody"  # surrogatfængsling


class RescissionGround(Enum):
    """Grounds for ending the contract without notice (pkt. 10)."""

    NON_DELIVERY = "non-delivery"  # buyer only; cause not related to the citizen
    FORCE_MAJEURE = "force-majeure"  # either party


class IndexSource(Enum):
    """Publisher of the price-and-wage estimate (pkt. 8)."""

    KL = "KL"  # municipal offers
    DANSKE_REGIONER = "Danske Regioner"  # regional offers


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months, clamped to the month's last day."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


ZERO = Decimal(0)
OERE = Decimal("0.01")
