"""API keys on every backend: in memory, SQLite and PostgreSQL.

Each behaviour test runs against all three stores through the parametrised
``store`` fixture, built by :func:`adapters.api_keys.build_key_store` from
settings, as the API builds it. The SQL stores get their table from the real
migrations; on PostgreSQL each test has a fresh schema, dropped afterwards, so
runs may overlap with other suites using ``kl_test``. When PostgreSQL cannot be
reached these tests fail: they are never skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing

import psycopg
import pytest

from adapters.api_keys import (
    ApiKey,
    ApiKeyStore,
    InMemoryApiKeyStore,
    KeyRecord,
    PostgresApiKeyStore,
    SQLiteApiKeyStore,
    build_key_store,
    parse_token,
)
from adapters.bootstrap import migrate
from adapters.migrate import migrate_sqlite, pending
from adapters.settings import Settings, Storage
from ledger.values import Role
from tests.adapters.conftest import migrate_tables
from tests.conftest import settings_for

BUYER = "29189846"  # a CVR number
PROVIDER = "12345678"
TOKEN = re.compile(r"kl_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")


# --- fixtures ---------------------------------------------------------------


def migrated_store(settings: Settings) -> ApiKeyStore:
    """An empty key store for ``settings``, its table made by the SQL migrations."""
    return build_key_store(migrate_tables(settings))


@pytest.fixture
def store(settings) -> ApiKeyStore:
    """An empty key store on each backend in turn."""
    return migrated_store(settings)


@pytest.fixture
def sql_store(sql_settings) -> ApiKeyStore:
    """An empty key store on each SQL backend in turn."""
    return migrated_store(sql_settings)


def secret_of(token: str) -> str:
    """The secret part of a well-formed token."""
    parsed = parse_token(token)
    assert parsed is not None
    return parsed[1]


def _raw_rows(settings: Settings) -> list[tuple[object, ...]]:
    """Every column of every ``api_key`` row, read straight from the database."""
    query = (
        "SELECT key_id, secret_hash, organisation, role, label,"
        " CAST(created_at AS text), CAST(revoked_at AS text) FROM api_key"
    )
    if settings.storage is Storage.SQLITE:
        with closing(sqlite3.connect(settings.sqlite_path)) as connection:
            return connection.execute(query).fetchall()
    with psycopg.connect(settings.postgres_conninfo) as connection:
        return connection.execute(query).fetchall()


# --- the protocol and the token ---------------------------------------------


def test_every_backend_satisfies_the_store_protocol(store):
    """The annotation makes mypy check it; the calls exercise it once."""
    as_protocol: ApiKeyStore = store
    key, token = as_protocol.create(BUYER, Role.BUYER_ADMIN)
    assert key == as_protocol.authenticate(token)
    assert [key] == as_protocol.list()
    assert [key] == [record.key for record in as_protocol.records()]
    assert True is as_protocol.revoke(key.key_id)


def test_build_key_store_picks_the_backend_of_the_settings(settings):
    """Memory, SQLite file or PostgreSQL, following ``settings.storage``."""
    expected = {
        Storage.MEMORY: InMemoryApiKeyStore,
        Storage.SQLITE: SQLiteApiKeyStore,
        Storage.POSTGRES: PostgresApiKeyStore,
    }[settings.storage]
    assert isinstance(build_key_store(settings), expected)


def test_a_token_is_kl_then_a_12_character_id_then_a_43_character_secret(store):
    """``kl_<key_id>_<secret>``; the id in the token is the key's id."""
    key, token = store.create(BUYER, Role.BUYER_ADMIN)
    match = TOKEN.fullmatch(token)
    assert match is not None
    assert key.key_id == match[1]
    assert (key.key_id, match[2]) == parse_token(token)


def test_every_key_gets_its_own_id_and_secret(store):
    """Ids and secrets are random, never reused."""
    made = [store.create(BUYER, Role.BUYER_ADMIN) for _ in range(20)]
    assert 20 == len({key.key_id for key, _ in made})
    assert 20 == len({token for _, token in made})


# --- authentication ---------------------------------------------------------


def test_a_created_key_authenticates_with_its_token(store):
    """The round trip gives back the key: organisation, role and label."""
    key, token = store.create(f"  {PROVIDER} ", Role.PROVIDER_ADMIN, label="Bosted Lærkereden")
    expected = ApiKey(key.key_id, PROVIDER, Role.PROVIDER_ADMIN, "Bosted Lærkereden")
    assert expected == key
    assert expected == store.authenticate(token)


def test_every_role_round_trips(store):
    """All four roles; the API calls the operator "system administrator"."""
    for role in Role:
        key, token = store.create(BUYER, role)
        assert role is store.authenticate(token).role
        assert role is key.role


