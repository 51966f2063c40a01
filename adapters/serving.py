"""Several uvicorn web processes, each listening on a socket of its own (``SO_REUSEPORT``).

uvicorn's own supervisor binds one socket in the parent and shares it with
every web process. asyncio then accepts up to ``backlog`` waiting connections
per wake-up, so keep-alive connections opened together (a load benchmark's,
a proxy's pool) all land in whichever process woke first, and the others
idle: measured, one of two processes got 313 of 315 profile samples. With
``SO_REUSEPORT`` on Linux each process binds its own socket to the same
address and the kernel spreads new connections across them.

The parent binds nothing that listens: a socket in the group that never
accepts would get its share of the connections and leave them hanging. It
only checks, before any process starts, that the port is free.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from types import FrameType

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = structlog.get_logger("kontraktledger.serving")
uvicorn_log = logging.getLogger("uvicorn.error")
"""uvicorn's own logger: the lines it would print itself keep their usual form."""

REUSE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
"""Whether web processes get a socket each. Elsewhere ``SO_REUSEPORT`` is missing, or
(BSD, macOS) lets one socket take every connection instead of spreading them."""

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

POLL_INTERVAL = 0.1
"""Seconds between checks that every web process still runs."""

STOP_GRACE = 3.0
"""Seconds a web process that stopped on a signal (Ctrl-C reaches the whole process
group) waits for the server's own stop before it counts as a failure."""

STOPPED_BY_SIGNAL = frozenset({0, -signal.SIGTERM, -signal.SIGINT})
"""Exit codes of a child process (a web process, ``ledger project``) that was asked to
stop, before or after it installed its handlers."""

PARENT_CHECK_INTERVAL = 0.5
"""Seconds between a child process's checks that the server is still its parent."""


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an address with a colon, else IPv4: as uvicorn's ``Config.bind_socket``."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_problem(host: str, port: int) -> str | None:
    """Why ``host``:``port`` cannot be listened on, or None when it is free.

    The probe binds without ``SO_REUSEPORT``, so it fails on a port that any
    socket listens on, also another server's ``SO_REUSEPORT`` group, which the
    web processes would otherwise quietly join and split the connections with.
    It never listens and is closed at once: it gets no connection.
    """
    with socket.socket(_family(host)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` with ``SO_REUSEPORT``, not listening yet.

    uvicorn makes it listen once the app has started, so the kernel sends a
    process no connection before it can answer.
    """
    sock = socket.socket(_family(host))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class WebProcesses:
    """``count`` web processes serving ``config``: started, watched and stopped together.

    SIGINT and SIGTERM stop them all. If one exits without being asked, the
    others are stopped and ``failed`` holds its exit code: ``ledger serve``
    then exits non-zero for its supervisor to restart it, as when the
    projection process fails. uvicorn's supervisor would restart the one
    process instead, hiding a crash loop.
    """

    def __init__(
        self, config: uvicorn.Config, count: int, *, should_exit: threading.Event | None = None
    ) -> None:
        """Prepare; nothing starts before ``run``.

        ``should_exit``, when given, is the caller's own stop event: a signal its
        handler caught before ``run`` took over stops the processes too, and
        none start once it is set.
        """
        self._config = config
        self._count = count
        self._should_exit = threading.Event() if should_exit is None else should_exit
        self._processes: list[SpawnProcess] = []
        self._exited_at: dict[int, float] = {}  # pid -> when it was seen to have exited
        self.failed: int | None = None
        """The exit code of a web process that exited unasked, else None."""

    def halt(self) -> None:
        """Ask every web process to stop (from any thread); ``run`` then returns."""
        self._should_exit.set()

    def stopping(self) -> bool:
        """True once the web processes are asked to stop."""
        return self._should_exit.is_set()

    def run(self) -> None:
        """Start the web processes and wait until they are stopped or one exits."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        try:
            uvicorn_log.info("Started parent process [%d]", os.getpid())
            uvicorn_log.info(
                "Uvicorn running on %s (Press CTRL+C to quit)",
                _address(self._config.host, self._config.port),
            )
            # Spawned, not forked: the parent has threads (the projection watcher).
            context = multiprocessing.get_context("spawn")
            for _ in range(self._count):
                if self._should_exit.is_set():
                    break
                process = context.Process(
                    target=serve_one, args=(self._config, os.getpid()), name="ledger-web"
                )
                process.start()
                self._processes.append(process)
            while not self._should_exit.wait(POLL_INTERVAL):
                self._watch()
        finally:
            # Still under this object's handlers: a second Ctrl-C must not interrupt
            # the stop and leave web processes running.
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            uvicorn_log.info("Stopping parent process [%d]", os.getpid())

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        uvicorn_log.info("Received %s, exiting.", signal.Signals(signum).name)
        self._should_exit.set()

    def _watch(self) -> None:
        """Halt when a web process has exited unasked."""
        now = time.monotonic()
        for process in self._processes:
            code = process.exitcode
            if code is None:
                continue
            assert process.pid is not None  # noqa: S101 - it has run; for the type checker
            seen = self._exited_at.setdefault(process.pid, now)
            # Ctrl-C at a terminal signals every process of the group, and a web
            # process may be done before this one has acted on its own signal.
            if code in STOPPED_BY_SIGNAL and now - seen < STOP_GRACE:
                continue
            self.failed = code
            log.error("web process exited; stopping the server", pid=process.pid, exit_code=code)
            self.halt()
            return

    def _stop_all(self) -> None:
        """SIGTERM each web process, wait for its graceful stop; kill it if it hangs.

        SIGTERM also after a SIGINT: uvicorn takes a second SIGINT (a process
        that got Ctrl-C from the terminal already has one) as "force quit" and
        would skip waiting for open requests and the app's shutdown.
        """
        for process in self._processes:
            if process.exitcode is None and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
                uvicorn_log.info("Terminated child process [%d]", process.pid)
        deadline = time.monotonic() + (self._config.timeout_graceful_shutdown or 0) + 5
        for process in self._processes:
            uvicorn_log.info("Waiting for child process [%d]", process.pid)
            process.join(timeout=max(deadline - time.monotonic(), 0))
            if process.exitcode is None:
                log.warning("web process did not stop; killing it", pid=process.pid)
                process.kill()
                process.join()


def _address(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve_one(config: uvicorn.Config, parent: int) -> None:
    """One web process (spawned): bind a socket of its own and serve on it.

    A failed bind (another program took the port since the parent's check)
    exits with uvicorn's start-up failure code, as uvicorn itself would.
    """
    config.configure_logging()  # a spawned process starts without it, as in uvicorn's
    try:
        sock = bind_reuse_port(config.host, config.port)
    except OSError as error:
        uvicorn_log.error(error)  # as uvicorn's own bind: the message, no traceback
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)

    def stop() -> None:
        server.should_exit = True  # read by uvicorn's main loop every 0.1 s

    stop_when_orphaned(parent, stop, "this web process")
    # uvicorn re-raises the SIGINT it stopped on; the parent knows why it stops.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])


def stop_when_orphaned(parent: int, stop: Callable[[], object], what: str) -> None:
    """Start a thread that calls ``stop`` once ``parent`` is no longer this process's parent.

    A server killed outright cannot stop its child processes (web processes,
    the projection process); without this they would keep running, and a web
    process would keep the port from the server that replaces it.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_INTERVAL)
        log.warning("the serving process is gone; stopping", stopping=what)
        stop()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
