"""Settings refuse unsafe configurations; logs never carry a CPR number."""

from __future__ import annotations

import json

import pytest
import structlog
from pydantic import ValidationError

from adapters import logs
from adapters.bootstrap import event_store_env
from adapters.migrate import pending
from adapters.settings import Settings, Storage


def test_the_default_is_an_sqlite_file_under_var(monkeypatch):
    """A newcomer's first run needs no environment variables."""
    monkeypatch.delenv("KONTRAKTLEDGER_STORAGE", raising=False)

    settings = Settings()

    assert Storage.SQLITE == settings.storage
    assert "var/kontraktledger.sqlite" == settings.sqlite_path.as_posix()


def test_postgres_without_a_citizen_key_is_refused(monkeypatch):
    """A generated local key would make the register unreadable elsewhere."""
    monkeypatch.setenv("KONTRAKTLEDGER_STORAGE", "postgres")
    monkeypatch.delenv("KONTRAKTLEDGER_CITIZEN_KEY", raising=False)

    with pytest.raises(ValidationError, match="CITIZEN_KEY"):
        Settings()


def test_an_empty_password_does_not_swallow_the_database_name():
    """The conninfo quotes an empty password, so dbname is still read as dbname."""
    settings = Settings(storage=Storage.SQLITE, postgres_dbname="ledgerdb")

    conninfo = settings.server_conninfo("ledgerdb")

    assert "password=''" in conninfo
    assert "dbname=ledgerdb" in conninfo


def test_a_cipher_key_turns_on_payload_encryption(tmp_path):
    """With a key the event store encrypts payloads with the library's AES cipher."""
    settings = Settings(data_dir=tmp_path, cipher_key="a" * 44)

    env = event_store_env(settings)

    assert "eventsourcing.cipher:AESCipher" == env["CIPHER_TOPIC"]
    assert "eventsourcing.sqlite" == env["PERSISTENCE_MODULE"]


def test_migrations_are_chosen_by_dialect_and_skip_applied_ones(tmp_path):
    """Each dialect gets its own files plus the shared ones, in version order."""
    for name in ("0001_a.sqlite.sql", "0001_a.postgres.sql", "0002_b.sql", "0003_c.sqlite.sql"):
        (tmp_path / name).write_text("SELECT 1;")

    todo = pending("sqlite", {"0001"}, tmp_path)

    assert ["0002", "0003"] == [m.version for m in todo]


def test_a_badly_named_migration_is_refused(tmp_path):
    """A typo in a migration name fails loudly instead of being skipped."""
    (tmp_path / "1_oops.sql").write_text("SELECT 1;")

    with pytest.raises(ValueError, match="NNNN_slug"):
        pending("sqlite", set(), tmp_path)


def test_cpr_shaped_numbers_are_redacted_from_log_lines(capsys):
    """Free text that happens to contain a CPR number is redacted before writing."""
    logs.configure()

    structlog.get_logger().info(
        "note", text="borger 010190-1234 indlagt", nested={"cpr": "0101901234"}
    )

    line = json.loads(capsys.readouterr().err)
    assert "borger [CPR REDACTED] indlagt" == line["text"]
    assert {"cpr": "[CPR REDACTED]"} == line["nested"]


def test_dates_and_amounts_are_not_mistaken_for_cpr_numbers():
    """Ten-digit amounts and ISO dates pass through unchanged."""
    assert "2025-04-10 9999999999 1234.56" == logs.redact("2025-04-10 9999999999 1234.56")
