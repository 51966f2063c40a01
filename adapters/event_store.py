"""The PostgreSQL event store: the library's recorder, with a shorter table lock (ADR 0016).

``eventsourcing``'s ``PostgresApplicationRecorder`` takes an ``EXCLUSIVE``
lock on the events table for each insert, so that notification ids are
committed in the order they were issued and a reader never passes a gap
that is filled later. It then asks for the insert's result (a pipeline
sync) *before* it sends ``COMMIT``. Between the two, the lock is held while
the client reads the result and sends the next message. In a busy web
process that wait is long: the thread has to get the GIL back first. Under
load the commands then queue on the lock (about three waiting at any time
in ``bench/api_load.py``, the holder idle in its transaction most of the
time it held the lock).

:class:`OneTripApplicationRecorder` sends ``BEGIN``, the lock, ``NOTIFY``, the
insert and ``COMMIT`` in one pipeline, and only then waits. The lock is
held for the server's own work only. The ordering guarantee is the
library's: the ids are issued and committed under the same lock. A failed
insert (a version another writer took first) makes the server skip the
``COMMIT``; the error is raised from the sync as before, and the failed
transaction is rolled back here, so the connection goes back to the pool
clean.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, retry
from psycopg.pq import TransactionStatus


class OneTripApplicationRecorder(PostgresApplicationRecorder):
    """Insert and commit in one round trip, so the table lock is not held across one."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,  # noqa: ANN401 - the library's signature
    ) -> Sequence[int] | None:
        """Record ``stored_events`` and return their notification ids."""
        if self.datastore.enable_db_functions or not stored_events:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline():
                    # Not conn.transaction(): in a pipeline it syncs before COMMIT.
                    conn.execute("BEGIN")
                    with conn.cursor() as hooks:
                        self._insert_events(hooks, stored_events, **kwargs)
                    cursor = conn.cursor()
                    # The rows are built before the lock is asked for, so that
                    # the lock, NOTIFY and the insert leave one after the other.
                    rows = [
                        self.construct_pg_stored_event(
                            e.originator_id, e.originator_version, e.topic, e.state
                        )
                        for e in stored_events
                    ]
                    self._lock_table(cursor)
                    self._notify_channel(cursor)
                    cursor.execute(self.insert_events_statement, (rows,))
                    conn.execute("COMMIT")
                # Leaving the pipeline sends one Sync and waits once, for all the
                # results; fetching inside it would cost a round trip of its own.
                return self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)
            except BaseException:
                # The insert failed and the server skipped COMMIT: end the failed
                # transaction here, not with a warning from the pool.
                if conn.info.transaction_status is not TransactionStatus.IDLE:
                    with contextlib.suppress(psycopg.Error):
                        conn.rollback()
                raise


RECORDER_TOPIC = get_topic(OneTripApplicationRecorder)
"""The value of the library's ``APPLICATION_RECORDER_TOPIC`` that selects the recorder."""
