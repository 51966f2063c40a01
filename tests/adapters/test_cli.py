"""The ``ledger`` command end to end on the SQLite default and on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from adapters.api_keys import ApiKey, InMemoryApiKeyStore, build_key_store
from adapters.bootstrap import build
from adapters.cli import main, organisation_for, renew_demo_keys
from adapters.demo import BUYER_NORD, STOTTEPAKKEN
from adapters.serving import port_problem
from adapters.settings import Settings
from adapters.views import Views
from ledger.citizens import CitizenCipher
from ledger.errors import InvalidIdentifier
from ledger.values import Role
from projections.registry import VIEWS
from tests.conftest import postgres_conninfo, postgres_settings

TOKEN = re.compile(r"kl_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}")


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


# --- ledger keys ---------------------------------------------------------------------


def _created_token(out: str) -> str:
    """The one token ``ledger keys create`` printed."""
    tokens = TOKEN.findall(out)
    assert 1 == len(tokens), out
    return str(tokens[0])


@pytest.mark.usefixtures("sqlite_env")
def test_keys_create_prints_a_token_that_authenticates_and_list_never_shows_it(capsys):
    """The token is printed once; the list names the key but holds no part of its secret."""
    main(["migrate"])
    capsys.readouterr()

    assert 0 == main(
        ["keys", "create", "--org", "29189919", "--role", "buyer-admin", "--label", "indkøb"]
    )

    token = _created_token(capsys.readouterr().out)
    key = build_key_store(Settings()).authenticate(token)
    assert key is not None
    assert ApiKey(key.key_id, "29189919", Role.BUYER_ADMIN, "indkøb") == key
    assert 0 == main(["keys", "list"])
    listed = capsys.readouterr().out
    row = next(line for line in listed.splitlines() if line.startswith(key.key_id))
    assert ["29189919", "buyer-admin"] == row.split()[1:3]
    assert row.endswith("-                 indkøb")  # not revoked
    secret = token.split("_", 2)[2]
    assert secret[:8] not in listed
    assert token not in listed


@pytest.mark.usefixtures("sqlite_env")
def test_keys_revoke_makes_the_token_fail_and_list_shows_when(capsys):
    """A revoked key stops authenticating; ``--active`` leaves it out of the list."""
    main(["migrate"])
    main(["keys", "create", "--org", "11715311", "--role", "provider-admin"])
    token = _created_token(capsys.readouterr().out)
    key_id = token[3:15]

    assert 0 == main(["keys", "revoke", key_id])

    assert f"revoked API key {key_id}" in capsys.readouterr().out
    assert None is build_key_store(Settings()).authenticate(token)
    main(["keys", "list"])
    row = next(line for line in capsys.readouterr().out.splitlines() if key_id in line)
    assert re.search(r"provider-admin  \d{4}-\d\d-\d\d \d\d:\d\d  \d{4}-\d\d-\d\d \d\d:\d\d", row)
    main(["keys", "list", "--active"])
    assert key_id not in capsys.readouterr().out
    assert 1 == main(["keys", "revoke", key_id])  # already revoked
    assert f"no active API key {key_id}" in capsys.readouterr().err


@pytest.mark.usefixtures("sqlite_env")
def test_keys_create_refuses_an_invalid_organisation_and_stores_nothing(capsys):
    """A wrong CVR check digit exits 2 naming the rule; no key is made."""
    main(["migrate"])
    capsys.readouterr()

    assert 2 == main(["keys", "create", "--org", "29189918", "--role", "auditor"])

    assert "error [invalid-identifier]" in capsys.readouterr().err
    assert [] == build_key_store(Settings()).records()


@pytest.mark.parametrize(
    ("role", "given", "expected"),
    [
        (Role.BUYER_ADMIN, "29 18 99 19", "29189919"),
        (Role.PROVIDER_ADMIN, "11715311", "11715311"),
        (Role.PROVIDER_ADMIN, "1012345678", "1012345678"),  # a P-number
        (Role.AUDITOR, "1012345678", "1012345678"),
        (Role.OPERATOR, " system ", "system"),
    ],
)
def test_a_key_acts_for_a_valid_organisation_of_its_role(role, given, expected):
    """Buyers by CVR; providers and auditors by CVR or P-number; operators for 'system'."""
    assert expected == organisation_for(role, given)


@pytest.mark.parametrize(
    ("role", "given"),
    [
        (Role.BUYER_ADMIN, "1012345678"),  # a municipality is a CVR, not a P-number
        (Role.BUYER_ADMIN, "system"),
        (Role.AUDITOR, "SYSTEM"),
        (Role.PROVIDER_ADMIN, "11715312"),  # check digit
        (Role.AUDITOR, "2918991"),  # neither 8 nor 10 digits
        (Role.OPERATOR, "29189919"),  # no contract party: not a buyer's or provider's CVR
        (Role.OPERATOR, "System"),
    ],
)
def test_a_key_refuses_an_organisation_its_role_cannot_act_for(role, given):
    """The org is refused as the field ``org``."""
    with pytest.raises(InvalidIdentifier) as refused:
        organisation_for(role, given)
    assert "org" == refused.value.field


@pytest.mark.usefixtures("sqlite_env")
def test_keys_need_a_migrated_store(capsys):
    """Before ``ledger migrate`` the command says what to do instead of a traceback."""
    assert 2 == main(["keys", "list"])

    assert "run `ledger migrate` first" in capsys.readouterr().err


# --- demo keys ---------------------------------------------------------------------------


def test_renewing_demo_keys_revokes_the_earlier_demo_keys_only():
    """Each ``serve --demo`` makes one fresh key per role; earlier demo keys stop working."""
    store = InMemoryApiKeyStore()
    own, own_token = store.create("29189919", Role.BUYER_ADMIN, label="indkøb")
    first = renew_demo_keys(store)

    second = renew_demo_keys(store)

    assert [None] * 4 == [store.authenticate(k.token) for k in first]
    renewed = [store.authenticate(k.token) for k in second]
    assert [
        (Role.BUYER_ADMIN, BUYER_NORD.cvr, "demo:buyer-admin"),
        (Role.PROVIDER_ADMIN, STOTTEPAKKEN.registration, "demo:provider-admin"),
        (Role.AUDITOR, BUYER_NORD.cvr, "demo:auditor"),
        (Role.OPERATOR, "system", "demo:operator"),
    ] == [(k.role, k.organisation, k.label) for k in renewed if k is not None]
    assert own == store.authenticate(own_token)
    assert 5 == len(store.list())
    assert 9 == len(store.records())


# --- ledger serve ------------------------------------------------------------------------


@pytest.mark.usefixtures("sqlite_env")
def test_serve_refuses_several_web_processes_on_sqlite(capsys):
    """SQLite is embedded: one process; nothing is served."""
    assert 2 == main(["serve", "--workers", "2"])

    assert "--workers above 1 needs PostgreSQL" in capsys.readouterr().err


@pytest.mark.usefixtures("sqlite_env")
def test_serve_refuses_the_memory_store(monkeypatch, capsys):
    """A web process could not share an in-memory store with anyone."""
    monkeypatch.setenv("KONTRAKTLEDGER_STORAGE", "memory")

    assert 2 == main(["serve", "--demo"])

    assert "memory store keeps nothing" in capsys.readouterr().err


@contextmanager
def watchdog(seconds: float) -> Iterator[Callable[[], float]]:
    """SIGTERM this process after ``seconds``, so a server started in-process cannot hang."""
    started = time.monotonic()
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        yield lambda: time.monotonic() - started
    finally:
        timer.cancel()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local http URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read()
            kind = response.headers.get("content-type", "")
            return response.status, json.loads(body) if "json" in kind else body.decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@dataclass
class Served:
    """A ``ledger serve`` subprocess, its address and what it printed so far."""

    process: subprocess.Popen[bytes]
    base: str
    stdout: Path
    stderr: Path

    def out(self) -> str:
        return self.stdout.read_text(encoding="utf-8")

    def demo_key(self, role: Role) -> str:
        found = re.search(rf"^  {role.value}\s+({TOKEN.pattern})", self.out(), re.MULTILINE)
        assert found is not None, self.out()
        return found[1]


@contextmanager
def serving(
    tmp_path: Path, env: dict[str, str], *args: str, own_group: bool = False
) -> Iterator[Served]:
    """Start ``ledger serve`` with ``args`` and wait for /healthz; always stop it.

    ``own_group`` starts it in a process group of its own, as a shell does for
    a job, so that a test can signal the group as Ctrl-C at a terminal does.
    """
    port = _free_port()
    stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=err,
            process_group=0 if own_group else None,
        )
    served = Served(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"serve exited: {stderr.read_text()}"
            assert time.monotonic() < deadline, f"no /healthz in 90 s: {stderr.read_text()}"
            try:
                if 200 == _get(f"{served.base}/healthz")[0]:
                    break
            except OSError:
                time.sleep(0.2)
        yield served
    finally:
        if process.poll() is None:  # a failed test: stop it, and its web processes with it
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in _projection_processes(process.pid):  # a killed server leaves its child
            os.kill(pid, signal.SIGKILL)


def _projection_processes(serve_pid: int) -> list[int]:
    """Live ``ledger project`` processes started by the ``ledger serve`` process ``serve_pid``.

    Found by their command line, which names the server: an orphan, whose
    parent is no longer ``serve_pid``, is found too.
    """
    wanted = [b"project", b"--parent", str(serve_pid).encode()]
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")[:-1]
        except OSError:  # the process ended while we looked
            continue
        if args[-3:] == wanted:
            found.append(int(cmdline.parent.name))
    return found


def _parent_of(pid: int) -> int:
    """The parent process id, from /proc/<pid>/stat (the command name may hold spaces)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    return int(stat.rsplit(")", 1)[1].split()[1])


