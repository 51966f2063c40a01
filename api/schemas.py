"""Request and response bodies of the contract API, with the Danish term of each field.

Bodies are validated here (shape, types, check digits). The ledger then
checks the contract's rules. Identifiers are checked with python-stdnum
through :mod:`ledger.identifiers`, and a bad check digit is a 422 naming the
field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledger import errors
from ledger.contract import Contract
from ledger.identifiers import validate_cvr, validate_ean
from ledger.pricing import PricePeriod
from ledger.values import (
    ComponentPrice,
    DataRole,
    Municipality,
    NoticePeriod,
    Operator,
    PaymentOption,
    Pricing,
    Provider,
    RespiteBasis,
    ServiceLineSpec,
    Terms,
    Unit,
)

Money = Decimal


class Body(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


def _checked(check: Any, value: str) -> str:  # noqa: ANN401 - a stdnum wrapper
    try:
        return str(check(value))
    except errors.LedgerError as error:
        raise ValueError(error.message) from None


class MunicipalityIn(Body):
    """A municipality: the buyer (handlekommune) or the paying municipality."""

    name: str = Field(min_length=1, description="Name (navn)", examples=["Demo Nord Kommune"])
    cvr: str = Field(description="CVR number (CVR-nummer), 8 digits", examples=["29189919"])
    ean: str = Field(
        description="EAN location number for e-invoices (EAN-nummer, pkt. 6)",
        examples=["5798000000018"],
    )

    @field_validator("cvr")
    @classmethod
    def _cvr(cls, value: str) -> str:
        return _checked(validate_cvr, value)

    @field_validator("ean")
    @classmethod
    def _ean(cls, value: str) -> str:
        return _checked(validate_ean, value)

    def value(self) -> Municipality:
        """The ledger's value."""
        return Municipality(self.name, self.cvr, self.ean)


class ProviderIn(Body):
    """The offer (tilbud, leverandør) of pkt. 3."""

    offer: str = Field(
        min_length=1,
        description="Stable offer code; keys its tariff sheets (takstblade)",
        examples=["slotsvaenget-stottepakken"],
    )
    name: str = Field(
        min_length=1, description="Name of the offer (tilbuddets navn)", examples=["Støttepakken"]
    )
    registration: str = Field(
        description="The provider's CVR or P-number (CVR-/P-nummer)", examples=["11715311"]
    )
    operator: Operator = Field(description="Driftsherre: municipal or regional")

    def value(self) -> Provider:
        """The ledger's value."""
        return Provider(self.offer, self.name, self.registration, self.operator)


class ComponentPriceIn(Body):
    """A daily price of one component (e.g. basistakst, servicetakst)."""

    component: str = Field(
        min_length=1, description="Price component (takstkomponent)", examples=["basis"]
    )
    daily: Money = Field(gt=0, description="DKK per day (døgnpris)", examples=["734.56"])


class ServiceLineIn(Body):
    """A service line (indsats) of pkt. 5."""

    paragraph: str = Field(min_length=1, description="Legal basis (paragraf)", examples=["SEL §85"])
    tariff_model: str = Field(
        min_length=1, description="Tariff model code (takstmodel)", examples=["slotsvaenget-85"]
    )
    step: str = Field(min_length=1, description="Tariff step (takstniveau, trin)", examples=["3"])
    quantity: Decimal = Field(gt=0, description="Amount (antal) in ``unit``", examples=["1"])
    unit: Unit = Field(description="Unit of ``quantity`` (enhed)")
    start: dt.date = Field(
        description="First day of the service (startdato)", examples=["2025-03-01"]
    )
    end: dt.date | None = Field(
        None, description="Last day, when agreed (slutdato)", examples=["2025-12-31"]
    )
    first_follow_up: dt.date | None = Field(
        None, description="First follow-up (opfølgning)", examples=["2025-06-01"]
    )
    dwelling_address: str | None = Field(
        None, description="Address of the dwelling (bolig)", examples=["Slotsvænget 1, 2820"]
    )
    pricing: Pricing = Field(
        Pricing.TARIFF_SHEET, description="tariff-sheet, or agreed (særforanstaltning)"
    )
    agreed_prices: list[ComponentPriceIn] = Field(
        default_factory=list, description="Agreed daily prices (særforanstaltning) only"
    )
    respite: bool = Field(
        default=False, description="A respite line (aflastning), in døgn per year"
    )
    allow_unconfirmed_step: bool = Field(default=False, description="G5: Gentofte steps 25-27")

    def value(self) -> ServiceLineSpec:
        """The ledger's value."""
        return ServiceLineSpec(
            paragraph=self.paragraph,
            tariff_model=self.tariff_model,
            step=self.step,
            quantity=self.quantity,
            unit=self.unit,
            start=self.start,
            end=self.end,
            first_follow_up=self.first_follow_up,
            dwelling_address=self.dwelling_address,
            pricing=self.pricing,
            agreed_prices=tuple(ComponentPrice(p.component, p.daily) for p in self.agreed_prices),
            respite=self.respite,
            allow_unconfirmed_step=self.allow_unconfirmed_step,
        )


