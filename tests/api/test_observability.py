"""Request ids, request logs, metrics and the operations endpoints (api.observability)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from fastapi import Depends, FastAPI, HTTPException, Request
from structlog.testing import capture_logs

from adapters import logs
from api.observability import install_observability

CPR_SHAPED = "0101901234"
THING_ROUTE = "/v1/things/{thing_id}"


@dataclass
class Answer:
    """What an ASGI application sent back for one request."""

    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


def call(app: FastAPI, path: str, headers: Mapping[str, str] | None = None) -> Answer:
    """Send one GET request straight through the ASGI interface (no server, no client)."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(
        status=start["status"],
        headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
        body=body,
    )


def build_app(
    readiness: Callable[[], Mapping[str, Any]] = lambda: {"event_store": True},
    lag: Callable[[], Mapping[str, int]] = lambda: {"contract_summary": 3, "billing": 0},
    dependencies: list[Any] | None = None,
) -> FastAPI:
    """A small application with one route, as create_app would wire it."""
    app = FastAPI(dependencies=dependencies)

    @app.get(THING_ROUTE)
    async def thing(thing_id: str, request: Request) -> dict[str, Any]:
        if thing_id == "org":  # what the auth layer does for an authenticated caller
            request.state.organisation = "kommune-101"
        return {
            "thing_id": thing_id,
            "request_id": request.state.request_id,
            "bound": structlog.contextvars.get_contextvars().get("request_id"),
        }

    install_observability(app, readiness=readiness, lag=lag)
    return app


