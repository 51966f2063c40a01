"""Every error the domain raises, each naming the rule and clause it enforces.

The tree::

    LedgerError                      base; ``rule`` (stable code), ``clause``
    ├── InvalidValue                 a value is malformed (maps to HTTP 422)
    │   ├── InvalidIdentifier        CPR, CVR, P-number or EAN fails its check
    │   └── InvalidSchedule          a Bilag 3 day schedule is malformed
    ├── NotFound                     (HTTP 404)
    │   ├── ContractNotFound
    │   ├── TariffSheetNotFound
    │   ├── CitizenNotFound
    │   ├── UnknownTariffModel
    │   ├── UnknownStep
    │   ├── UnknownServiceLine
    │   ├── UnknownRenegotiation
    │   └── UnknownAbsence
    ├── RuleViolation                a command breaks a contract rule (HTTP 409)
    │   └── (one subclass per rule, below)
    ├── NotPermitted                 the caller may not act for that party (HTTP 403)
    └── ConcurrencyConflict          the aggregate changed since it was read
                                     (HTTP 409/412)

A rejected command records nothing: every check runs before the first event
is triggered. The API layer maps this tree to problem documents in one place.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base of all domain errors."""

    rule: ClassVar[str] = "ledger-error"
    clause: ClassVar[str] = ""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        """Create the error; ``field`` names the offending input when there is one."""
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        """The message, prefixed by the clause when the error has one."""
        return f"{self.message} ({self.clause})" if self.clause else self.message


# --- malformed values -------------------------------------------------------


class InvalidValue(LedgerError):
    """Raised when a value is malformed, before any rule is considered."""

    rule = "invalid-value"


class InvalidIdentifier(InvalidValue):
    """Raised when a CPR, CVR, P-number or EAN number fails validation."""

    rule = "invalid-identifier"


class InvalidSchedule(InvalidValue):
    """Raised when a Bilag 3 day schedule has impossible minutes or ratios."""

    rule = "invalid-schedule"
    clause = "Takstmodel Bilag 3"


# --- things that do not exist -----------------------------------------------


class NotFound(LedgerError):
    """Raised when a referenced thing does not exist."""

    rule = "not-found"


class ContractNotFound(NotFound):
    """Raised when no contract has the given id."""

    rule = "contract-not-found"


class InvoiceNotFound(NotFound):
    """Raised when no invoice exists for the buyer and month."""

    rule = "invoice-not-found"


class BuyerNotFound(NotFound):
    """Raised when no billed contract has the given buyer EAN."""

    rule = "buyer-not-found"


class TariffSheetNotFound(NotFound):
    """Raised when an offer has no tariff sheet for the year a price needs."""

    rule = "tariff-sheet-not-found"
    clause = "G3"


class CitizenNotFound(NotFound):
    """Raised when the citizen register has no row for a pseudonymous id."""

    rule = "citizen-not-found"


class UnknownTariffModel(NotFound):
    """Raised when a tariff model code is not one of the known models."""

    rule = "unknown-tariff-model"


class UnknownStep(NotFound):
    """Raised when a step code does not exist in the line's tariff model."""

    rule = "unknown-step"


class UnknownServiceLine(NotFound):
    """Raised when a command names a service line the contract does not have."""

    rule = "unknown-service-line"
    clause = "Bilag 1 pkt. 5"


class UnknownRenegotiation(NotFound):
    """Raised when an answer names a renegotiation request that does not exist."""

    rule = "unknown-renegotiation"
    clause = "Bilag 1 pkt. 16"


class UnknownAbsence(NotFound):
    """Raised when a command names an absence the contract does not have."""

    rule = "unknown-absence"
    clause = "Bilag 1 pkt. 14"


# --- rule violations --------------------------------------------------------


class RuleViolation(LedgerError):
    """Raised when a command would break a rule of the contract or model."""

    rule = "rule-violation"


class NotPermitted(LedgerError):
    """Raised when the caller's role or organisation may not act for that party."""

    rule = "not-permitted"


class ConcurrencyConflict(LedgerError):
    """Raised when the aggregate's version is not the one the caller read."""

    rule = "concurrent-modification"


class StepUnconfirmed(RuleViolation):
    """Raised when a Gentofte step 25-27 is used without explicit permission."""

    rule = "step-unconfirmed"
    clause = "G5"


class Section85RequiresSection104(RuleViolation):
    """Raised when a Støttepakken §85 line would exist without a §104 line."""

    rule = "section-85-requires-section-104"
    clause = "Takstmodel Slotsvænget 1.1"


class IncompleteTariffSheet(RuleViolation):
    """Raised when a tariff sheet misses a step or component of its model."""

    rule = "tariff-sheet-incomplete"
    clause = "G3"


class NonPositivePrice(RuleViolation):
    """Raised when a price is zero or negative."""

    rule = "price-not-positive"
    clause = "Bilag 1 pkt. 5"


class TariffSheetAlreadyPublished(RuleViolation):
    """Raised when a second sheet is published for the same offer and year."""

    rule = "tariff-sheet-already-published"
    clause = "G3"


class TermsIncomplete(RuleViolation):
    """Raised when a contract term the documents leave to the parties is missing."""

    rule = "terms-incomplete"
    clause = "G11, G19"


class PlacementAlreadyFinal(RuleViolation):
    """Raised when a provisional-only action is tried after the placement is final."""

    rule = "placement-already-final"
    clause = "Takstmodel 4.1"


class PlacementNotFinal(RuleViolation):
    """Raised when an action needs a final placement (e.g. signing)."""

    rule = "placement-not-final"
    clause = "Takstmodel 4.1"