class NoticePeriodIn(Body):
    """The notice period (opsigelsesvarsel, pkt. 9)."""

    months: int = Field(0, ge=0, le=24, description="Whole months (måneder)", examples=[3])
    days: int = Field(0, ge=0, le=366, description="Days (dage)", examples=[0])


class TermsIn(Body):
    """The contract terms of pkt. 5, 9, 15 and 17."""

    payment_option: PaymentOption = Field(
        description="Payment during notice (betalingsforpligtelse, pkt. 9): option 1-4"
    )
    notice_period: NoticePeriodIn = Field(description="Notice period (opsigelsesvarsel)")
    data_role: DataRole = Field(description="The provider's GDPR role (dataansvar, pkt. 17)")
    payment_days_after_reoccupation: int | None = Field(
        None, ge=0, description="N of payment option 2 (antal dage)", examples=[14]
    )
    payment_other_text: str | None = Field(
        None, description="Text of payment option 4 (andet)", examples=["Agreed case by case"]
    )
    respite_basis: RespiteBasis | None = Field(
        None, description="Respite billed on granted or used døgn (pkt. 5)"
    )
    dpa_reference: str | None = Field(
        None,
        description="Data processing agreement reference (databehandleraftale)",
        examples=["DBA-2025-3"],
    )
    dpa_municipality: str | None = Field(
        None,
        description="Municipality whose data processing agreement applies",
        examples=["Demo Nord Kommune"],
    )
    other_agreements: str = Field(
        "",
        description="Other agreements (andre aftaler, pkt. 15), verbatim",
        examples=["Transport to day service is included"],
    )

    def value(self) -> Terms:
        """The ledger's value."""
        return Terms(
            payment_option=self.payment_option,
            notice_period=NoticePeriod(self.notice_period.months, self.notice_period.days),
            data_role=self.data_role,
            payment_days_after_reoccupation=self.payment_days_after_reoccupation,
            payment_other_text=self.payment_other_text,
            respite_basis=self.respite_basis,
            dpa_reference=self.dpa_reference,
            dpa_municipality=self.dpa_municipality,
            other_agreements=self.other_agreements,
        )


class ContractDraftIn(Body):
    """A new placement (indplacering) drafted by the buyer."""

    buyer: MunicipalityIn = Field(description="The buying municipality (handlekommune)")
    payer: MunicipalityIn | None = Field(None, description="The paying municipality, if other")
    provider: ProviderIn = Field(description="The offer and its provider (leverandør)")
    citizen_id: uuid.UUID = Field(
        description="Pseudonymous citizen id from POST /v1/citizens (never the CPR number)",
        examples=["6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"],
    )
    lines: list[ServiceLineIn] = Field(min_length=1, description="Service lines (indsatser)")
    terms: TermsIn = Field(description="The terms (vilkår) of pkt. 5, 9, 15 and 17")


# --- responses --------------------------------------------------------------------


