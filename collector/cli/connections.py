"""Connections a serving process accepts: a bounded number, each request arriving whole within a deadline.

uvicorn closes a kept-alive connection left idle (``keep_alive_s``), but it waits
for ever for a request that is still arriving: a thousand connections that open
and send nothing (or a byte now and then) hold a thousand file descriptors, and
at the service's usual limit of 1,024 open files every other request then fails.
:class:`GuardedHttp` is uvicorn's HTTP protocol with two guards:

* the process holds at most its cap of connections (:func:`connection_cap`: the
  open-file limit less what the process needs besides): a connection accepted
  beyond it makes room by closing the connection that has waited longest without
  a request being answered (idle, or still sending one); when every connection is
  being answered, the new one is closed;
* a request that has not arrived whole (headers and body) within
  ``request_timeout_s`` of its first byte — or of the connection's opening, for
  the first — is closed. A WebSocket (ndt7) is past the deadline once upgraded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("socle.collector.connections")

# File descriptors a serving process needs besides its connections: the database pool (40), the SQLite
# files and lock files, logs, the ndt7 tests' sockets, Python's own.
RESERVED_FDS = 128
DEFAULT_CAP = 1000  # where the open-file limit cannot be read (Windows)


def raise_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard one where the system lets it; the soft limit
    now (``DEFAULT_CAP`` plus what is reserved where it cannot be read)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return DEFAULT_CAP + RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            log.info("open-file limit stays at %d", soft)
    return soft


def connection_cap(file_limit: int) -> int:
    """Connections one process may hold with this open-file limit."""
    return max(16, file_limit - RESERVED_FDS)


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's HTTP protocol, with a cap on connections and a deadline for each request (see the
    module): the config's ``socle_max_connections`` and ``socle_request_timeout_s``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._request_s: float = getattr(self.config, "socle_request_timeout_s", 30.0)
        self._cap: int | None = getattr(self.config, "socle_max_connections", None)
        self._answering = False  # a request has arrived whole and is being answered
        self._waiting_since = time.monotonic()  # since when it waits for a request (when not answering)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept the connection; beyond the cap, make room by closing the longest waiting one."""
        super().connection_made(transport)
        if self._cap is not None and len(self.connections) > self._cap:
            waiting = [c for c in self.connections if isinstance(c, GuardedHttp) and c is not self
                       and not c._answering and c.transport is not None and not c.transport.is_closing()]
            if not waiting:
                transport.close()
                return
            min(waiting, key=lambda c: c._waiting_since).transport.close()
        self._arm()

    def on_message_begin(self) -> None:
        """A request starts: its deadline runs (the first request's ran from the connection's opening)."""
        super().on_message_begin()
        self._arm()

    def on_message_complete(self) -> None:
        """The request has arrived whole: no deadline while it is answered and the connection idles."""
        self._disarm()
        self._answering = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """Answered: the connection waits for the next request, kept alive for ``keep_alive_s``."""
        self._answering = False
        self._waiting_since = time.monotonic()
        super().on_response_complete()

    def handle_websocket_upgrade(self) -> None:
        """A WebSocket lives as long as its test does: its own protocol takes over."""
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        """Gone: nothing left to time."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self._request_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            log.info("closed a connection whose request did not arrive within %.0f s", self._request_s)
            self.transport.close()