class PlaceAlreadyOffered(RuleViolation):
    """Raised when the place is offered a second time."""

    rule = "place-already-offered"
    clause = "Takstmodel 4.1"


class PlaceAlreadyReoccupied(RuleViolation):
    """Raised when the re-occupation of a terminated place is recorded twice."""

    rule = "place-already-reoccupied"
    clause = "Bilag 1 pkt. 9"


class PlaceNotOffered(RuleViolation):
    """Raised when the placement is made final before the place was offered."""

    rule = "place-not-offered"
    clause = "Takstmodel 4.1"


class AlreadySigned(RuleViolation):
    """Raised when a party signs a contract it has already signed."""

    rule = "already-signed"
    clause = "Bilag 1 pkt. 18"


class DataProcessorAgreementMissing(RuleViolation):
    """Raised when a processor signs without a referenced data processing agreement."""

    rule = "dpa-missing"
    clause = "Bilag 1 pkt. 17"


class ContractEnded(RuleViolation):
    """Raised when a command needs a running contract but it has ended."""

    rule = "contract-ended"
    clause = "Bilag 1 pkt. 9"


class DateOutOfOrder(RuleViolation):
    """Raised when a business date comes before the date it must follow."""

    rule = "date-out-of-order"


class TemporaryChangeNotAGround(RuleViolation):
    """Raised when a renegotiation is requested for a temporary change in need."""

    rule = "temporary-change-not-a-ground"
    clause = "Bilag 1 pkt. 16"


class RenegotiationAlreadyOpen(RuleViolation):
    """Raised when a line already has an unanswered renegotiation request."""

    rule = "renegotiation-already-open"
    clause = "Bilag 1 pkt. 16"


class RenegotiationAlreadyAnswered(RuleViolation):
    """Raised when a renegotiation request is answered twice."""

    rule = "renegotiation-already-answered"
    clause = "Bilag 1 pkt. 16"


class WrongParty(RuleViolation):
    """Raised when the clause gives the action to the other party."""

    rule = "wrong-party"


class WrittenAgreementRequired(RuleViolation):
    """Raised when a price or step change has no reference to a written agreement."""

    rule = "written-agreement-required"
    clause = "Bilag 1 pkt. 16"


class NothingChanges(RuleViolation):
    """Raised when a proposed change equals what is already agreed."""

    rule = "nothing-changes"
    clause = "Bilag 1 pkt. 16"


class AbsenceAlreadyOpen(RuleViolation):
    """Raised when an absence starts while another is still open."""

    rule = "absence-already-open"
    clause = "Bilag 1 pkt. 14"


class AbsenceAlreadyEnded(RuleViolation):
    """Raised when an ended absence is ended or notified again."""

    rule = "absence-already-ended"
    clause = "Bilag 1 pkt. 14"


class AbsenceAlreadyNotified(RuleViolation):
    """Raised when an absence is notified twice."""

    rule = "absence-already-notified"
    clause = "Bilag 1 pkt. 14"


class RescissionNotAllowed(RuleViolation):
    """Raised when a contract is rescinded without notice without a pkt. 10 ground."""

    rule = "rescission-not-allowed"
    clause = "Bilag 1 pkt. 10"


class RegulationAlreadyApplied(RuleViolation):
    """Raised when a year's annual regulation is recorded twice."""

    rule = "regulation-already-applied"
    clause = "Bilag 1 pkt. 8"


class RegulationNotApplicable(RuleViolation):
    """Raised when the regulation basis does not fit the line's pricing."""

    rule = "regulation-not-applicable"
    clause = "Bilag 1 pkt. 8"


class WrongIndexSource(RuleViolation):
    """Raised when the PL index source does not match the provider's operator."""

    rule = "wrong-index-source"
    clause = "Bilag 1 pkt. 8"


class BuyerAcceptanceRequired(RuleViolation):
    """Raised when a price change beyond PL indexation lacks the buyer's acceptance."""

    rule = "buyer-acceptance-required"
    clause = "Bilag 1 pkt. 8"


class NoticeAlreadyGiven(RuleViolation):
    """Raised when notice is given on a contract already under notice."""

    rule = "notice-already-given"
    clause = "Bilag 1 pkt. 9"


class NotUnderNotice(RuleViolation):
    """Raised when a notice-period action is taken on a contract not under notice."""

    rule = "not-under-notice"
    clause = "Bilag 1 pkt. 9"


class PaymentEndNotManual(RuleViolation):
    """Raised when a payment end is agreed by hand although option 1-3 decides it."""

    rule = "payment-end-not-manual"
    clause = "Bilag 1 pkt. 9"


__all__ = [name for name in dir() if not name.startswith("_")]


class NotARespiteLine(RuleViolation):
    """Raised when used respite døgn are recorded on a line that is not respite."""

    rule = "not-a-respite-line"
    clause = "Bilag 1 pkt. 5"


class InvoicesOutOfOrder(RuleViolation):
    """Raised when a buyer's invoice is issued for a month before one already invoiced.

    Adjustments compare every month since the buyer's first invoice with what
    was billed; issuing out of order would let a correction slip between them.
    """

    rule = "invoices-in-month-order"
    clause = "Bilag 1 pkt. 6 (G12)"


class InvoiceTooEarly(RuleViolation):
    """Raised when a month is invoiced more than one month ahead (G12)."""

    rule = "invoice-month-too-far-ahead"
    clause = "Bilag 1 pkt. 6 (G12)"
