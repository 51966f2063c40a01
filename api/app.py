"""The FastAPI application: ``create_app(settings)`` wires the ledger, views and stores."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg_pool import ConnectionPool

from adapters.api_keys import build_key_store
from adapters.bootstrap import build, citizen_key
from adapters.gc_schedule import full_collections_every
from adapters.idempotency import build_idempotency_store
from adapters.settings import Settings, Storage
from adapters.views import Views
from api.context import Context
from api.observability import install_observability
from api.problems import install_problem_handlers
from api.routes import citizens, contracts, history, read_models, regulation, tariffs
from ledger.clock import Clock

DESCRIPTION = """\
The contract ledger for Danish municipalities buying social-care places
(Serviceloven §§ 85, 103, 104, 107, 108, ABL § 105) from providers.

Every change to a contract is an immutable event. Reads can ask for a day
(`as_of`, valid time) and for what was known at an instant (`known_at`,
record time).

**Authentication:** `Authorization: Bearer <API key>`. `ledger keys create`
makes a key, and `ledger serve` prints demo keys. You see only contracts your
organisation is a party to. Anything else is a 404.

**Writes:** send the `ETag` you read back as `If-Match` (a stale one gets 412).
Send an `Idempotency-Key` to make a retried POST safe.

**Errors** are RFC 9457 problem documents (`application/problem+json`).
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the API over the storage ``settings`` name (default: from the environment)."""
    settings = settings or Settings()
    runtime = build(settings, clock=clock)
    # On PostgreSQL, keys and idempotency records share one small pool: a new
    # connection per request would cost more than the request itself.
    pool = None
    if settings.storage is Storage.POSTGRES:
        # Autocommit: a single statement is one round trip, not three (BEGIN,
        # the statement, COMMIT). The stores open a transaction where they need one.
        pool = ConnectionPool(
            settings.postgres_conninfo,
            min_size=2,
            max_size=8,
            name="api",
            open=True,
            kwargs={"autocommit": True},
        )
    ctx = Context(
        settings=settings,
        runtime=runtime,
        views=Views(settings, runtime.ledger),
        keys=build_key_store(settings, pool),
        idempotency=build_idempotency_store(settings, pool),
        pool=pool,
        request_key=hashlib.sha256(
            b"kontraktledger/idempotency/v1:" + citizen_key(settings).encode()
        ).digest(),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with full_collections_every(settings.gc_full_collection_seconds):
            yield
        ctx.close()

    app = FastAPI(
        title="kontraktledger",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.context = ctx
    install_problem_handlers(app)
    install_observability(app, readiness=lambda: _readiness(ctx), lag=lambda: _lag(ctx))
    for module in (contracts, history, read_models, citizens, tariffs, regulation):
        app.include_router(module.router)
    return app


def _readiness(ctx: Context) -> dict[str, Callable[[], bool]]:
    """One check per dependency, so /readyz says which one is down."""
    return {
        "store": lambda: ctx.views.head() >= 0,
        "views": lambda: all(status.position >= 0 for status in ctx.views.status()),
    }


def _lag(ctx: Context) -> dict[str, int]:
    return {status.name: status.lag for status in ctx.views.status()}