class PriceOut(BaseModel):
    """A line's daily price on a day."""

    daily: Money = Field(description="DKK per day (døgnpris)", examples=["1234.56"])
    step: str = Field(description="The step priced (takstniveau)", examples=["2:2"])
    components: dict[str, Money] = Field(
        description="Daily price per component (takstkomponent, e.g. basis, service)",
        examples=[{"basis": "734.56", "service": "500.00"}],
    )
    start: dt.date = Field(description="First day of this price period")
    end: dt.date = Field(description="Last day of this price period")
    cause: str = Field(
        description="The event that set this price and its version", examples=["Signed v5"]
    )
    sheet_year: int | None = Field(
        description="Year of the tariff sheet (takstblad) used; null for agreed prices",
        examples=[2025],
    )


class LineOut(BaseModel):
    """A service line (indsats) as of ``as_of``."""

    line_id: str = Field(description="The line's id within the contract", examples=["1"])
    paragraph: str = Field(description="Legal basis (paragraf)", examples=["SEL §104"])
    tariff_model: str = Field(
        description="Tariff model (takstmodel)", examples=["slotsvaenget-104"]
    )
    step: str = Field(description="Step in force on ``as_of`` (takstniveau)", examples=["2:2"])
    quantity: Decimal = Field(description="Amount (antal) in ``unit``", examples=["23"])
    unit: Unit = Field(description="Unit of ``quantity`` (enhed)")
    start: dt.date = Field(description="First day of the service (startdato)")
    end: dt.date | None = Field(description="Last day, when agreed (slutdato)")
    respite: bool = Field(description="A respite line (aflastning)")
    price: PriceOut | None = Field(description="Price on ``as_of``; null when not billable")


class AbsenceOut(BaseModel):
    """A hospitalisation, imprisonment or custody (pkt. 14)."""

    absence_id: str = Field(description="Id used by the notice and end commands", examples=["A1"])
    kind: str = Field(description="hospital, prison or custody (indlæggelse, fængsling)")
    started_on: dt.date = Field(description="First day of the absence")
    notified_on: dt.date | None = Field(description="Day the provider notified the buyer")
    notified_late: bool = Field(description="Notified more than 7 days after the start (pkt. 14)")
    ended_on: dt.date | None = Field(description="Last day of the absence")


class RenegotiationOut(BaseModel):
    """A renegotiation request (genforhandling, pkt. 16) and its answer."""

    request_id: str = Field(description="Id used by the answer command", examples=["R1"])
    line_id: str = Field(description="The service line (indsats)", examples=["1"])
    requested_by: str = Field(description="buyer or provider")
    received_on: dt.date = Field(description="Day the written description was received")
    due_on: dt.date = Field(description="The answer is due 30 days after receipt (svarfrist)")
    nature: str = Field(description="lasting (vedblivende) or temporary (midlertidig)")
    proposed_step: str | None = Field(description="The step asked for")
    answered_on: dt.date | None = Field(description="Day of the answer; null while open")
    approved: bool | None = Field(description="The answer; null while open")
    late: bool = Field(description="Answered (or still open) after the deadline")


class NoticeOut(BaseModel):
    """Notice of termination (opsigelse, pkt. 9)."""

    given_by: str = Field(description="buyer or provider")
    given_on: dt.date = Field(description="Day notice was given (opsigelsesdato)")
    last_day: dt.date = Field(description="Last day of the notice period (fratrædelse)")
    payment_end: dt.date | None = Field(
        description="Last day paid for under the payment option (betalingsophør)"
    )


class ContractOut(BaseModel):
    """A contract's state, as of a day and as known at a time."""

    contract_id: uuid.UUID = Field(description="The contract's id")
    version: int = Field(description="Also the ETag; send it back in If-Match", examples=[5])
    status: str = Field(
        description="draft, offered, final, signed, under-notice or ended", examples=["signed"]
    )
    as_of: dt.date = Field(description="The day steps and prices are shown for (valid time)")
    known_at: dt.datetime | None = Field(
        description="The instant the contract is shown as known at (record time); null: now"
    )
    buyer: dict[str, str] = Field(
        description="The buying municipality (handlekommune): name, cvr, ean",
        examples=[{"name": "Demo Nord Kommune", "cvr": "29189919", "ean": "5798000000018"}],
    )
    payer: dict[str, str] | None = Field(
        description="The paying municipality (betalingskommune), when not the buyer"
    )
    provider: dict[str, str] = Field(
        description="The offer (tilbud) and its provider: offer, name, registration, operator"
    )
    citizen_id: uuid.UUID = Field(description="Pseudonymous citizen id (no CPR in the ledger)")
    lines: list[LineOut] = Field(description="Service lines (indsatser)")
    total_daily: Money = Field(description="Sum of the lines' daily prices on ``as_of``")
    signatures: dict[str, dt.date] = Field(
        description="Signature date per party (underskrifter)",
        examples=[{"buyer": "2025-03-01", "provider": "2025-03-02"}],
    )
    notice: NoticeOut | None = Field(description="Notice of termination, if given")
    absences: list[AbsenceOut] = Field(description="Hospitalisations and the like (pkt. 14)")
    renegotiations: list[RenegotiationOut] = Field(description="Renegotiations (pkt. 16)")
    terms: dict[str, Any] = Field(description="The terms of pkt. 5, 9, 15 and 17")
    price_error: str | None = Field(
        None, description="Why prices are missing, e.g. no tariff sheet for the year yet"
    )


