"""Wire the application from settings: event store, cipher, citizen register, clock.

This is the one place that turns :class:`~adapters.settings.Settings` into the
environment the event library reads, so the web app, the command line and the
benchmarks all build the ledger the same way.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from adapters.citizen_store import PostgresCitizenRegister, SQLiteCitizenRegister
from adapters.event_store import RECORDER_TOPIC
from adapters.migrate import migrate_postgres, migrate_sqlite
from adapters.settings import Settings, Storage
from ledger.application import SHARED_CACHE_SIZE, Ledger
from ledger.citizens import CitizenCipher, CitizenRegister, InMemoryCitizenRegister
from ledger.clock import Clock


@dataclass
class Runtime:
    """The application and the stores beside it."""

    ledger: Ledger
    citizens: CitizenRegister
    settings: Settings

    def close(self) -> None:
        """Release database connections."""
        self.ledger.close()


def event_store_env(settings: Settings) -> dict[str, str]:
    """The event library's environment for ``settings``."""
    env: dict[str, str] = {"CREATE_TABLE": "y" if settings.create_tables else "n"}
    if settings.storage is Storage.MEMORY:
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
    elif settings.storage is Storage.SQLITE:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["SQLITE_DBNAME"] = str(settings.sqlite_path)
    else:
        env.update(
            {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,  # ADR 0016
                "POSTGRES_HOST": settings.postgres_host,
                "POSTGRES_PORT": str(settings.postgres_port),
                "POSTGRES_USER": settings.postgres_user,
                "POSTGRES_PASSWORD": settings.postgres_password.get_secret_value(),
                "POSTGRES_DBNAME": settings.postgres_dbname,
                "POSTGRES_SCHEMA": settings.postgres_schema,
            }
        )
    if settings.aggregate_cache_size > 0:
        env[SHARED_CACHE_SIZE] = str(settings.aggregate_cache_size)
    if settings.cipher_key is not None:
        env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key.get_secret_value()
    return env


def citizen_key(settings: Settings) -> str:
    """The register key: configured, or (SQLite/memory only) a local key file made once."""
    if settings.citizen_key is not None:
        return settings.citizen_key.get_secret_value()
    if settings.storage is Storage.MEMORY:
        return CitizenCipher.create_key()
    path = settings.data_dir / "citizen-register.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, CitizenCipher.create_key())
    return path.read_text(encoding="utf-8").strip()


def _write_private(path: Path, content: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    fd = os.open(path, flags, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
    """Build the ledger and the citizen register for ``settings`` (default: from env)."""
    settings = settings or Settings()
    cipher = CitizenCipher(citizen_key(settings))
    citizens: CitizenRegister
    if settings.storage is Storage.MEMORY:
        citizens = InMemoryCitizenRegister(cipher)
    elif settings.storage is Storage.SQLITE:
        citizens = SQLiteCitizenRegister(str(settings.sqlite_path), cipher)
    else:
        citizens = PostgresCitizenRegister(settings.postgres_conninfo, cipher)
    ledger = Ledger(event_store_env(settings), clock=clock, citizens=citizens)
    return Runtime(ledger, citizens, settings)


def ensure_postgres_database(settings: Settings) -> None:
    """Create the configured database and schema if they do not exist yet."""
    with psycopg.connect(settings.server_conninfo("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.postgres_dbname,)
        ).fetchone()
        if exists is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.postgres_dbname))
            )
    with psycopg.connect(
        settings.server_conninfo(settings.postgres_dbname), autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.postgres_schema)
            )
        )


def migrate(settings: Settings) -> list[str]:
    """Create the event tables and apply pending SQL migrations; returns what ran."""
    if settings.storage is Storage.MEMORY:
        return []
    if settings.storage is Storage.POSTGRES:
        ensure_postgres_database(settings)
    # Building the ledger with CREATE_TABLE on creates the library's tables.
    creating = settings.model_copy(update={"create_tables": True})
    runtime = build(creating)
    try:
        # The views' tracking tables are made by the library too: build them once,
        # so that web and worker processes may run with create_tables off.
        from adapters.views import Views  # noqa: PLC0415 - adapters.views imports this module

        Views(creating, runtime.ledger).close()
    finally:
        runtime.close()
    if settings.storage is Storage.SQLITE:
        applied = migrate_sqlite(settings.sqlite_path)
    else:
        applied = migrate_postgres(settings.postgres_conninfo)
    return [f"{m.version}_{m.name}" for m in applied]
