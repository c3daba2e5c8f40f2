"""What every probe is given and returns.

A probe is a module with a pure ``parse_*`` per tool output, a pure argument
builder that takes the OS as a parameter, and a thin ``run(ctx)`` doing all I/O
through the seams of :class:`ProbeContext`. ``run`` returns an :class:`Outcome`;
it should not raise, and when it does anyway the agent's runner turns the
exception into an ``error`` result.
"""

from __future__ import annotations

import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from config.agent_settings import AgentSettings
from config.compat import UTC
from config.wire import Measurement, ProbeStatus
from probes.encoding import CodePage, decode_output, output_encoding, windows_code_page


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str = ""


class ToolMissing(Exception):
    """The command a probe needs is not installed."""


class CommandRunner(Protocol):
    """Runs a command and returns its result; raises ToolMissing or TimeoutError."""

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult: ...


@dataclass(frozen=True)
class SystemRunner:
    """The real command runner: no shell, the output decoded as the OS writes it (the console's code
    page on Windows, UTF-8 elsewhere: probes/encoding.py). ``spawn`` and ``code_page`` are seams for
    tests, which run this very class with ``os_name="windows"`` and recorded outputs."""

    os_name: str = field(default_factory=lambda: current_os())
    code_page: CodePage = windows_code_page
    spawn: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        try:
            proc = self.spawn(list(argv), capture_output=True, timeout=timeout, check=False)
        except FileNotFoundError:
            raise ToolMissing(f"{argv[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{argv[0]} did not finish within {timeout:g} s") from None
        encoding = output_encoding(self.os_name, self.code_page)
        return CommandResult(proc.returncode, decode_output(proc.stdout or b"", encoding),
                             decode_output(proc.stderr or b"", encoding))


def utc_clock() -> datetime:
    """The real wall clock, in UTC."""
    return datetime.now(UTC)


def current_os() -> str:
    """``linux``, ``windows`` or ``darwin``."""
    return platform.system().lower()


run_command: CommandRunner = SystemRunner()


@dataclass
class ProbeContext:
    """The seams a probe does its I/O through; tests replace any of them."""

    settings: AgentSettings = field(default_factory=AgentSettings)
    collector_url: str | None = None
    http: Any = None  # a requests.Session (or a stand-in with the same get/post)
    run: CommandRunner = run_command
    clock: Callable[[], datetime] = utc_clock
    monotonic: Callable[[], float] = time.perf_counter
    sleep: Callable[[float], None] = time.sleep
    os_name: str = field(default_factory=current_os)
    fs_root: Path = Path("/")
    psutil: Any = None  # the psutil module, or a facade with the same functions
    privileged: bool = False
    options: dict[str, str] = field(default_factory=dict)  # per-run options, e.g. {"server": URL}
    state_dir: Path | None = None  # the agent's state directory, for a probe's own small files
    credential: str | None = field(default=None, repr=False)  # the agent's, for a server that asks
    # A long step's figure so far, e.g. ("download_mbps", 43.2), for a live display; ignored by default.
    progress: Callable[[str, float], None] = field(default=lambda _what, _value: None, repr=False)

    def ps(self) -> Any:
        """The psutil facade (imported on first use)."""
        if self.psutil is None:
            import psutil

            self.psutil = psutil
        return self.psutil


@dataclass(frozen=True)
class Outcome:
    """What a probe's ``run`` returns: a status, a measurement and why."""

    status: ProbeStatus
    measurement: Measurement | None = None
    reason: str | None = None

    @classmethod
    def ok(cls, measurement: Measurement) -> Outcome:
        """A measurement taken in full (``degraded`` when a value is missing is the probe's call)."""
        return cls(ProbeStatus.ok, measurement)

    @classmethod
    def unavailable(cls, reason: str, measurement: Measurement | None = None) -> Outcome:
        """Nothing to measure here, and why."""
        return cls(ProbeStatus.unavailable, measurement, reason)


class ProbeFunction(Protocol):
    """A probe's entry point."""

    def __call__(self, ctx: ProbeContext) -> Outcome: ...


@dataclass(frozen=True)
class ProbeSpec:
    """A probe as the registry knows it."""

    name: str
    run: ProbeFunction
    summary: str
    default_enabled: bool = True
    default_timeout_s: float | None = None
    needs: Sequence[str] = ()  # e.g. ("collector",)
