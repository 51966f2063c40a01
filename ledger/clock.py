"""Time as an input: business dates in Europe/Copenhagen and recording time.

Two clocks matter in a bi-temporal ledger:

* the *business* calendar ("what day is it in Copenhagen?") that commands use
  to judge deadlines, and
* the *recording* time stamped on every stored event by the event library,
  which auditors use for "as known at T".

Both come from one injected :class:`Clock`. The event library asks
``create_timestamp()`` of the event class for the recording time; our event
base classes answer from :func:`recording_time`, which reads the clock that the
application service installs for the duration of a command (a context
variable, so concurrent requests in threads do not see each other's clock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class Clock(Protocol):
    """Something that knows the current instant."""

    def now(self) -> dt.datetime:
        """Return the current instant, timezone-aware."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """Return the current instant in UTC."""
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved; for tests, demos and replays."""

    def __init__(self, instant: dt.datetime) -> None:
        """Start the clock at ``instant`` (must be timezone-aware)."""
        if instant.tzinfo is None:
            msg = "FixedClock needs a timezone-aware instant"
            raise ValueError(msg)
        self._instant = instant

    def now(self) -> dt.datetime:
        """Return the instant the clock stands at."""
        return self._instant

    def set(self, instant: dt.datetime) -> None:
        """Move the clock to ``instant``."""
        if instant.tzinfo is None:
            msg = "FixedClock needs a timezone-aware instant"
            raise ValueError(msg)
        self._instant = instant

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._instant += delta

    @classmethod
    def at_local(cls, day: dt.date, hour: int = 12) -> FixedClock:
        """A clock standing at ``hour`` o'clock Copenhagen time on ``day``."""
        return cls(dt.datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN))


def today(clock: Clock) -> dt.date:
    """The calendar date in Copenhagen at the clock's current instant."""
    return clock.now().astimezone(COPENHAGEN).date()


def local_instant(day: dt.date, hour: int = 12) -> dt.datetime:
    """An instant on ``day`` in Copenhagen; handy for ``known_at`` queries."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN)


_recording_clock: ContextVar[Clock | None] = ContextVar("recording_clock", default=None)


def recording_time() -> dt.datetime:
    """The instant to stamp on an event being recorded now, in UTC.

    Uses the clock installed by :func:`recording_with`; without one, the wall
    clock. Stored timestamps are always UTC so that they sort and compare.
    """
    clock = _recording_clock.get()
    instant = clock.now() if clock is not None else dt.datetime.now(dt.UTC)
    return instant.astimezone(dt.UTC)


@contextlib.contextmanager
def recording_with(clock: Clock) -> Iterator[None]:
    """Stamp events triggered inside the block with ``clock``'s time."""
    token = _recording_clock.set(clock)
    try:
        yield
    finally:
        _recording_clock.reset(token)
