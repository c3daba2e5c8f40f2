"""A live line on the terminal while a step takes longer than :data:`AFTER_S`: which probe runs,
for how long, and its figure so far (the bandwidth test's rate, as M-Lab's client shows it).

Shown only when standard output is a terminal: a pipe or a file gets nothing, so a redirected
``check --json`` stays a clean document. The line is written on standard error, rewritten in place
with a carriage return, and wiped before the step's result is printed.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from agent.i18n import _, number

AFTER_S = 2.0
EVERY_S = 0.5
_SPIN = "|/-\\"


def _figure(what: str, value: float) -> str:
    labels = {"download_mbps": _("download {rate} Mbit/s"), "upload_mbps": _("upload {rate} Mbit/s")}
    return labels.get(what, what + " {rate}").format(rate=number(value, ".1f"))


class Progress:
    """One live line, updated by a ticker thread; :meth:`step` starts a step, :meth:`done` ends it."""

    def __init__(self, stream: TextIO, monotonic: Callable[[], float] = time.monotonic,
                 after_s: float = AFTER_S, every_s: float = EVERY_S) -> None:
        self.stream, self.monotonic, self.after_s, self.every_s = stream, monotonic, after_s, every_s
        self._lock = threading.Lock()
        self._name: str | None = None
        self._started = 0.0
        self._figure = ""
        self._shown = 0  # width of the line on screen, to wipe it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self, name: str) -> None:
        """A step (a probe) starts."""
        with self._lock:
            self._wipe()
            self._name, self._started, self._figure = name, self.monotonic(), ""
        if self._thread is None:
            self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._thread.start()

    def note(self, what: str, value: float) -> None:
        """The running step's figure so far (the seam probes call: ProbeContext.progress)."""
        with self._lock:
            self._figure = _figure(what, value)

    def done(self) -> None:
        """The step ended: the line goes."""
        with self._lock:
            self._wipe()
            self._name = None

    def close(self) -> None:
        """No more steps."""
        self.done()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1)

    def render(self, tick: int) -> str | None:
        """The line to show now, or None before the step has run :data:`AFTER_S` (pure but for the clock)."""
        if self._name is None:
            return None
        elapsed = self.monotonic() - self._started
        if elapsed < self.after_s:
            return None
        text = _("{spin} {probe}: {seconds} s").format(spin=_SPIN[tick % 4], probe=self._name,
                                                       seconds=int(elapsed))
        return f"{text}, {self._figure}" if self._figure else text

    def _tick(self) -> None:
        tick = 0
        while not self._stop.wait(self.every_s):
            with self._lock:
                line = self.render(tick)
                if line is not None:
                    self.stream.write("\r" + line.ljust(self._shown))
                    self.stream.flush()
                    self._shown = len(line)
            tick += 1

    def _wipe(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0


def for_terminal(stdout: TextIO | None = None, stderr: TextIO | None = None) -> Progress | None:
    """A :class:`Progress` on the raw standard error when standard output is a terminal, else None."""
    out = stdout or sys.__stdout__
    err = stderr or sys.__stderr__
    if out is None or err is None or not out.isatty() or not err.isatty():
        return None
    return Progress(err)


@contextlib.contextmanager
def during(step: str) -> Iterator[None]:
    """A live line for ``step`` (e.g. "sending to the collector") while the block runs, on a terminal
    only; wiped when the block ends, before anything it has to say is printed."""
    progress = for_terminal()
    if progress is None:
        yield
        return
    progress.step(step)
    try:
        yield
    finally:
        progress.close()
