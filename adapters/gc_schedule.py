"""Python's full garbage collections on a schedule, for long-running processes.

A full collection scans every object the process holds: the contracts an API
process keeps in memory (ADR 0014), or the contracts a projection process has
folded. With 10,000 contracts one takes about 0.3 s, and nothing else in the
process moves meanwhile. Python starts one whenever long-lived objects grew
by a quarter, which is all the time while those caches fill, so under load
they showed up as the slowest requests (docs/performance.md).

Within :func:`full_collections_every`, young generations are still collected
as usual; what the process made before is frozen (never scanned again); and
full collections run every ``seconds`` from a thread of their own, and at no
other time. Cyclic garbage that reaches the old generation waits for the next
one. ``seconds <= 0`` leaves Python's defaults alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

NEVER = 1_000_000_000  # gen-1 collections before an automatic full one: in effect never


@contextmanager
def full_collections_every(seconds: float) -> Iterator[None]:
    """Run full collections every ``seconds`` and no other time, until the block ends."""
    if seconds <= 0:
        yield
        return
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(before[0], before[1], NEVER)
    done = threading.Event()

    def collect() -> None:
        while not done.wait(seconds):
            gc.collect()

    collector = threading.Thread(target=collect, name="full-gc-schedule", daemon=True)
    collector.start()
    try:
        yield
    finally:
        done.set()
        collector.join()
        gc.set_threshold(*before)
        gc.unfreeze()
