"""Event payloads encrypted at rest with the library's AES cipher (architecture 8)."""

from __future__ import annotations

import pytest
from eventsourcing.cipher import AESCipher

from ledger.application import Ledger
from tests.conftest import ledger_env
from tests.ledger.examples import (
    BUYER,
    BUYER_ADMIN,
    CITIZEN,
    PROVIDER,
    TERMS,
    line_85,
    line_104,
)

BUYER_NAME = BUYER.name.encode()


@pytest.fixture
def env(backend, make_ledger, tmp_path):
    """The backend's settings (make_ledger prepares a clean PostgreSQL schema)."""
    assert make_ledger is not None
    return ledger_env(backend, tmp_path)


@pytest.fixture
def cipher_env(env):
    return {
        **env,
        "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
        "CIPHER_KEY": AESCipher.create_key(32),
    }


def draft(ledger: Ledger):
    return ledger.draft_contract(
        buyer=BUYER,
        provider=PROVIDER,
        citizen_id=CITIZEN,
        lines=[line_85(), line_104()],
        terms=TERMS,
        actor=BUYER_ADMIN,
    )


def stored_states(ledger: Ledger, contract_id) -> list[bytes]:
    return [bytes(record.state) for record in ledger.recorder.select_events(contract_id)]


def test_with_a_cipher_key_no_stored_event_contains_the_buyers_name(cipher_env, clock):
    """The Drafted event's state is ciphertext; the buyer's name is not readable in it."""
    ledger = Ledger(cipher_env, clock=clock)

    contract_id = draft(ledger)

    states = stored_states(ledger, contract_id)
    ledger.close()
    assert 1 == len(states)
    assert not any(BUYER_NAME in state for state in states)
    assert not any(b'"_type_"' in state for state in states)


def test_an_encrypted_contract_reloads_with_the_same_key(cipher_env, clock, backend):
    """Another ledger with the same key (the same one in memory) reads the contract in clear."""
    writer = Ledger(cipher_env, clock=clock)
    contract_id = draft(writer)
    reader = writer if backend == "memory" else Ledger(cipher_env, clock=clock)

    contract = reader.get_contract(contract_id)

    assert (BUYER, PROVIDER, CITIZEN) == (contract.buyer, contract.provider, contract.citizen_id)
    writer.close()
    reader.close()


def test_without_a_cipher_the_stored_event_contains_the_buyers_name(env, clock):
    """The control: plain JSON holds the name, so the check above can fail."""
    ledger = Ledger(env, clock=clock)

    contract_id = draft(ledger)

    states = stored_states(ledger, contract_id)
    ledger.close()
    assert any(BUYER_NAME in state for state in states)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sqlite_database_file_does_not_contain_the_buyers_name(cipher_env, clock, tmp_path):
    """Neither the database file nor its write-ahead log holds the name in clear."""
    ledger = Ledger(cipher_env, clock=clock)
    draft(ledger)
    ledger.close()

    raw = b"".join(path.read_bytes() for path in tmp_path.glob("ledger.sqlite*"))

    assert b"" != raw
    assert BUYER_NAME not in raw


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unencrypted_sqlite_database_file_contains_the_buyers_name(env, clock, tmp_path):
    """The control for the raw file check."""
    ledger = Ledger(env, clock=clock)
    draft(ledger)
    ledger.close()

    raw = b"".join(path.read_bytes() for path in tmp_path.glob("ledger.sqlite*"))

    assert BUYER_NAME in raw
