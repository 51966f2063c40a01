"""How domain values are stored: JSON transcodings for the event library.

The library transcodes UUID, Decimal and datetime. Everything else an event
or snapshot carries (dates, our enums and frozen dataclasses) is registered
here. The transcoding *names* are stored with every event, so they are public
API: never rename one (see CHANGELOG "Event schema").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.values import Actor, Role


class DateAsISO(Transcoding):
    """``datetime.date`` as ``YYYY-MM-DD``."""

    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        """Encode a date."""
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        """Decode a date."""
        return dt.date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """A string enum by its value, named after the enum class."""

    def __init__(self, enum_type: type[Enum], name: str) -> None:
        """Transcode ``enum_type`` under the stored ``name``."""
        self.type = enum_type
        self.name = name

    def encode(self, obj: Enum) -> Any:
        """Encode an enum member."""
        return obj.value

    def decode(self, data: Any) -> Enum:
        """Decode an enum member."""
        member: Enum = self.type(data)
        return member


class DataclassAsDict(Transcoding):
    """A frozen dataclass as a dict of its fields; JSON lists come back as tuples."""

    def __init__(self, cls: type[Any], name: str) -> None:
        """Transcode dataclass ``cls`` under the stored ``name``."""
        self.type = cls
        self.name = name
        self._fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        """Encode the dataclass's fields (nested values are encoded by the transcoder)."""
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        """Rebuild the dataclass; unknown keys are ignored, lists become tuples."""
        kwargs = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in data.items()
            if key in self._fields
        }
        return self.type(**kwargs)


def restore_tuples(aggregate: object) -> None:
    """Turn the lists JSON gave back in a snapshot's state into the tuples they were.

    Aggregate state keeps sequences as tuples (immutable, comparable); JSON has
    no tuple type, so a state restored from a snapshot would otherwise differ
    from the same state replayed from events.
    """
    state = vars(aggregate)
    for key, value in list(state.items()):
        # Private attributes belong to the library (e.g. its pending-events list).
        if isinstance(value, list) and not key.startswith("_"):
            state[key] = tuple(value)


class ActorAsList(Transcoding):
    """Who did it, as ``[organisation, role, key_id, request_id]``.

    Every event carries an actor, so it is stored flat: one JSON list instead
    of a dict holding a nested enum, which halves its decoding cost.
    """

    type = Actor
    name = "Actor"

    def encode(self, obj: Actor) -> list[str]:
        """Encode an actor."""
        return [obj.organisation, obj.role.value, obj.key_id, obj.request_id]

    def decode(self, data: list[str]) -> Actor:
        """Decode an actor."""
        organisation, role, key_id, request_id = data
        return Actor(organisation, Role(role), key_id, request_id)


def register_all(transcoder: JSONTranscoder, types: list[type[Any]]) -> None:
    """Register dates, the actor, and each enum or dataclass in ``types`` by class name."""
    transcoder.register(DateAsISO())
    transcoder.register(ActorAsList())
    for cls in types:
        if cls is Actor:
            continue
        if isinstance(cls, type) and issubclass(cls, Enum):
            transcoder.register(EnumAsValue(cls, cls.__name__))
        elif dataclasses.is_dataclass(cls):
            transcoder.register(DataclassAsDict(cls, cls.__name__))
        else:  # pragma: no cover - programming error
            msg = f"cannot transcode {cls!r}"
            raise TypeError(msg)