def request_lines(captured: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [entry for entry in captured if entry["event"] == "request"]


# --- request id ------------------------------------------------------------------


def test_a_safe_incoming_request_id_is_echoed_bound_and_given_to_the_route():
    app = build_app()

    answer = call(app, "/v1/things/abc", {"X-Request-ID": "edge-42.a_b"})

    assert 200 == answer.status
    assert "edge-42.a_b" == answer.headers["x-request-id"]
    assert "edge-42.a_b" == answer.json()["request_id"]
    assert "edge-42.a_b" == answer.json()["bound"]


@pytest.mark.parametrize(
    "incoming",
    [None, "has space", "x" * 65, "semi;colon", "", "ø"],
    ids=["absent", "space", "too-long", "semicolon", "empty", "non-ascii"],
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(incoming):
    app = build_app()
    headers = {} if incoming is None else {"X-Request-ID": incoming}

    answer = call(app, "/v1/things/abc", headers)

    generated = answer.headers["x-request-id"]
    assert 32 == len(generated)
    assert all(c in "0123456789abcdef" for c in generated)
    assert generated == answer.json()["request_id"]


def test_each_request_gets_its_own_request_id():
    app = build_app()

    first = call(app, "/healthz").headers["x-request-id"]
    second = call(app, "/healthz").headers["x-request-id"]

    assert first != second


def test_the_request_id_is_unbound_after_the_request():
    app = build_app()

    call(app, "/v1/things/abc")

    assert "request_id" not in structlog.contextvars.get_contextvars()


# --- request log -----------------------------------------------------------------


def test_one_log_line_per_request_with_the_route_template_not_the_raw_path():
    app = build_app()

    with capture_logs() as captured:
        call(app, f"/v1/things/{CPR_SHAPED}?cpr={CPR_SHAPED}&q=hemmelig", {"X-Request-ID": "r1"})

    [line] = request_lines(captured)
    assert "r1" == line["request_id"]
    assert "GET" == line["method"]
    assert THING_ROUTE == line["route"]
    assert 200 == line["status"]
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["organisation"] is None
    assert "info" == line["log_level"]
    for entry in captured:
        assert CPR_SHAPED not in repr(entry)
        assert "hemmelig" not in repr(entry)


def test_the_log_line_carries_the_organisation_the_auth_layer_set():
    app = build_app()

    with capture_logs() as captured:
        call(app, "/v1/things/org")

    [line] = request_lines(captured)
    assert "kommune-101" == line["organisation"]


def test_an_unmatched_path_is_logged_without_the_path():
    app = build_app()

    with capture_logs() as captured:
        answer = call(app, f"/v1/nowhere/{CPR_SHAPED}")

    assert 404 == answer.status
    [line] = request_lines(captured)
    assert "<unmatched>" == line["route"]
    assert 404 == line["status"]
    assert CPR_SHAPED not in repr(captured)


@pytest.fixture
def reset_structlog() -> Iterator[None]:
    """Forget a configuration that writes to this test's captured stderr."""
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("reset_structlog")
def test_the_rendered_log_line_is_json_with_the_route_template(capsys):
    logs.configure()  # here, not in a fixture: capsys's stderr is the test's own
    app = build_app()

    call(app, f"/v1/things/{CPR_SHAPED}?q=hemmelig", {"X-Request-ID": "r2"})

    err = capsys.readouterr().err
    [line] = [json.loads(raw) for raw in err.splitlines() if '"request"' in raw]
    assert {"event": "request", "request_id": "r2", "route": THING_ROUTE}.items() <= line.items()
    assert CPR_SHAPED not in err
    assert "hemmelig" not in err


# --- metrics ---------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_and_report_the_lag():
    app = build_app(lag=lambda: {"contract_summary": 3, "billing": 0})
    call(app, f"/v1/things/{CPR_SHAPED}")
    call(app, "/v1/things/abc")

    answer = call(app, "/metrics")

    assert 200 == answer.status
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.body.decode()
    assert (
        'kl_http_requests_total{method="GET",route="/v1/things/{thing_id}",status="200"} 2.0'
        in text
    )
    assert (
        'kl_http_request_duration_seconds_count{method="GET",route="/v1/things/{thing_id}"} 2.0'
        in text
    )
    assert 'kl_projection_lag_events{view="contract_summary"} 3.0' in text
    assert 'kl_projection_lag_events{view="billing"} 0.0' in text
    assert CPR_SHAPED not in text


def test_the_lag_gauge_is_read_at_scrape_time():
    lag = {"deadlines": 1}
    app = build_app(lag=lambda: lag)

    lag["deadlines"] = 7
    text = call(app, "/metrics").body.decode()

    assert 'kl_projection_lag_events{view="deadlines"} 7.0' in text


def test_a_failing_lag_source_does_not_break_the_scrape():
    def broken() -> dict[str, int]:
        raise RuntimeError("database gone")

    app = build_app(lag=broken)

    answer = call(app, "/metrics")

    assert 200 == answer.status
    assert "kl_http_requests_total" in answer.body.decode()


def test_each_application_has_its_own_registry():
    first, second = build_app(), build_app()
    call(first, "/v1/things/abc")

    text = call(second, "/metrics").body.decode()

    assert 'route="/v1/things/{thing_id}"' not in text


# --- operations endpoints ----------------------------------------------------------


def test_healthz_answers_ok():
    answer = call(build_app(), "/healthz")

    assert 200 == answer.status
    assert {"status": "ok"} == answer.json()


def test_readyz_is_ready_when_every_check_passes():
    app = build_app(readiness=lambda: {"event_store": True, "views": True})

    answer = call(app, "/readyz")

    assert 200 == answer.status
    assert {"status": "ready", "checks": {"event_store": True, "views": True}} == answer.json()


def test_readyz_is_503_when_a_check_fails():
    app = build_app(readiness=lambda: {"event_store": True, "views": False})

    answer = call(app, "/readyz")

    assert 503 == answer.status
    assert {"status": "not-ready", "checks": {"event_store": True, "views": False}} == (
        answer.json()
    )


def test_readyz_counts_a_raising_check_as_failed():
    def database() -> bool:
        raise ConnectionError("no route to host")

    app = build_app(readiness=lambda: {"event_store": database, "views": lambda: True})

    answer = call(app, "/readyz")

    assert 503 == answer.status
    assert {"status": "not-ready", "checks": {"event_store": False, "views": True}} == (
        answer.json()
    )


def test_readyz_is_503_when_the_readiness_function_itself_raises():
    def readiness() -> dict[str, bool]:
        raise ConnectionError("no route to host")

    answer = call(build_app(readiness=readiness), "/readyz")

    assert 503 == answer.status
    assert {"status": "not-ready", "checks": {"readiness": False}} == answer.json()


def test_operations_endpoints_need_no_authentication():
    def deny() -> None:
        raise HTTPException(status_code=401, detail="no credentials")

    app = build_app(dependencies=[Depends(deny)])

    assert 401 == call(app, "/v1/things/abc").status
    assert 200 == call(app, "/healthz").status
    assert 200 == call(app, "/readyz").status
    assert 200 == call(app, "/metrics").status


def test_healthz_and_readyz_are_documented_under_operations_and_metrics_is_not():
    paths = build_app().openapi()["paths"]

    assert ["operations"] == paths["/healthz"]["get"]["tags"]
    assert ["operations"] == paths["/readyz"]["get"]["tags"]
    assert "503" in paths["/readyz"]["get"]["responses"]
    assert "/metrics" not in paths