def _projection_child(served: Served) -> int:
    """The one projection process of ``served``, which must be its child."""
    found = _projection_processes(served.process.pid)
    assert 1 == len(found), found
    assert served.process.pid == _parent_of(found[0])
    return found[0]


def _stop(served: Served) -> int:
    """SIGTERM, as a supervisor would send it; the exit code (bounded wait)."""
    served.process.terminate()
    return served.process.wait(timeout=30)


def test_serve_demo_answers_with_a_printed_key_and_stops_cleanly(sqlite_env, tmp_path):
    """The README's run command: address, docs and demo keys printed; the API answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTRAKTLEDGER_")}
    env["KONTRAKTLEDGER_DATA_DIR"] = str(sqlite_env)

    with serving(tmp_path, env, "--demo") as served:
        status, page = _get(f"{served.base}/v1/contracts", served.demo_key(Role.BUYER_ADMIN))
        docs_status, docs = _get(f"{served.base}/docs")
        refused, _ = _get(f"{served.base}/v1/contracts", served.demo_key(Role.BUYER_ADMIN)[:-1])
        projecting = _projection_processes(served.process.pid)

        assert 0 == _stop(served)

    assert 200 == status
    assert 2 == len(page["items"])  # Demo Nord's two contracts; Demo Syd's are not listed
    assert {BUYER_NORD.cvr} == {item["buyer"]["cvr"] for item in page["items"]}
    assert 200 == docs_status
    assert "swagger" in docs.lower()
    assert 401 == refused
    assert [] == projecting  # SQLite views catch up inside each request
    out = served.out()
    assert f"kontraktledger API at {served.base} (sqlite store)" in out
    assert f"interactive docs at {served.base}/docs" in out
    assert "demo data loaded: 4 contracts" in out
    assert f'curl -H "Authorization: Bearer {served.demo_key(Role.BUYER_ADMIN)}"' in out
    assert 'press "Authorize"' in out


@pytest.mark.usefixtures("postgres_env")
def test_serve_on_postgres_runs_the_projection_workers_in_a_child_process(tmp_path):
    """One child runs ``ledger project``; reads see its views; a stop leaves no child behind."""
    env = dict(os.environ)

    with serving(tmp_path, env, "--demo") as served:
        child = _projection_child(served)
        _wait_for_views_at_head(timeout=30)  # on PostgreSQL only the projection moves them
        status, page = _get(f"{served.base}/v1/contracts", served.demo_key(Role.AUDITOR))
        ready, checks = _get(f"{served.base}/readyz")

        served.process.send_signal(signal.SIGINT)  # to the server only, not its group
        code = served.process.wait(timeout=30)
        # Checked at once: the server itself must have stopped and reaped its child,
        # before the child could notice that its parent is gone.
        left = Path(f"/proc/{child}").exists()

    assert 0 == code
    assert not left
    assert [] == _projection_processes(served.process.pid)
    assert 200 == status, page
    assert {BUYER_NORD.cvr} == {item["buyer"]["cvr"] for item in page["items"]}
    assert 2 == len(page["items"])
    assert 200 == ready, checks
    out = served.out()
    assert "(postgres store)" in out
    assert f"projection workers: child process {child} (`ledger project`)" in out
    assert "serving process is gone" not in served.stderr.read_text(encoding="utf-8")


def _wait_for_views_at_head(timeout: float) -> None:
    """Wait until every view has applied the whole event log (the store of the environment)."""
    settings = Settings(create_tables=False)
    runtime = build(settings)
    views = Views(settings, runtime.ledger)
    try:
        deadline = time.monotonic() + timeout
        while (lags := {s.name: s.lag for s in views.status()}) != dict.fromkeys(VIEWS, 0):
            assert time.monotonic() < deadline, f"views still behind: {lags}"
            time.sleep(0.1)
    finally:
        views.close()
        runtime.close()


@pytest.mark.usefixtures("postgres_env")
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_stops_with_status_1_when_its_projection_process_dies(workers, tmp_path):
    """Reads would wait for views that no longer move: the server stops for a restart."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", workers) as served:
        web = _web_processes(served, int(workers)) if workers != "1" else []
        os.kill(_projection_child(served), signal.SIGKILL)

        code = served.process.wait(timeout=30)
        left = [pid for pid in web if _alive(pid)]

    assert 1 == code
    assert [] == left
    assert "projection process exited; stopping the server" in served.stderr.read_text()