def contract_out(
    contract: Contract,
    prices: dict[str, PricePeriod | None],
    as_of: dt.date,
    known_at: dt.datetime | None,
    price_error: str | None = None,
) -> ContractOut:
    """The response body of ``contract`` with its lines priced on ``as_of``."""
    lines = []
    for line_id, line in contract.lines.items():
        period = prices.get(line_id)
        lines.append(
            LineOut(
                line_id=line_id,
                paragraph=line.spec.paragraph,
                tariff_model=line.spec.tariff_model,
                step=line.step_on(as_of),
                quantity=line.spec.quantity,
                unit=line.spec.unit,
                start=line.spec.start,
                end=line.spec.end,
                respite=line.spec.respite,
                price=None
                if period is None
                else PriceOut(
                    daily=period.daily,
                    step=period.step,
                    components={c.component: c.daily for c in period.components},
                    start=period.start,
                    end=period.end,
                    cause=f"{period.cause} v{period.cause_version}",
                    sheet_year=period.sheet_year,
                ),
            )
        )
    notice = contract.notice
    terms = contract.terms
    return ContractOut(
        contract_id=contract.id,
        version=contract.version,
        status=contract.status(as_of),
        as_of=as_of,
        known_at=known_at,
        buyer=_municipality(contract.buyer),
        payer=None if contract.payer is None else _municipality(contract.payer),
        provider={
            "offer": contract.provider.offer,
            "name": contract.provider.name,
            "registration": contract.provider.registration,
            "operator": contract.provider.operator.value,
        },
        citizen_id=contract.citizen_id,
        lines=lines,
        total_daily=sum((line.price.daily for line in lines if line.price), Decimal(0)),
        signatures=dict(contract.signatures),
        notice=None
        if notice is None
        else NoticeOut(
            given_by=notice.given_by.value,
            given_on=notice.given_on,
            last_day=notice.last_day,
            payment_end=contract.payment_end,
        ),
        absences=[
            AbsenceOut(
                absence_id=a.absence_id,
                kind=a.kind.value,
                started_on=a.started_on,
                notified_on=a.notified_on,
                notified_late=a.notified_late,
                ended_on=a.ended_on,
            )
            for a in contract.absences.values()
        ],
        renegotiations=[
            RenegotiationOut(
                request_id=r.request_id,
                line_id=r.line_id,
                requested_by=r.requested_by.value,
                received_on=r.received_on,
                due_on=r.due_on,
                nature=r.nature.value,
                proposed_step=r.proposed_step,
                answered_on=r.answered_on,
                approved=r.approved,
                late=r.late,
            )
            for r in contract.renegotiations.values()
        ],
        terms={
            "payment_option": terms.payment_option.value,
            "notice_period": {
                "months": terms.notice_period.months,
                "days": terms.notice_period.days,
            },
            "data_role": terms.data_role.value,
            "payment_days_after_reoccupation": terms.payment_days_after_reoccupation,
            "respite_basis": None if terms.respite_basis is None else terms.respite_basis.value,
            "other_agreements": terms.other_agreements,
        },
        price_error=price_error,
    )


def _municipality(municipality: Municipality) -> dict[str, str]:
    return {"name": municipality.name, "cvr": municipality.cvr, "ean": municipality.ean}
