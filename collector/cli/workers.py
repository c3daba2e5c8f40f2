"""Several serving processes on one port, each with a listening socket of its own (Linux).

uvicorn's ``--workers`` shares one listening socket among its processes, and the
kernel hands each new connection to whichever process is waiting in ``accept``
first, often the same one. Clients that keep their connections (a reverse
proxy's pool, a load generator, agents sending a backlog) then stay where they
landed: with 200 kept connections, one process was seen holding 47 of 50 and the
whole collector ran at a third below its rate, one core idle (bench/ingest).

Here each process gets its own socket, bound to the same address with
``SO_REUSEPORT``: the kernel spreads new connections over the sockets by a hash
of their addresses, so over the processes evenly. The sockets are made by this
parent before any process starts (an address in use fails at once) and kept by
it: a process that dies is started again on its socket, and the connections that
wait there are served when it is back.

Elsewhere than on Linux (no balancing ``SO_REUSEPORT``) uvicorn's own workers
are used.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
from typing import Any

log = logging.getLogger("socle.collector")

CHECK_S = 0.5  # how often a process that died is looked for
STOP_S = 30.0  # how long processes get to finish their work at shutdown before they are killed


def balanced() -> bool:
    """Whether this system spreads connections over sockets sharing a port (Linux's SO_REUSEPORT)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, backlog: int = 2048, shared: bool = True) -> socket.socket:
    """A socket listening on (host, port) that others may share with SO_REUSEPORT (``shared``); an
    address that cannot be had is an OSError that says which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


def _serve_one(config: Any, sock: socket.socket) -> None:
    """One process: uvicorn's server on its own socket."""
    import uvicorn

    uvicorn.Server(config).run(sockets=[sock])


class Workers:
    """N processes, each serving ``config`` (a ``uvicorn.Config``) on its own socket; run() returns once
    they have stopped (on SIGINT or SIGTERM, after letting them finish)."""

    def __init__(self, config: Any, count: int) -> None:
        self.config = config
        self.count = count
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self._sockets: list[socket.socket] = []
        self._procs: list[Any] = []

    def _start(self, index: int) -> Any:
        proc = self._context.Process(target=_serve_one, args=(self.config, self._sockets[index]),
                                     name=f"socle-worker-{index}")
        proc.start()
        return proc

    def run(self) -> None:
        """Serve until asked to stop; the processes that die are started again."""
        host, port = self.config.host, self.config.port
        try:
            for _ in range(self.count):
                self._sockets.append(listening_socket(host, port, self.config.backlog))
        except OSError:
            for sock in self._sockets:
                sock.close()
            raise
        previous = {sig: signal.signal(sig, lambda *_: self._stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._procs = [self._start(i) for i in range(self.count)]
            while not self._stop.wait(CHECK_S):
                for i, proc in enumerate(self._procs):
                    if not proc.is_alive():
                        log.warning("worker %d (pid %s) ended with code %s; starting it again", i, proc.pid,
                                    proc.exitcode)
                        self._procs[i] = self._start(i)
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _shutdown(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight, the writer its queue
        for proc in self._procs:
            proc.join(STOP_S)
            if proc.is_alive():
                log.warning("worker pid %s did not stop in %.0f s; killed", proc.pid, STOP_S)
                proc.kill()
                proc.join(5)
        for sock in self._sockets:
            sock.close()
