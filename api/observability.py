"""Operations endpoints, request ids, request logs and Prometheus metrics.

:func:`install_observability` gives an application:

* a request id per request: the caller's ``X-Request-ID`` when it is a safe
  token, else a fresh one; echoed in the response, bound in structlog's context
  variables and readable by routes as ``request.state.request_id``;
* one JSON log line per request (event ``request``) with the matched route's
  path *template*, never the raw path or the query string, so that no contract
  id or CPR number reaches the logs (architecture section 8);
* Prometheus metrics in a registry of the application's own;
* ``GET /healthz``, ``GET /readyz`` and ``GET /metrics``, without authentication.

The log lines go through structlog as :mod:`adapters.logs` configures it (JSON,
CPR redaction); if nothing has configured structlog yet, installing does.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import structlog
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters import logs

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request that matched no route (a 404): never the raw path."""
OPERATIONS_TAG = "operations"

ReadinessCheck = bool | Callable[[], bool]
"""A readiness check's result, or a callable that computes it (a raise counts as False)."""

log = structlog.get_logger("kontraktledger.http")


class Health(BaseModel):
    """The answer of ``GET /healthz``."""

    status: Literal["ok"] = Field("ok", description="Always ok: the process answers")


class Readiness(BaseModel):
    """The answer of ``GET /readyz``: overall status and each check's result."""

    status: Literal["ready", "not-ready"] = Field(description="ready when every check passed")
    checks: dict[str, bool] = Field(
        description="Each dependency and whether it answered",
        examples=[{"store": True, "views": True}],
    )


class HttpMetrics:
    """The application's request counter and latency histogram, in its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the HTTP metrics in ``registry``."""
        self.requests = Counter(
            "kl_http_requests",  # exposed as kl_http_requests_total
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "kl_http_request_duration_seconds",
            "Time from receiving a request to finishing its response, by route template.",
            ("method", "route"),
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and record its duration."""
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.duration.labels(method=method, route=route).observe(seconds)


class ProjectionLagCollector(Collector):
    """``kl_projection_lag_events{view}``, read from ``lag()`` at every scrape."""

    def __init__(self, lag: Callable[[], Mapping[str, int]]) -> None:
        """Collect the lag that ``lag`` reports per view."""
        self._lag = lag

    def collect(self) -> Iterator[Metric]:
        """One gauge sample per view; none when the lag cannot be read."""
        gauge = GaugeMetricFamily(
            "kl_projection_lag_events",
            "Events recorded in the ledger that the read model has not applied yet.",
            labels=("view",),
        )
        try:
            lags = dict(self._lag())
        except Exception as error:  # noqa: BLE001 - a scrape must not fail on one gauge
            log.warning("projection-lag-unavailable", error=type(error).__name__)
            lags = {}
        for view, events in sorted(lags.items()):
            gauge.add_metric((view,), float(events))
        yield gauge


class ObservabilityMiddleware:
    """Pure ASGI middleware: request id, one log line and metrics per HTTP request."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        """Wrap ``app``; record request metrics in ``metrics``."""
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection; only HTTP requests are observed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500  # what the client gets if the application raises before answering
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                seconds = time.perf_counter() - started
                method = str(scope["method"])
                route = route_template(scope)
                self.metrics.observe(method, route, status, seconds)
                organisation = state.get("organisation")
                log.info(
                    "request",
                    request_id=request_id,
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 3),
                    organisation=None if organisation is None else str(organisation),
                )


def incoming_request_id(scope: Scope) -> str | None:
    """The caller's ``X-Request-ID`` if it is a token of 1-64 of ``[A-Za-z0-9._-]``."""
    wanted = REQUEST_ID_HEADER.lower().encode("latin-1")
    for name, value in scope.get("headers", ()):
        if name.lower() == wanted:
            candidate = value.decode("latin-1")
            return candidate if SAFE_REQUEST_ID.fullmatch(candidate) else None
    return None


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request (not the raw path)."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


def readiness_report(
    readiness: Callable[[], Mapping[str, ReadinessCheck]],
) -> Readiness:
    """Run the readiness checks; a check that raises, or is not True, fails."""
    try:
        checks = dict(readiness())
    except Exception as error:  # noqa: BLE001 - not ready is the answer, not a 500
        log.warning("readiness-check-failed", check=None, error=type(error).__name__)
        return Readiness(status="not-ready", checks={"readiness": False})
    results = {name: _run_check(name, check) for name, check in checks.items()}
    ready = all(results.values())
    return Readiness(status="ready" if ready else "not-ready", checks=results)


def _run_check(name: str, check: ReadinessCheck) -> bool:
    try:
        result = check() if callable(check) else check
    except Exception as error:  # noqa: BLE001 - a raising check counts as failed
        log.warning("readiness-check-failed", check=name, error=type(error).__name__)
        return False
    return result is True


def install_observability(
    app: FastAPI,
    *,
    readiness: Callable[[], Mapping[str, ReadinessCheck]],
    lag: Callable[[], Mapping[str, int]],
) -> None:
    """Add request ids, request logs, metrics and the operations endpoints to ``app``.

    ``readiness`` returns each check's name and result (or a callable giving it);
    ``lag`` returns each read model's lag in events (e.g. from ``Views.status()``).
    Both are called per request to ``/readyz`` and ``/metrics``, in a worker
    thread, so they may block on the database.

    Call it before the application starts and after adding any other middleware,
    so that the observability middleware is outermost and sees every response.
    The three routes carry no dependencies, not even the application's own.
    The metrics registry is kept as ``app.state.metrics_registry``.
    """
    if not structlog.is_configured():
        logs.configure()
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    registry.register(ProjectionLagCollector(lag))
    app.state.metrics_registry = registry
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)

    async def healthz() -> Health:
        """The process is up and serving requests."""
        return Health()

    def readyz() -> JSONResponse:
        """Ready when every readiness check passes; 503 otherwise."""
        report = readiness_report(readiness)
        code = 200 if report.status == "ready" else 503
        return JSONResponse(report.model_dump(), status_code=code)

    def metrics_endpoint() -> Response:
        """The Prometheus text exposition of this application's metrics."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    not_ready: dict[int | str, dict[str, Any]] = {
        503: {"model": Readiness, "description": "A readiness check failed"}
    }
    # APIRoute directly, not app.get: app.get would add the app's own dependencies
    # (authentication among them) to these routes, and probes carry no credentials.
    app.router.routes.extend(
        [
            APIRoute("/healthz", healthz, methods=["GET"], tags=[OPERATIONS_TAG]),
            APIRoute(
                "/readyz",
                readyz,
                methods=["GET"],
                tags=[OPERATIONS_TAG],
                response_model=Readiness,
                responses=not_ready,
            ),
            APIRoute(
                "/metrics",
                metrics_endpoint,
                methods=["GET"],
                include_in_schema=False,
                response_class=Response,
            ),
        ]
    )