def test_the_label_defaults_to_empty(store):
    """A key without a label has the empty label, stored and read back."""
    key, token = store.create(BUYER, Role.AUDITOR)
    expected_label = ""
    assert expected_label == key.label
    assert expected_label == store.authenticate(token).label


def test_a_key_needs_an_organisation(store):
    """A blank organisation is refused and nothing is stored."""
    with pytest.raises(ValueError, match="organisation"):
        store.create("   ", Role.AUDITOR)
    assert [] == store.list()


def test_a_wrong_secret_does_not_authenticate(store):
    """The key id alone is not enough."""
    key, token = store.create(BUYER, Role.BUYER_ADMIN)
    secret = secret_of(token)
    other_secret = "A" + secret[1:] if secret[0] != "A" else "B" + secret[1:]
    assert None is store.authenticate(f"kl_{key.key_id}_{other_secret}")


def test_an_unknown_key_id_does_not_authenticate(store):
    """A well-formed token with an id the store never made."""
    key, token = store.create(BUYER, Role.BUYER_ADMIN)
    secret = secret_of(token)
    unknown = "Z" * 12 if key.key_id != "Z" * 12 else "Y" * 12
    assert None is store.authenticate(f"kl_{unknown}_{secret}")


def test_another_keys_secret_does_not_authenticate(store):
    """A secret is bound to its own key id."""
    first, _ = store.create(BUYER, Role.BUYER_ADMIN)
    _, second_token = store.create(PROVIDER, Role.PROVIDER_ADMIN)
    second_secret = secret_of(second_token)
    assert None is store.authenticate(f"kl_{first.key_id}_{second_secret}")


MALFORMED: list[tuple[str, Callable[[str], object]]] = [
    ("empty", lambda _: ""),
    ("prefix only", lambda _: "kl_"),
    ("bearer scheme left on", lambda t: f"Bearer {t}"),
    ("leading space", lambda t: f" {t}"),
    ("trailing newline", lambda t: f"{t}\n"),
    ("one character more", lambda t: f"{t}x"),
    ("one character less", lambda t: t[:-1]),
    ("upper-case prefix", lambda t: "KL_" + t[3:]),
    ("dash for the separator", lambda t: f"{t[:15]}-{t[16:]}"),
    ("no separator", lambda t: t[:15] + t[16:]),
    ("id only", lambda t: t[:15]),
    ("secret only", lambda t: t[16:]),
    ("non-ascii id", lambda t: "kl_" + "æ" * 12 + t[15:]),
    ("non-ascii secret", lambda t: t[:-1] + "ø"),
    ("nul byte", lambda t: t[:20] + "\x00" + t[21:]),
    ("huge", lambda t: t + "a" * 100_000),
    ("None", lambda _: None),
    ("bytes", lambda t: t.encode()),
    ("number", lambda _: 42),
]


def test_a_malformed_token_authenticates_as_none_and_never_raises(store):
    """Whatever arrives in the Authorization header, the answer is None."""
    _, token = store.create(BUYER, Role.BUYER_ADMIN)
    for name, spoil in MALFORMED:
        assert None is store.authenticate(spoil(token)), name
    # Guard against a vacuous pass: the unspoilt token does authenticate.
    assert None is not store.authenticate(token)


# --- revocation and listing -------------------------------------------------


def test_a_revoked_key_no_longer_authenticates(store):
    """Revocation takes effect on the next request."""
    key, token = store.create(BUYER, Role.BUYER_ADMIN)
    assert True is store.revoke(key.key_id)
    assert None is store.authenticate(token)


def test_revoking_twice_or_an_unknown_key_returns_false(store):
    """Only the first revocation of a key revokes anything."""
    key, _ = store.create(BUYER, Role.BUYER_ADMIN)
    store.revoke(key.key_id)
    assert False is store.revoke(key.key_id)
    assert False is store.revoke("A" * 12)


def test_revoking_one_key_leaves_the_others_working(store):
    """Keys are independent, even for one organisation."""
    revoked, _ = store.create(BUYER, Role.BUYER_ADMIN)
    kept, kept_token = store.create(BUYER, Role.BUYER_ADMIN)
    store.revoke(revoked.key_id)
    assert kept == store.authenticate(kept_token)


def test_a_key_remembers_how_far_into_the_log_it_wrote_and_never_moves_back(store):
    key, token = store.create("29189919", Role.BUYER_ADMIN)
    _, other_token = store.create("29189919", Role.BUYER_ADMIN)
    assert _authenticated(store, token).written_through == 0
    store.note_written(key.key_id, 42)
    store.note_written(key.key_id, 17)  # an older write finishing late
    store.note_written(key.key_id, 0)  # a request that wrote nothing
    assert _authenticated(store, token).written_through == 42
    assert _authenticated(store, other_token).written_through == 0
    assert _authenticated(store, token) == key  # still the same key


