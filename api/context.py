"""What every route reaches: the ledger, its read models and the API's own stores."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from psycopg_pool import ConnectionPool

from adapters.api_keys import ApiKeyStore
from adapters.bootstrap import Runtime
from adapters.idempotency import IdempotencyStore
from adapters.settings import Settings
from adapters.views import Views
from ledger.application import Ledger
from ledger.citizens import CitizenRegister


@dataclass
class Context:
    """The app's services, built once by :func:`api.app.create_app`."""

    settings: Settings
    runtime: Runtime
    views: Views
    keys: ApiKeyStore
    idempotency: IdempotencyStore
    pool: ConnectionPool | None = None
    request_key: bytes = b""
    """Keys the digests of stored requests (a citizen's CPR may be in a body)."""

    @property
    def ledger(self) -> Ledger:
        """The application service."""
        return self.runtime.ledger

    @property
    def citizens(self) -> CitizenRegister:
        """The citizen register (CPR and name, outside the events)."""
        return self.runtime.citizens

    def close(self) -> None:
        """Release connections."""
        self.views.close()
        self.runtime.close()
        if self.pool is not None:
            self.pool.close()


def context(request: Request) -> Context:
    """The app's context (a FastAPI dependency)."""
    found: Context = request.app.state.context
    return found
