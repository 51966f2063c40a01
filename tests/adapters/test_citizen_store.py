"""One behaviour, three citizen registers: in memory, SQLite and PostgreSQL.

Every behaviour test runs against all three backends through the
parametrised ``register`` fixture. The PostgreSQL backend uses the server
that ``ops/pg.sh`` prepares (``POSTGRES_HOST``/``PORT``/``DBNAME``/``USER``/
``PASSWORD``, defaulting to ``127.0.0.1:5432``, database ``test``, user
``postgres``); each test gets a fresh schema, dropped afterwards, so runs are
repeatable and may overlap. When PostgreSQL cannot be reached these tests
fail: they are never skipped.

CPR numbers are synthetic; names are made up.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from adapters.citizen_store import PostgresCitizenRegister, SQLiteCitizenRegister
from ledger.citizens import (
    CitizenCipher,
    CitizenRecord,
    CitizenRegister,
    EncryptedCitizenRegister,
    InMemoryCitizenRegister,
)
from ledger.errors import CitizenNotFound, InvalidIdentifier, InvalidValue

CPR = "0101901009"
CPR_FORMATTED = "010190-1009"
OTHER_CPR = "0202851234"
NAME = "Søren Ærø Kierkegaard"
OTHER_NAME = "Karen Blixen"


# --- fixtures ---------------------------------------------------------------


def _postgres_base_conninfo() -> str:
    """Return the test server's conninfo, from the settings ops/pg.sh exports."""
    settings = {
        "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "port": os.environ.get("POSTGRES_PORT", "5432"),
        "dbname": os.environ.get("POSTGRES_DBNAME", "test"),
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "connect_timeout": "5",
    }
    password = os.environ.get("POSTGRES_PASSWORD")
    if password:
        settings["password"] = password
    return make_conninfo(**settings)