@pytest.mark.usefixtures("postgres_env")
def test_a_server_killed_outright_leaves_no_projection_process_running(tmp_path):
    """SIGKILL gives the server no chance to stop its child: the child notices by itself."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ)) as served:
        child = _projection_child(served)

        served.process.kill()
        served.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child}/cmdline").exists() and _projection_processes(served.process.pid):
            assert time.monotonic() < deadline, "the orphaned projection process still runs"
            time.sleep(0.1)

    assert "the serving process is gone" in served.stderr.read_text()


@pytest.mark.usefixtures("postgres_env")
def test_ctrl_c_at_a_terminal_stops_server_and_projection_process_cleanly(tmp_path):
    """SIGINT to the whole group reaches the child too: its exit then is no failure."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), own_group=True) as served:
        child = _projection_child(served)

        os.killpg(served.process.pid, signal.SIGINT)
        code = served.process.wait(timeout=30)

    assert 0 == code, served.stderr.read_text()
    assert not Path(f"/proc/{child}").exists()
    assert "projection process exited" not in served.stderr.read_text()


@pytest.mark.usefixtures("postgres_env")
def test_serve_with_several_web_processes_runs_one_projection_process(tmp_path):
    """``--workers 2``: two web processes, still exactly one ``ledger project``."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", "2") as served:
        child = _projection_child(served)
        status, _ = _get(f"{served.base}/readyz")

        assert 0 == _stop(served)

    assert 200 == status
    assert not Path(f"/proc/{child}").exists()


@pytest.mark.usefixtures("postgres_env")
def test_serve_with_no_project_starts_no_projection_process(tmp_path):
    """``--no-project`` leaves the projection to a ``ledger project`` run beside it."""
    main(["migrate"])

    with serving(tmp_path, dict(os.environ), "--no-project") as served:
        found = _projection_processes(served.process.pid)

        assert 0 == _stop(served)

    assert [] == found
    assert "not here (--no-project)" in served.out()
    assert "projection workers: child process" not in served.out()


@pytest.mark.usefixtures("postgres_env")
@pytest.mark.parametrize("exit_code", [5, 0])
def test_serve_stops_when_the_projection_process_exits(exit_code, monkeypatch, capsys):
    """A crash, or a clean exit the server did not ask for: the server stops, exit code 1."""
    main(["migrate"])
    script = f"raise SystemExit({exit_code})"
    monkeypatch.setattr("adapters.cli.projection_command", lambda _: [sys.executable, "-c", script])
    monkeypatch.setenv("KONTRAKTLEDGER_CREATE_TABLES", "true")  # serve turns it off: restore

    with watchdog(30) as elapsed:
        code = main(["serve", "--port", str(_free_port())])

    assert 1 == code
    assert elapsed() < 20  # stopped by the failure, not by the watchdog
    assert "projection process exited; stopping the server" in capsys.readouterr().err


@pytest.mark.usefixtures("sqlite_env")
def test_serve_exits_3_when_the_port_is_taken(monkeypatch):
    """The start-up failure code of uvicorn, after the store checks pass."""
    main(["migrate"])
    monkeypatch.setenv("KONTRAKTLEDGER_CREATE_TABLES", "true")  # serve turns it off: restore
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with watchdog(30), pytest.raises(SystemExit) as exited:
            main(["serve", "--port", str(port)])

    assert 3 == exited.value.code


@pytest.mark.parametrize("env", ["sqlite_env", "postgres_env"])
def test_migrate_makes_every_table_a_process_without_table_creation_needs(env, request):
    """Web and worker processes run with table creation off: migrate must make all tables."""
    request.getfixturevalue(env)
    assert 0 == main(["migrate"])
    settings = Settings(create_tables=False)
    runtime = build(settings)
    views = Views(settings, runtime.ledger)
    try:
        assert {status.name: status.position for status in views.status()} == dict.fromkeys(
            VIEWS, 0
        )
    finally:
        views.close()
        runtime.close()


# --- ledger serve --workers N: one listening socket per web process ---------------------

LISTEN = "0A"
"""The state of a listening socket in /proc/net/tcp."""


def _port_of(served: Served) -> int:
    return int(served.base.rsplit(":", 1)[1])


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = int(stat.parent.name)
        try:
            if pid == _parent_of(child) and _alive(child):
                found.append(child)
        except OSError:  # the process ended while we looked
            continue
    return found


def _socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets ``pid`` holds open (its /proc/<pid>/fd links)."""
    inodes: set[int] = set()
    try:
        links = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for link in links:
        try:
            target = str(link.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _tcp_sockets() -> list[tuple[int, int, str, int]]:
    """(local port, remote port, state, inode) of every TCP socket of this network namespace."""
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            rows.append((local, remote, fields[3], int(fields[9])))
    return rows


def _listening(pid: int, port: int) -> set[int]:
    """The inodes of the sockets listening on ``port`` that ``pid`` holds open."""
    listening = {i for local, _, state, i in _tcp_sockets() if local == port and state == LISTEN}
    return _socket_inodes(pid) & listening


def _web_processes(served: Served, count: int) -> list[int]:
    """The children of ``served`` that listen on its port; waits until ``count`` of them do.

    A web process listens once its app has started, so this is also the wait
    until every one of them takes connections.
    """
    port = _port_of(served)
    deadline = time.monotonic() + 60
    while True:
        found = [pid for pid in _children(served.process.pid) if _listening(pid, port)]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} web processes listen"
        time.sleep(0.1)


