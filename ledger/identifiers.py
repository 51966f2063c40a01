"""Danish identifiers: CPR, CVR, P-number and EAN (GLN) location numbers.

Each validator takes the value as typed (separators such as spaces and
hyphens are allowed), returns its compact digits-only form, and raises
:class:`~ledger.errors.InvalidIdentifier` naming the offending ``field`` and
why it was rejected. Check digits and dates are checked by ``python-stdnum``,
never by hand; only the P-number, for which stdnum has no module, is checked
for format alone.

A CPR number is personal data: no error message here ever repeats it.
"""

from __future__ import annotations

# python-stdnum ships no type information: its functions are typed Any. pyproject's
# [tool.mypy] override (ignore_missing_imports for stdnum.*) covers that; a local
# ``type: ignore`` here would be reported as unused under strict mode.
from stdnum import ean as _ean
from stdnum.dk import cpr as _cpr
from stdnum.dk import cvr as _cvr
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import clean, isdigits

from ledger.errors import InvalidIdentifier

# Note: stdnum's InvalidLength subclasses InvalidFormat, so each validator catches it first.

CPR_LENGTH = 10
CVR_LENGTH = 8
P_NUMBER_LENGTH = 10
EAN_LENGTH = 13


def _require_str(value: object, field: str, what: str) -> str:
    """Return ``value`` if it is a string, else raise naming the field."""
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{what} must be a string", field=field)
    return value


def validate_cpr(value: str, field: str = "cpr") -> str:
    """Return the compact 10-digit form of a CPR number (DDMMYY-SSSS).

    Checked (by :mod:`stdnum.dk.cpr`): only digits after removing spaces and
    hyphens, exactly 10 of them, and a real birth date (with the century the
    first sequence digit implies) that is not in the future.

    Not checked: the modulus 11 check digit. The CPR office stopped issuing
    numbers that satisfy it in 2007 when sequence numbers ran out, and numbers
    issued to immigrants mean the birth date cannot tell old from new, so
    enforcing it would reject real citizens. stdnum 1.20's ``validate`` does
    not enforce it either; we rely on that and do not add it back.

    The rejected value is never echoed in the error, because a CPR number is
    personal data and errors end up in logs.
    """
    text = _require_str(value, field, "A CPR number")
    try:
        compact: str = _cpr.validate(text)
    except InvalidLength:
        raise InvalidIdentifier(
            f"A CPR number must have {CPR_LENGTH} digits (DDMMYY-SSSS)", field=field
        ) from None
    except InvalidFormat:
        raise InvalidIdentifier(
            "A CPR number must consist of digits only (DDMMYY-SSSS)", field=field
        ) from None
    except InvalidComponent:
        raise InvalidIdentifier(
            "A CPR number must start with a valid birth date (DDMMYY) that is not in the future",
            field=field,
        ) from None
    except ValidationError:
        raise InvalidIdentifier("The CPR number is not valid", field=field) from None
    return compact


def validate_cvr(value: str, field: str = "cvr") -> str:
    """Return the compact 8-digit form of a CVR number.

    Checked (by :mod:`stdnum.dk.cvr`): after removing separators and an
    optional ``DK`` prefix, exactly 8 digits, no leading zero, and the
    modulus 11 check digit.
    """
    text = _require_str(value, field, "A CVR number")
    try:
        compact: str = _cvr.validate(text)
    except InvalidLength:
        raise InvalidIdentifier(
            f"A CVR number must have {CVR_LENGTH} digits: {text!r}", field=field
        ) from None
    except InvalidFormat:
        raise InvalidIdentifier(
            f"A CVR number must consist of digits only, not starting with 0: {text!r}",
            field=field,
        ) from None
    except InvalidChecksum:
        raise InvalidIdentifier(
            f"The CVR number's check digit is wrong (modulus 11): {text!r}",
            field=field,
        ) from None
    except ValidationError:
        raise InvalidIdentifier(f"The CVR number is not valid: {text!r}", field=field) from None
    return compact


def validate_ean(value: str, field: str = "ean") -> str:
    """Return the compact 13-digit form of an EAN location number (GLN).

    Checked: exactly 13 digits after removing spaces and hyphens, and the
    GS1 check digit (by :mod:`stdnum.ean`). stdnum also accepts 8, 12 and 14
    digit codes; a location number for e-invoicing is always 13, so those are
    rejected here. The GS1 prefix is not checked: Danish public EAN locations
    start with 57, but the rule is not ours to enforce on every party.
    """
    text = _require_str(value, field, "An EAN number")
    digits: str = _ean.compact(text)
    if isdigits(digits) and len(digits) != EAN_LENGTH:
        raise InvalidIdentifier(
            f"An EAN location number must have {EAN_LENGTH} digits: {text!r}",
            field=field,
        )
    try:
        compact: str = _ean.validate(digits)
    except InvalidLength:
        raise InvalidIdentifier(
            f"An EAN location number must have {EAN_LENGTH} digits: {text!r}",
            field=field,
        ) from None
    except InvalidFormat:
        raise InvalidIdentifier(
            f"An EAN location number must consist of digits only: {text!r}",
            field=field,
        ) from None
    except InvalidChecksum:
        raise InvalidIdentifier(
            f"The EAN location number's check digit is wrong: {text!r}",
            field=field,
        ) from None
    except ValidationError:
        raise InvalidIdentifier(
            f"The EAN location number is not valid: {text!r}", field=field
        ) from None
    return compact


def validate_p_number(value: str, field: str = "p_number") -> str:
    """Return the compact 10-digit form of a P-number (produktionsenhedsnummer).

    Checked: format only, exactly 10 digits after removing spaces and hyphens.
    python-stdnum has no module for P-numbers (``stdnum.dk`` holds only
    ``cpr`` and ``cvr``) and no check-digit rule is published, so no checksum
    is verified.
    """
    text = _require_str(value, field, "A P-number")
    compact: str = clean(text, " -").strip()
    if not isdigits(compact):
        raise InvalidIdentifier(f"A P-number must consist of digits only: {text!r}", field=field)
    if len(compact) != P_NUMBER_LENGTH:
        raise InvalidIdentifier(
            f"A P-number must have {P_NUMBER_LENGTH} digits: {text!r}", field=field
        )
    return compact


def validate_registration(value: str, field: str = "registration") -> str:
    """Return a provider's compact CVR number or P-number (Bilag 1 pkt. 3).

    The contract identifies the provider by "P-nummer/CVR-nummer": a value
    that compacts to 8 digits is validated as a CVR number (with its check
    digit), one of 10 digits as a P-number (format only). The two lengths
    tell them apart; anything else is rejected.
    """
    text = _require_str(value, field, "A CVR number or P-number")
    digits: str = _cvr.compact(text)
    if len(digits) == CVR_LENGTH:
        return validate_cvr(text, field)
    if len(digits) == P_NUMBER_LENGTH:
        return validate_p_number(text, field)
    raise InvalidIdentifier(
        f"A provider registration must be a CVR number ({CVR_LENGTH} digits) "
        f"or a P-number ({P_NUMBER_LENGTH} digits): {text!r}",
        field=field,
    )


__all__ = [
    "validate_cpr",
    "validate_cvr",
    "validate_ean",
    "validate_p_number",
    "validate_registration",
]
