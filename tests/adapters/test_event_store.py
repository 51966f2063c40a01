"""The PostgreSQL recorder that sends an insert and its COMMIT in one trip (ADR 0016)."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)
from eventsourcing.utils import Environment
from psycopg.pq import TransactionStatus

from adapters.bootstrap import ensure_postgres_database, event_store_env
from adapters.event_store import OneTripApplicationRecorder
from tests.conftest import own_schema_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[OneTripApplicationRecorder]:
    """The recorder ``adapters.bootstrap`` configures, in a schema of its own."""
    with own_schema_settings("postgres", tmp_path) as settings:
        ensure_postgres_database(settings)
        env = {**event_store_env(settings), "CREATE_TABLE": "y"}
        factory: Any = InfrastructureFactory.construct(env=Environment("Recorded", env))
        built = factory.application_recorder()
        assert isinstance(built, OneTripApplicationRecorder)
        try:
            yield built
        finally:
            factory.close()


@contextlib.contextmanager
def each_connection(
    recorder: OneTripApplicationRecorder,
    enter: Callable[[Any], object] = lambda _: None,
    leave: Callable[[Any], object] = lambda _: None,
) -> Iterator[None]:
    """Call ``enter`` on each connection the recorder takes, and ``leave`` before it goes back."""
    original = recorder.datastore.get_connection

    @contextlib.contextmanager
    def watched() -> Iterator[Any]:
        with original() as connection:
            enter(connection)
            try:
                yield connection
            finally:
                leave(connection)

    recorder.datastore.get_connection = watched  # type: ignore[method-assign]
    try:
        yield
    finally:
        recorder.datastore.get_connection = original  # type: ignore[method-assign]


def stored(originator: uuid.UUID, version: int) -> StoredEvent:
    return StoredEvent(originator, version, "tests:Happened", b'{"n": %d}' % version)


def test_insert_returns_the_notification_ids_and_records_the_events(
    recorder: OneTripApplicationRecorder,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    first = recorder.insert_events([stored(a, 1), stored(a, 2)])
    second = recorder.insert_events([stored(b, 1)])

    assert first is not None
    assert second is not None
    assert list(first) + list(second) == [1, 2, 3]
    assert [e.originator_version for e in recorder.select_events(a)] == [1, 2]
    notifications = recorder.select_notifications(start=1, limit=10)
    assert [(n.id, n.originator_id) for n in notifications] == [(1, a), (2, a), (3, b)]


def test_a_taken_version_raises_records_nothing_and_leaves_the_connection_clean(
    recorder: OneTripApplicationRecorder,
) -> None:
    a = uuid.uuid4()
    recorder.insert_events([stored(a, 1)])
    handed_back: list[TransactionStatus] = []

    with (
        each_connection(recorder, leave=lambda c: handed_back.append(c.info.transaction_status)),
        pytest.raises(IntegrityError),
    ):
        # version 2 is new but version 1 is taken: the whole insert is refused
        recorder.insert_events([stored(a, 2), stored(a, 1)])

    assert [e.originator_version for e in recorder.select_events(a)] == [1]
    assert recorder.max_notification_id() == 1
    # The failed transaction was ended here, before the pool got the connection back.
    assert handed_back == [TransactionStatus.IDLE]
    ids = recorder.insert_events([stored(a, 2)])  # the connection works on
    assert ids is not None
    assert [n.id for n in recorder.select_notifications(start=1, limit=10)] == [1, *ids]


def test_the_insert_and_its_commit_are_one_round_trip(
    recorder: OneTripApplicationRecorder, tmp_path: Path
) -> None:
    """The table lock is never held while the server waits for this client (ADR 0016)."""
    trace = tmp_path / "libpq.trace"
    with (
        trace.open("w") as out,
        each_connection(
            recorder,
            enter=lambda c: c.pgconn.trace(out.fileno()),
            leave=lambda c: c.pgconn.untrace(),
        ),
    ):
        recorder.insert_events([stored(uuid.uuid4(), 1)])

    lines = trace.read_text().splitlines()
    sent_commit = next(i for i, line in enumerate(lines) if "\tF\t" in line and "COMMIT" in line)
    insert_answered = next(
        i
        for i, line in enumerate(lines)
        if "\tB\t" in line and "CommandComplete" in line and "INSERT" in line
    )
    lock_sent = next(i for i, line in enumerate(lines) if "\tF\t" in line and "LOCK TABLE" in line)
    assert lock_sent < sent_commit < insert_answered
    # ... and the whole insert is one round trip: one Sync, one answer.
    assert sum("\tF\t" in line and "\tSync" in line for line in lines) == 1


def test_concurrent_inserts_are_read_in_order_without_gaps(
    recorder: OneTripApplicationRecorder,
) -> None:
    """A reader tailing the log never sees an id before a lower one has committed."""
    writers, inserts = 6, 30
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(inserts):
                recorder.insert_events([stored(uuid.uuid4(), 1), stored(uuid.uuid4(), 1)])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    def tail(reader: ApplicationRecorder) -> None:
        position = 0
        while True:
            finished = done.is_set()  # taken before the read: a last pass sees every commit
            batch = reader.select_notifications(start=position + 1, limit=100)
            for notification in batch:
                seen.append(notification.id)
                position = notification.id
            if finished and not batch:
                return

    threads = [threading.Thread(target=write) for _ in range(writers)]
    reader = threading.Thread(target=tail, args=(recorder,), daemon=True)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join(timeout=30)

    assert not errors
    assert seen == list(range(1, writers * inserts * 2 + 1))