def _authenticated(store: ApiKeyStore, token: str) -> ApiKey:
    found = store.authenticate(token)
    assert found is not None
    return found


def test_list_shows_the_active_keys(store):
    """Revoked keys drop out of the list; nothing secret is in it."""
    keys = [store.create(org, role)[0] for org, role in [(BUYER, Role.BUYER_ADMIN)] * 2]
    keys.append(store.create(PROVIDER, Role.OPERATOR, label="ops")[0])
    store.revoke(keys[0].key_id)
    listed = store.list()
    assert sorted(keys[1:], key=lambda k: k.key_id) == sorted(listed, key=lambda k: k.key_id)


def test_list_is_empty_at_first(store):
    """A fresh store has no keys."""
    assert [] == store.list()
    assert [] == store.records()


def test_records_keep_revoked_keys_with_when_they_were_made_and_revoked(store):
    """``ledger keys list`` shows the whole history, oldest first; only revocation differs."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    revoked, _ = store.create(BUYER, Role.BUYER_ADMIN, label="old")
    kept, _ = store.create(PROVIDER, Role.PROVIDER_ADMIN)
    store.revoke(revoked.key_id)

    records = store.records()

    assert [revoked, kept] == [record.key for record in records]
    old, new = records
    assert [False, True] == [old.active, new.active]
    assert None is new.revoked_at
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert old.revoked_at is not None
    for instant in (old.created_at, new.created_at, old.revoked_at):
        assert before <= instant <= after  # timezone-aware UTC instants on every backend
    assert old.created_at <= old.revoked_at


def test_records_hold_no_secret(store):
    """A record is the key's public facts and two instants: nothing else to leak."""
    key, token = store.create(BUYER, Role.AUDITOR)
    (record,) = store.records()
    assert {"key", "created_at", "revoked_at"} == set(vars(record))
    assert secret_of(token) not in repr(record)
    assert KeyRecord(key, record.created_at, None) == record


# --- the SQL backends -------------------------------------------------------


def test_a_second_handle_authenticates_what_the_first_created(sql_settings, sql_store):
    """The key is in the database, not in the object."""
    key, token = sql_store.create(BUYER, Role.AUDITOR, label="revisor")
    reopened = build_key_store(sql_settings)
    assert key == reopened.authenticate(token)
    assert True is reopened.revoke(key.key_id)
    assert None is sql_store.authenticate(token)


def test_only_the_hash_of_the_secret_is_stored(sql_settings, sql_store):
    """Every column of the row, read raw, lacks the secret and the token."""
    key, token = sql_store.create(BUYER, Role.BUYER_ADMIN, label="indkøb")
    secret = secret_of(token)
    rows = _raw_rows(sql_settings)
    assert 1 == len(rows)
    raw = "\x1f".join("" if value is None else str(value) for value in rows[0])
    # Guard against a vacuous pass: the row read is the key's, with its hash.
    assert key.key_id in raw
    assert hashlib.sha256(secret.encode()).hexdigest() == rows[0][1]
    assert secret not in raw
    assert secret[:16] not in raw
    assert token not in raw


def test_the_sqlite_file_does_not_contain_the_secret(tmp_path):
    """Not in the table and not anywhere else in the file (journal included)."""
    settings = settings_for("sqlite", tmp_path, "unused")
    migrate_sqlite(settings.sqlite_path)
    store = build_key_store(settings)
    _, token = store.create(BUYER, Role.BUYER_ADMIN)
    secret = secret_of(token)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_the_sqlite_store_refuses_an_in_memory_database():
    """Each operation opens its own connection, so ':memory:' would lose every key."""
    with pytest.raises(ValueError, match="database file"):
        SQLiteApiKeyStore(":memory:")


def test_the_postgres_stores_repr_hides_the_connection_string():
    """The conninfo may carry a password, so it stays out of logs."""
    assert "hunter2" not in repr(PostgresApiKeyStore("host=db user=ledger password=hunter2"))


# --- migration --------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_the_api_migration_is_one_of_the_numbered_files(dialect):
    """``ledger migrate`` finds 0003 for each dialect, by its file name."""
    found = {m.version: m for m in pending(dialect, set())}
    assert f"0003_api.{dialect}.sql" == found["0003"].path.name


def test_ledger_migrate_makes_the_table_and_may_run_twice(sql_settings):
    """The first run applies 0003; the second applies nothing and keeps the keys."""
    first = migrate(sql_settings)
    assert "0003_api" in first
    key, token = build_key_store(sql_settings).create(BUYER, Role.BUYER_ADMIN)
    assert [] == migrate(sql_settings)
    assert key == build_key_store(sql_settings).authenticate(token)