def _answered_by(connection: http.client.HTTPConnection, port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server side of ``connection`` (after it was answered)."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    inodes = {i for local, remote, _, i in _tcp_sockets() if (local, remote) == (port, client_port)}
    owners = [pid for pid in pids if _socket_inodes(pid) & inodes]
    return owners[0] if len(owners) == 1 else None


@pytest.mark.usefixtures("postgres_env")
def test_web_processes_share_keep_alive_connections_opened_at_once(tmp_path):
    """16 connections opened together: each web process answers some (SO_REUSEPORT).

    With one listening socket shared by the web processes, the first to wake
    accepted every queued connection and the other idled for their lifetime.
    """
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", "2") as served:
        port = _port_of(served)
        web = _web_processes(served, 2)
        sockets = {pid: _listening(pid, port) for pid in [served.process.pid, *web]}
        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(16)]
        try:
            for client in clients:  # all connected, as a load benchmark does, before any request
                client.connect()
            statuses = []
            for client in clients:
                client.request("GET", "/healthz")
                response = client.getresponse()
                response.read()
                statuses.append(response.status)
            answered = [_answered_by(client, port, web) for client in clients]
        finally:
            for client in clients:
                client.close()

        assert 0 == _stop(served)

    # Each web process has a listening socket of its own; the server, which never
    # accepts, holds none (it would get its share of the connections and leave them hanging).
    assert set() == sockets.pop(served.process.pid)
    assert 2 == len(set.union(*sockets.values())), sockets
    assert [200] * 16 == statuses
    assert None not in answered, answered
    assert set(web) == set(answered), Counter(answered)


