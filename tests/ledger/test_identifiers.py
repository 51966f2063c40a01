"""CPR, CVR, EAN and P-number validation (ledger.identifiers).

The numbers are synthetic. ``0101901009`` is a CPR number for 1 January 1990
whose modulus 11 check sum is 0; ``0101901234`` has the same date and a
non-zero check sum, like numbers issued since 2007. ``12345674`` has a valid
CVR check digit and ``5798000000001`` a valid EAN check digit (computed with
``stdnum.ean.calc_check_digit``).
"""

from __future__ import annotations

import pytest

from ledger.errors import InvalidIdentifier
from ledger.identifiers import (
    validate_cpr,
    validate_cvr,
    validate_ean,
    validate_p_number,
    validate_registration,
)

# --- CPR --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0101901009", "0101901009"),
        ("010190-1009", "0101901009"),
        (" 010190 1009 ", "0101901009"),
    ],
)
def test_a_valid_cpr_number_is_returned_in_compact_form(typed, expected):
    """Spaces and the hyphen are removed; the 10 digits are returned."""
    assert expected == validate_cpr(typed)


def test_a_cpr_number_without_a_valid_modulus_11_check_sum_is_accepted():
    """Since 2007 CPR numbers need not satisfy modulus 11, so it is not enforced."""
    issued_after_2007 = "0101901234"
    assert issued_after_2007 == validate_cpr("010190-1234")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("01019010", "10 digits"),
        ("01019010099", "10 digits"),
        ("010190-10O9", "digits only"),
        ("", "digits only"),
        ("3201901009", "birth date"),
        ("0113901009", "birth date"),
        ("0101364009", "birth date"),
    ],
    ids=["too-short", "too-long", "letter", "empty", "day-32", "month-13", "born-2036"],
)
def test_a_malformed_cpr_number_is_rejected_with_the_reason(typed, reason):
    """Bad length, non-digits, impossible and future birth dates are rejected."""
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        validate_cpr(typed)
    expected_field = "cpr"
    assert expected_field == caught.value.field


def test_a_rejected_cpr_number_is_not_repeated_in_the_error_message():
    """A CPR number is personal data, so the error (which may be logged) omits it."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_cpr("320190-1009")
    assert "3201901009" not in str(caught.value)
    assert "320190" not in str(caught.value)


def test_the_cpr_error_names_the_field_the_caller_gives():
    """A caller validating a differently named input gets that name back."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_cpr("12", field="citizen.cpr")
    expected_field = "citizen.cpr"
    assert expected_field == caught.value.field


def test_a_cpr_value_that_is_not_a_string_is_rejected():
    """A number or None is not silently converted."""
    with pytest.raises(InvalidIdentifier, match="string"):
        validate_cpr(101901009)  # type: ignore[arg-type]


# --- CVR --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["12345674", "12 34 56 74", "DK12345674", "dk 1234-5674"])
def test_a_valid_cvr_number_is_returned_in_compact_form(typed):
    """Separators and the DK prefix are removed; the 8 digits are returned."""
    expected = "12345674"
    assert expected == validate_cvr(typed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("12345675", "check digit"),
        ("1234567", "8 digits"),
        ("123456740", "8 digits"),
        ("02345674", "not starting with 0"),
        ("1234567A", "digits only"),
    ],
    ids=["check-digit", "too-short", "too-long", "leading-zero", "letter"],
)
def test_a_malformed_cvr_number_is_rejected_with_the_reason(typed, reason):
    """A wrong check digit, length or leading zero is rejected, naming the field."""
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        validate_cvr(typed)
    expected_field = "cvr"
    assert expected_field == caught.value.field


# --- EAN --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["5798000000001", "579800-000000-1", " 5798000000001 "])
def test_a_valid_ean_location_number_is_returned_in_compact_form(typed):
    """Spaces and hyphens are removed; the 13 digits are returned."""
    expected = "5798000000001"
    assert expected == validate_ean(typed)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("5798000000002", "check digit"),
        ("12345670", "13 digits"),
        ("579800000001", "13 digits"),
        ("57980000000012", "13 digits"),
        ("579800000000X", "digits only"),
    ],
    ids=["check-digit", "ean-8", "12-digits", "14-digits", "letter"],
)
def test_a_malformed_ean_location_number_is_rejected_with_the_reason(typed, reason):
    """A wrong check digit or any length but 13 (even a valid EAN-8) is rejected."""
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        validate_ean(typed)
    expected_field = "ean"
    assert expected_field == caught.value.field


# --- P-number and provider registration -------------------------------------


def test_a_ten_digit_p_number_is_returned_in_compact_form():
    """A P-number is checked for format only: 10 digits after removing separators."""
    expected = "1234567890"
    assert expected == validate_p_number("12345 67890")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("123456789", "10 digits"), ("12345678901", "10 digits"), ("12345678X0", "digits only")],
    ids=["too-short", "too-long", "letter"],
)
def test_a_malformed_p_number_is_rejected_with_the_reason(typed, reason):
    """Anything but 10 digits is rejected, naming the field."""
    with pytest.raises(InvalidIdentifier, match=reason) as caught:
        validate_p_number(typed)
    expected_field = "p_number"
    assert expected_field == caught.value.field


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("DK 12345674", "12345674"), ("1234567890", "1234567890")],
    ids=["cvr", "p-number"],
)
def test_a_provider_registration_accepts_a_cvr_number_or_a_p_number(typed, expected):
    """Bilag 1 pkt. 3 identifies the provider by "P-nummer/CVR-nummer"."""
    assert expected == validate_registration(typed)


def test_a_provider_registration_of_eight_digits_must_pass_the_cvr_check():
    """Eight digits are a CVR number, so its check digit is enforced."""
    with pytest.raises(InvalidIdentifier, match="check digit") as caught:
        validate_registration("12345675", field="provider.registration")
    expected_field = "provider.registration"
    assert expected_field == caught.value.field


def test_a_provider_registration_of_another_length_is_rejected():
    """Nine digits are neither a CVR number nor a P-number."""
    with pytest.raises(InvalidIdentifier, match=r"CVR number .* or a P-number") as caught:
        validate_registration("123456789")
    expected_field = "registration"
    assert expected_field == caught.value.field


def test_every_identifier_error_carries_the_invalid_identifier_rule():
    """The API maps the stable rule code to a 422 problem document."""
    with pytest.raises(InvalidIdentifier) as caught:
        validate_ean("1")
    expected_rule = "invalid-identifier"
    assert expected_rule == caught.value.rule
