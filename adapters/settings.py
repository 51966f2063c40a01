"""One typed settings object, read from ``KONTRAKTLEDGER_*`` environment variables.

The zero-configuration default is an SQLite file under ``var/``: a newcomer's
first run needs no variables. PostgreSQL, event-payload encryption and the
citizen-register key are switched on by environment. Unsafe combinations are
refused here, at start-up, not discovered later.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from psycopg.conninfo import make_conninfo
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Storage(StrEnum):
    """Where events and the citizen register are stored."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"
    MEMORY = "memory"  # tests and throwaway demos only: nothing survives the process


class Settings(BaseSettings):
    """Runtime configuration; every field has an environment variable."""

    model_config = SettingsConfigDict(env_prefix="KONTRAKTLEDGER_", extra="ignore")

    storage: Storage = Field(Storage.SQLITE, description="sqlite (default), postgres or memory")
    data_dir: Path = Field(Path("var"), description="Directory of the SQLite file and local keys")
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_dbname: str = "kontraktledger"
    postgres_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]*$")
    cipher_key: SecretStr | None = Field(
        None, description="AES key (base64) to encrypt event payloads at rest; off when unset"
    )
    citizen_key: SecretStr | None = Field(
        None,
        description=(
            "AES key (base64) of the citizen register. Required on PostgreSQL; the SQLite "
            "default generates one in data_dir on first use"
        ),
    )
    view_batch_size: int = Field(
        250_000,
        ge=1,
        description=(
            "Most events a view writes in one transaction; a batch also ends at 50,000 "
            "changed contracts, when no event has come for 50 ms, or at the end of a catch-up"
        ),
    )
    aggregate_cache_size: int = Field(
        20_000,
        ge=0,
        description=(
            "Contracts and sheets kept in memory between requests (0: none); a cached one "
            "is brought up to date with one query for newer events before each use"
        ),
    )
    view_wait_seconds: float = Field(
        10.0,
        gt=0,
        description=(
            "How long a read waits for a view to take in the caller's own last write "
            "(PostgreSQL workers) before it answers 503 views-behind"
        ),
    )
    gc_full_collection_seconds: float = Field(
        600.0,
        ge=0,
        description=(
            "API processes: seconds between full garbage collections, which then run "
            "only on this schedule (0: Python's default)"
        ),
    )
    create_tables: bool = Field(
        default=True, description="Let the event library create its tables (off in web workers)"
    )

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.storage is Storage.POSTGRES and self.citizen_key is None:
            msg = (
                "KONTRAKTLEDGER_CITIZEN_KEY is required with PostgreSQL: a generated local "
                "key file would make the register unreadable from other hosts"
            )
            raise ValueError(msg)
        return self

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / "kontraktledger.sqlite"

    @property
    def postgres_conninfo(self) -> str:
        """A psycopg connection string for the configured database and schema."""
        return self.server_conninfo(
            self.postgres_dbname, options=f"-csearch_path={self.postgres_schema}"
        )

    def server_conninfo(self, dbname: str, **extra: str) -> str:
        """A psycopg connection string for ``dbname`` on the configured server.

        Built with ``make_conninfo`` so that an empty password cannot swallow
        the next keyword.
        """
        return make_conninfo(
            host=self.postgres_host,
            port=str(self.postgres_port),
            user=self.postgres_user,
            password=self.postgres_password.get_secret_value(),
            dbname=dbname,
            **extra,
        )