@pytest.mark.usefixtures("postgres_env")
@pytest.mark.parametrize("holder", ["plain", "reuseport"])
def test_serve_with_workers_exits_3_when_the_port_is_taken(holder, monkeypatch, capsys):
    """Checked before any web process starts, also against another server's SO_REUSEPORT group.

    Otherwise a second ``ledger serve --workers N`` on the same port would
    quietly take half of the first one's connections.
    """
    main(["migrate"])
    monkeypatch.setenv("KONTRAKTLEDGER_CREATE_TABLES", "true")  # serve turns it off: restore
    capsys.readouterr()
    with socket.socket() as taken:
        if holder == "reuseport":
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with watchdog(30) as elapsed:
            code = main(["serve", "--workers", "2", "--port", str(port)])

    assert 3 == code
    assert elapsed() < 10
    captured = capsys.readouterr()
    assert f"error: cannot listen on 127.0.0.1:{port}" in captured.err
    assert "projection workers: child process" not in captured.out


@pytest.mark.usefixtures("postgres_env")
@pytest.mark.parametrize("own_group", [False, True], ids=["to-server", "to-group"])
def test_sigint_stops_every_web_process_and_the_projection_process(own_group, tmp_path):
    """To the server alone it is passed on; to the group (Ctrl-C) each process gets it too."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", "2", own_group=own_group) as served:
        web = _web_processes(served, 2)
        child = _projection_child(served)

        if own_group:
            os.killpg(served.process.pid, signal.SIGINT)
        else:
            served.process.send_signal(signal.SIGINT)
        code = served.process.wait(timeout=30)
        left = [pid for pid in [*web, child] if _alive(pid)]

    errors = served.stderr.read_text(encoding="utf-8")
    assert 0 == code, errors
    assert [] == left
    assert "exited; stopping the server" not in errors


@pytest.mark.usefixtures("postgres_env")
def test_serve_stops_with_status_1_when_a_web_process_dies(tmp_path):
    """The others and the projection process stop too, so that a supervisor restarts it all."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", "2") as served:
        first, second = _web_processes(served, 2)
        child = _projection_child(served)

        os.kill(first, signal.SIGKILL)
        code = served.process.wait(timeout=30)
        left = [pid for pid in (second, child) if _alive(pid)]

    assert 1 == code
    assert [] == left
    assert "web process exited; stopping the server" in served.stderr.read_text(encoding="utf-8")


@pytest.mark.usefixtures("postgres_env")
def test_a_server_killed_outright_leaves_no_web_process_running(tmp_path):
    """Each web process notices that its parent is gone, stops, and frees the port."""
    main(["migrate"])
    with serving(tmp_path, dict(os.environ), "--workers", "2") as served:
        web = _web_processes(served, 2)

        served.process.kill()
        served.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while left := [pid for pid in web if _alive(pid)]:
            assert time.monotonic() < deadline, f"orphaned web processes still run: {left}"
            time.sleep(0.1)

    assert None is port_problem("127.0.0.1", _port_of(served))
