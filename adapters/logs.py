"""structlog set-up: JSON lines, and CPR numbers redacted before anything is written.

Personal data must never reach a log (architecture section 8). Events carry
no CPR, but free text (a cause, a description) or an exception message might;
the redaction processor replaces anything shaped like a CPR number.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

CPR_SHAPE = re.compile(r"(?<!\d)(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}-?\d{4}(?!\d)")
REDACTED = "[CPR REDACTED]"


def redact(value: object) -> object:
    """``value`` with every CPR-shaped number replaced, recursing into containers."""
    if isinstance(value, str):
        return CPR_SHAPE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


def redact_cpr(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Structlog processor: redact CPR-shaped numbers in every field."""
    return {key: redact(value) for key, value in event_dict.items()}


class _StderrLogger:
    """Writes each line to the ``sys.stderr`` of the moment, not the one at set-up.

    A logger holding the stream it was created with breaks once that stream is
    replaced and closed (a test's captured stderr, a daemon's redirected one).
    """

    def msg(self, message: str) -> None:
        """Write one line."""
        print(message, file=sys.stderr, flush=True)  # noqa: T201 - the log sink itself

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()


def configure(level: int = logging.INFO) -> None:
    """Log JSON lines to stderr with timestamps, request ids and CPR redaction."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_cpr,  # last before rendering: also covers formatted exceptions
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
