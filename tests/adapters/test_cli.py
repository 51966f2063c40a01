"""The ``ledger`` command end to end on the SQLite default and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from adapters.cli import main
from ledger.citizens import CitizenCipher
from tests.conftest import postgres_conninfo, postgres_settings


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default SQLite store at a fresh directory."""
    for name in ("KONTRAKTLEDGER_STORAGE", "KONTRAKTLEDGER_CITIZEN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KONTRAKTLEDGER_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


@pytest.fixture
def postgres_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI at a fresh schema in the test database."""
    schema = f"kl_cli_{uuid.uuid4().hex[:8]}"
    settings = postgres_settings()
    monkeypatch.setenv("KONTRAKTLEDGER_STORAGE", "postgres")
    monkeypatch.setenv("KONTRAKTLEDGER_CITIZEN_KEY", CitizenCipher.create_key())
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_HOST", settings["POSTGRES_HOST"])
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_PORT", settings["POSTGRES_PORT"])
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_USER", settings["POSTGRES_USER"])
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_PASSWORD", settings["POSTGRES_PASSWORD"])
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_DBNAME", settings["POSTGRES_DBNAME"])
    monkeypatch.setenv("KONTRAKTLEDGER_POSTGRES_SCHEMA", schema)
    yield schema
    with psycopg.connect(postgres_conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_migrate_then_demo_then_list_shows_the_demo_contracts(sqlite_env, capsys):
    """The README's main job works on the zero-configuration SQLite default."""
    assert 0 == main(["migrate"])
    assert 0 == main(["demo"])
    capsys.readouterr()

    assert 0 == main(["contract", "list", "--show", "--until", "2026-03-31"])

    out = capsys.readouterr().out
    assert 4 == out.count("=" * 100)
    assert "2025-04-10 .. 2025-12-31  step 4" in out  # the approved renegotiation
    assert "set by RegulatedByTariffSheet" in out
    assert "payment ends 2025-10-31" in out  # re-occupied 1 November, option 1
    assert (sqlite_env / "kontraktledger.sqlite").exists()


@pytest.mark.usefixtures("sqlite_env")
def test_running_migrate_and_demo_twice_changes_nothing(capsys):
    """``ops/run`` may be run again: migrations and demo data load once."""
    main(["migrate"])
    main(["demo"])
    capsys.readouterr()

    assert 0 == main(["migrate"])
    assert 0 == main(["demo"])

    out = capsys.readouterr().out
    assert "applied: nothing new" in out
    assert "demo data already present: 4 contracts" in out


@pytest.mark.usefixtures("sqlite_env")
def test_show_as_known_at_a_past_instant_hides_later_events(capsys):
    """An auditor sees the price timeline as it was known before the approval."""
    main(["migrate"])
    main(["demo"])
    capsys.readouterr()
    main(["contract", "list"])
    second = capsys.readouterr().out.splitlines()[1].split()[0]

    assert 0 == main(["contract", "show", second, "--known-at", "2025-04-20T12:00"])

    out = capsys.readouterr().out
    assert "renegotiation R1 on line 1 by provider, received 2025-04-10: open" in out
    # (120 + 90 + 60/2) minutes on 7 days + 60 minutes on 5 days = 33 h/week: step 4 (30-37 h)
    assert "Bilag 3 schedule: 33.00 h/week, which falls in step 4 (proposed 4)" in out
    price_rows = [line for line in out.splitlines() if "DKK/day" in line]
    assert [] == [row for row in price_rows if " step 4 " in row]
    assert any(" step 2 " in row for row in price_rows)


@pytest.mark.usefixtures("sqlite_env")
def test_cli_output_and_logs_carry_no_personal_data(capsys):
    """Names and CPR numbers of the demo citizens never reach the terminal."""
    main(["migrate"])
    main(["demo"])
    main(["contract", "list", "--show"])

    captured = capsys.readouterr()
    for secret in ("Anna Demo", "0101901234", "Bo Demo", "1502851234"):
        assert secret not in captured.out
        assert secret not in captured.err


@pytest.mark.usefixtures("sqlite_env")
def test_an_unknown_contract_exits_with_the_rule_named(capsys):
    """A domain error becomes a one-line message and exit code 2."""
    main(["migrate"])

    assert 2 == main(["contract", "show", str(uuid.uuid4())])

    assert "error [contract-not-found]" in capsys.readouterr().err


def test_migrate_demo_and_list_work_on_postgres(postgres_env, capsys):
    """The same commands run against PostgreSQL, in their own schema."""
    assert 0 == main(["migrate"])
    assert 0 == main(["migrate"])
    assert 0 == main(["demo"])
    capsys.readouterr()

    assert 0 == main(["contract", "list"])

    assert 4 == len(capsys.readouterr().out.splitlines())
    with psycopg.connect(postgres_conninfo()) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (postgres_env,),
            )
        }
    assert {"ledger_events", "ledger_snapshots", "citizen_register", "schema_migrations"} <= tables