@pytest.fixture
def postgres_conninfo():
    """Yield a conninfo whose search_path is a fresh schema, dropped afterwards.

    Connecting fails (and so the test errors) when PostgreSQL is unreachable.
    """
    base = _postgres_base_conninfo()
    schema = f"test_citizen_register_{uuid.uuid4().hex}"
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield make_conninfo(base, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def cipher():
    """Return a cipher with a fresh random key."""
    return CitizenCipher(CitizenCipher.create_key())


@pytest.fixture
def sqlite_path(tmp_path):
    """Return a database file path in the test's own temporary directory."""
    return str(tmp_path / "citizens.sqlite3")


@pytest.fixture
def sqlite_register(sqlite_path, cipher):
    """Return a SQLite register with its table created."""
    register = SQLiteCitizenRegister(sqlite_path, cipher)
    register.create_table()
    return register


@pytest.fixture
def postgres_register(postgres_conninfo, cipher):
    """Return a PostgreSQL register with its table created in the test's schema."""
    register = PostgresCitizenRegister(postgres_conninfo, cipher)
    register.create_table()
    return register


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def register(request, cipher) -> EncryptedCitizenRegister:
    """Return each backend in turn, with an empty table."""
    if request.param == "memory":
        return InMemoryCitizenRegister(cipher)
    fixture_name = f"{request.param}_register"
    backend: EncryptedCitizenRegister = request.getfixturevalue(fixture_name)
    return backend


def _reopened(register: EncryptedCitizenRegister, cipher: CitizenCipher, request):
    """Open a second register over the storage of ``register``, with ``cipher``."""
    if isinstance(register, SQLiteCitizenRegister):
        return SQLiteCitizenRegister(request.getfixturevalue("sqlite_path"), cipher)
    if isinstance(register, PostgresCitizenRegister):
        return PostgresCitizenRegister(request.getfixturevalue("postgres_conninfo"), cipher)
    pytest.fail(f"no second handle for {register!r}")


# --- the protocol -----------------------------------------------------------


def test_every_backend_satisfies_the_register_protocol(register):
    """The annotation makes mypy check it; the call exercises it once."""
    as_protocol: CitizenRegister = register
    citizen_id = as_protocol.register(CPR, NAME)
    assert citizen_id == as_protocol.id_for_cpr(CPR)


# --- behaviour, on every backend --------------------------------------------


def test_a_registered_citizen_can_be_read_back_by_id(register):
    """The record holds the compact CPR number and the stripped name."""
    citizen_id = register.register(CPR_FORMATTED, f"  {NAME}  ")
    expected = CitizenRecord(citizen_id=citizen_id, cpr=CPR, name=NAME)
    assert expected == register.get(citizen_id)
    assert expected == register.find(citizen_id)


def test_the_citizen_id_is_a_random_uuid(register):
    """The pseudonymous id is a version 4 UUID, unrelated to the CPR number."""
    citizen_id = register.register(CPR, NAME)
    expected_version = 4
    assert expected_version == citizen_id.version
    assert CPR not in citizen_id.hex


def test_registering_the_same_cpr_number_twice_returns_the_same_id(register):
    """Found by its keyed hash; the stored name is kept as first registered."""
    first = register.register(CPR, NAME)
    assert first == register.register(CPR_FORMATTED, OTHER_NAME)
    first_name = NAME
    assert first_name == register.get(first).name


def test_different_cpr_numbers_get_different_ids(register):
    """Each citizen has their own id, even with the same name."""
    assert register.register(CPR, NAME) != register.register(OTHER_CPR, NAME)


def test_concurrent_registrations_of_one_cpr_number_yield_one_id(register):
    """The unique lookup hash makes racing registrations agree on a single id."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: register.register(CPR, NAME), range(16)))
    expected_count = 1
    assert expected_count == len(ids)
    assert ids == {register.id_for_cpr(CPR)}


def test_id_for_cpr_finds_a_registered_citizen_and_nobody_else(register):
    """A known CPR number maps to its id; an unknown one to None."""
    citizen_id = register.register(CPR, NAME)
    assert citizen_id == register.id_for_cpr(CPR_FORMATTED)
    assert None is register.id_for_cpr(OTHER_CPR)


def test_looking_up_a_malformed_cpr_number_is_rejected(register):
    """A malformed CPR number is an input error, not a miss."""
    with pytest.raises(InvalidIdentifier):
        register.id_for_cpr("3201901009")


def test_registering_a_malformed_cpr_number_stores_nothing(register):
    """The CPR number is validated before anything is written."""
    with pytest.raises(InvalidIdentifier) as caught:
        register.register("010190-10", NAME)
    expected_field = "cpr"
    assert expected_field == caught.value.field


def test_registering_a_blank_name_stores_nothing(register):
    """A name must have content after stripping whitespace."""
    with pytest.raises(InvalidValue) as caught:
        register.register(CPR, "   ")
    expected_field = "name"
    assert expected_field == caught.value.field
    assert None is register.id_for_cpr(CPR)


def test_an_unknown_citizen_id_is_not_found(register):
    """The find method answers None; get raises CitizenNotFound."""
    unknown = uuid.uuid4()
    assert None is register.find(unknown)
    with pytest.raises(CitizenNotFound):
        register.get(unknown)


def test_erasing_a_citizen_removes_their_personal_data(register):
    """The id resolves to nothing and the CPR number is no longer known."""
    citizen_id = register.register(CPR, NAME)
    assert True is register.erase(citizen_id)
    assert None is register.find(citizen_id)
    assert None is register.id_for_cpr(CPR)


def test_erasing_a_citizen_a_second_time_returns_false(register):
    """Nothing is left to erase the second time."""
    citizen_id = register.register(CPR, NAME)
    register.erase(citizen_id)
    assert False is register.erase(citizen_id)


def test_erasing_an_id_that_was_never_registered_returns_false(register):
    """Erasure of an unknown id is not an error."""
    assert False is register.erase(uuid.uuid4())


def test_getting_an_erased_citizen_raises_citizen_not_found(register):
    """Events may still carry the id; the register no longer knows the person."""
    citizen_id = register.register(CPR, NAME)
    register.erase(citizen_id)
    with pytest.raises(CitizenNotFound):
        register.get(citizen_id)


def test_erasing_leaves_other_citizens_alone(register):
    """Only the erased citizen's row goes."""
    erased = register.register(CPR, NAME)
    kept = register.register(OTHER_CPR, OTHER_NAME)
    register.erase(erased)
    expected = CitizenRecord(citizen_id=kept, cpr=OTHER_CPR, name=OTHER_NAME)
    assert expected == register.get(kept)


def test_a_citizen_registered_again_after_erasure_gets_a_new_id(register):
    """The old id stays dead: history written under it does not re-identify."""
    erased = register.register(CPR, NAME)
    register.erase(erased)
    again = register.register(CPR, NAME)
    assert erased != again
    assert None is register.find(erased)


# --- the SQL backends -------------------------------------------------------


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def sql_register(request) -> EncryptedCitizenRegister:
    """Return each SQL backend in turn, with an empty table."""
    backend: EncryptedCitizenRegister = request.getfixturevalue(f"{request.param}_register")
    return backend


def test_a_second_handle_with_the_same_key_reads_what_the_first_wrote(sql_register, request):
    """The data is in the database, not in the object."""
    citizen_id = sql_register.register(CPR, NAME)
    reopened = _reopened(sql_register, sql_register._cipher, request)
    expected = CitizenRecord(citizen_id=citizen_id, cpr=CPR, name=NAME)
    assert expected == reopened.get(citizen_id)
    assert citizen_id == reopened.id_for_cpr(CPR)


def test_a_handle_with_another_key_can_neither_find_nor_read_a_citizen(sql_register, request):
    """Without the key the lookup hash does not match and decryption fails."""
    citizen_id = sql_register.register(CPR, NAME)
    stranger = _reopened(sql_register, CitizenCipher(CitizenCipher.create_key()), request)
    assert None is stranger.id_for_cpr(CPR)
    with pytest.raises(ValueError, match="damaged"):
        stranger.get(citizen_id)


def test_creating_the_table_twice_is_safe_and_keeps_the_rows(sql_register):
    """create_table is idempotent (CREATE TABLE IF NOT EXISTS)."""
    citizen_id = sql_register.register(CPR, NAME)
    sql_register.create_table()
    sql_register.create_table()
    expected = CitizenRecord(citizen_id=citizen_id, cpr=CPR, name=NAME)
    assert expected == sql_register.get(citizen_id)


def test_the_sqlite_register_refuses_an_in_memory_database(cipher):
    """Each operation opens its own connection, so ':memory:' would lose every row."""
    with pytest.raises(ValueError, match="database file"):
        SQLiteCitizenRegister(":memory:", cipher)


def test_the_postgres_registers_repr_hides_the_connection_string(cipher):
    """The conninfo may carry a password, so it stays out of logs."""
    conninfo = "host=db user=ledger password=hunter2"
    assert "hunter2" not in repr(PostgresCitizenRegister(conninfo, cipher))


# --- ciphertext only at rest ------------------------------------------------


def _plaintexts() -> list[bytes]:
    """Return every spelling of the personal data that must not appear at rest."""
    return [
        CPR.encode(),
        CPR_FORMATTED.encode(),
        NAME.encode("utf-8"),
        b"Kierkegaard",
        "Søren".encode(),
    ]


def test_the_sqlite_file_contains_neither_cpr_number_nor_name(sqlite_register, sqlite_path):
    """The raw database bytes hold ciphertext and hashes only."""
    sqlite_register.register(CPR_FORMATTED, NAME)
    raw = Path(sqlite_path).read_bytes()
    # Guard against a vacuous pass: the row is in the file that was read.
    with closing(sqlite3.connect(sqlite_path)) as connection:
        (cpr_hash,) = connection.execute("SELECT cpr_hash FROM citizen_register").fetchone()
    assert cpr_hash.encode() in raw
    for plaintext in _plaintexts():
        assert plaintext not in raw


@pytest.mark.postgres
def test_the_postgres_table_contains_neither_cpr_number_nor_name(
    postgres_register, postgres_conninfo
):
    """Every column of every row, read raw, holds ciphertext and hashes only."""
    postgres_register.register(CPR_FORMATTED, NAME)
    with psycopg.connect(postgres_conninfo) as connection:
        rows = connection.execute(
            "SELECT citizen_id::text, cpr_hash, cpr_encrypted, name_encrypted,"
            " registered_at::text FROM citizen_register"
        ).fetchall()
    expected_rows = 1
    assert expected_rows == len(rows)
    raw = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in rows[0])
    for plaintext in _plaintexts():
        assert plaintext not in raw
