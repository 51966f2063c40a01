"""The citizen register in memory, its cipher and its records (ledger.citizens).

CPR numbers are synthetic (1 January 1990 and 2 February 1985); names are
made up. The behaviour shared with the SQL registers is also run against all
backends in ``tests/adapters/test_citizen_store.py``.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest

from ledger.citizens import (
    CitizenCipher,
    CitizenRecord,
    CitizenRegister,
    InMemoryCitizenRegister,
    new_citizen_id,
)
from ledger.errors import CitizenNotFound, InvalidIdentifier, InvalidValue

CPR = "0101901009"
CPR_FORMATTED = "010190-1009"
OTHER_CPR = "0202851234"
NAME = "Søren Ærø Kierkegaard"


@pytest.fixture
def cipher():
    """Return a cipher with a fresh random key."""
    return CitizenCipher(CitizenCipher.create_key())


@pytest.fixture
def register(cipher):
    """Return an empty in-memory register."""
    return InMemoryCitizenRegister(cipher)


# --- ids and records --------------------------------------------------------


def test_a_new_citizen_id_is_a_random_version_4_uuid():
    """Ids are random, so they reveal nothing about the person."""
    first, second = new_citizen_id(), new_citizen_id()
    expected_version = 4
    assert expected_version == first.version
    assert first != second


def test_a_citizen_records_repr_masks_the_cpr_number_and_the_name():
    """A record printed to a log or a traceback shows neither CPR nor name."""
    citizen_id = uuid.uuid4()
    record = CitizenRecord(citizen_id=citizen_id, cpr=CPR, name=NAME)
    for shown in (repr(record), str(record), f"{record}", repr([record])):
        assert CPR not in shown
        assert "010190" not in shown
        assert "Søren" not in shown
        assert "Kierkegaard" not in shown
        assert str(citizen_id) in shown


def test_a_citizen_record_still_holds_the_cpr_number_and_the_name():
    """Masking affects the repr only; the fields are there for those allowed to see them."""
    record = CitizenRecord(citizen_id=uuid.uuid4(), cpr=CPR, name=NAME)
    expected = (CPR, NAME)
    assert expected == (record.cpr, record.name)


# --- cipher -----------------------------------------------------------------


def test_the_cipher_decrypts_what_it_encrypted(cipher):
    """Round trip, including non-ASCII letters in a Danish name."""
    name = NAME
    assert name == cipher.decrypt(cipher.encrypt(name))


def test_the_cipher_gives_different_ciphertexts_for_the_same_text(cipher):
    """A fresh nonce per message means equal names cannot be spotted in storage."""
    assert cipher.encrypt(CPR) != cipher.encrypt(CPR)


def test_the_ciphertext_does_not_contain_the_plaintext(cipher):
    """What is stored reveals neither the CPR number nor the name."""
    assert CPR.encode() not in cipher.encrypt(CPR)
    assert NAME.encode() not in cipher.encrypt(NAME)


def test_a_cipher_with_another_key_cannot_decrypt(cipher):
    """AES-GCM authenticates: the wrong key fails loudly instead of returning garbage."""
    ciphertext = cipher.encrypt(NAME)
    other = CitizenCipher(CitizenCipher.create_key())
    with pytest.raises(ValueError, match="damaged"):
        other.decrypt(ciphertext)


def test_the_lookup_hash_is_the_same_for_any_spelling_of_a_cpr_number(cipher):
    """The hash is taken of the compact form, so formatting does not matter."""
    assert cipher.lookup_hash(CPR) == cipher.lookup_hash(CPR_FORMATTED)


def test_two_keys_give_different_lookup_hashes_for_one_cpr_number():
    """The hash is keyed: without the key, a CPR number cannot be found by hashing it."""
    first = CitizenCipher(CitizenCipher.create_key())
    second = CitizenCipher(CitizenCipher.create_key())
    assert first.lookup_hash(CPR) != second.lookup_hash(CPR)


def test_the_lookup_hash_is_not_a_plain_hash_of_the_cpr_number(cipher):
    """A keyed hash differs from SHA-256 of the number, which anyone could compute."""
    unkeyed = hashlib.sha256(CPR.encode()).hexdigest()
    assert unkeyed != cipher.lookup_hash(CPR)
    assert CPR not in cipher.lookup_hash(CPR)


def test_the_lookup_hash_rejects_a_malformed_cpr_number(cipher):
    """Only valid CPR numbers are hashed."""
    with pytest.raises(InvalidIdentifier):
        cipher.lookup_hash("not a cpr")


def test_the_ciphers_repr_does_not_show_the_key():
    """A cipher printed to a log does not leak its key."""
    key = CitizenCipher.create_key()
    assert key not in repr(CitizenCipher(key))


@pytest.mark.parametrize(
    "key",
    ["not base64!", "c2hvcnQ=", ""],
    ids=["not-base64", "too-short", "empty"],
)
def test_a_cipher_key_that_is_not_32_base64_bytes_is_refused(key):
    """A misconfigured key fails at start-up, without echoing the key."""
    with pytest.raises(ValueError, match="citizen cipher key") as caught:
        CitizenCipher(key)
    if key:
        assert key not in str(caught.value)


# --- the in-memory register -------------------------------------------------


def test_the_in_memory_register_satisfies_the_register_protocol(cipher):
    """Checked by mypy through the annotation; here it is also exercised once."""
    register: CitizenRegister = InMemoryCitizenRegister(cipher)
    citizen_id = register.register(CPR, NAME)
    assert citizen_id == register.id_for_cpr(CPR)


def test_a_registered_citizen_can_be_read_back_by_id(register):
    """The record holds the compact CPR number and the name, stripped."""
    citizen_id = register.register(CPR_FORMATTED, f"  {NAME} ")
    expected = CitizenRecord(citizen_id=citizen_id, cpr=CPR, name=NAME)
    assert expected == register.get(citizen_id)
    assert expected == register.find(citizen_id)


def test_registering_the_same_cpr_number_twice_returns_the_same_id(register):
    """The second registration finds the first by the lookup hash."""
    first = register.register(CPR, NAME)
    assert first == register.register(CPR_FORMATTED, "Another Spelling")
    first_name = NAME
    assert first_name == register.get(first).name


def test_different_cpr_numbers_get_different_ids(register):
    """Each citizen has their own pseudonymous id."""
    assert register.register(CPR, NAME) != register.register(OTHER_CPR, NAME)


def test_the_in_memory_register_stores_only_ciphertext(register):
    """Its rows hold the same encrypted form the SQL tables hold."""
    citizen_id = register.register(CPR, NAME)
    row = register._rows[citizen_id]
    stored = row.cpr_hash.encode() + row.cpr_encrypted + row.name_encrypted
    assert CPR.encode() not in stored
    assert NAME.encode() not in stored
    assert CPR not in repr(row)


def test_registering_a_malformed_cpr_number_is_rejected(register):
    """The CPR number is validated before anything is stored."""
    with pytest.raises(InvalidIdentifier) as caught:
        register.register("3201901009", NAME)
    expected_field = "cpr"
    assert expected_field == caught.value.field
    assert not register._rows


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_registering_a_blank_name_is_rejected(register, name):
    """A name must have some content after stripping whitespace."""
    with pytest.raises(InvalidValue) as caught:
        register.register(CPR, name)
    expected_field = "name"
    assert expected_field == caught.value.field
    assert None is register.id_for_cpr(CPR)


def test_an_unknown_citizen_id_is_not_found(register):
    """The find method answers None and get raises CitizenNotFound."""
    unknown = new_citizen_id()
    assert None is register.find(unknown)
    with pytest.raises(CitizenNotFound) as caught:
        register.get(unknown)
    expected_field = "citizen_id"
    assert expected_field == caught.value.field


def test_an_unregistered_cpr_number_has_no_id(register):
    """id_for_cpr answers None for a CPR number nobody registered."""
    register.register(CPR, NAME)
    assert None is register.id_for_cpr(OTHER_CPR)


def test_erasing_a_citizen_removes_their_personal_data(register):
    """After erasure the id resolves to nothing and the CPR number is unknown."""
    citizen_id = register.register(CPR, NAME)
    assert True is register.erase(citizen_id)
    assert None is register.find(citizen_id)
    assert None is register.id_for_cpr(CPR)
    assert not register._rows
    assert not register._ids_by_hash


def test_erasing_a_citizen_a_second_time_returns_false(register):
    """Erasure is idempotent and says whether anything was left to erase."""
    citizen_id = register.register(CPR, NAME)
    register.erase(citizen_id)
    assert False is register.erase(citizen_id)


def test_getting_an_erased_citizen_raises_citizen_not_found(register):
    """The history may still hold the id; the register no longer knows the person."""
    citizen_id = register.register(CPR, NAME)
    register.erase(citizen_id)
    with pytest.raises(CitizenNotFound):
        register.get(citizen_id)


def test_erasing_leaves_other_citizens_alone(register):
    """Only the erased citizen's row goes."""
    erased = register.register(CPR, NAME)
    kept = register.register(OTHER_CPR, "Karen Blixen")
    register.erase(erased)
    assert kept == register.id_for_cpr(OTHER_CPR)
    expected_name = "Karen Blixen"
    assert expected_name == register.get(kept).name
