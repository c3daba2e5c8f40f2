"""Give memory back to the OS between probes, so one check's peak stays low.

A bandwidth test leaves megabytes of freed buffers in the C heap; glibc keeps
them mapped unless asked (malloc_trim(3)). Returning them before the next probe
loads its own libraries (scapy for the LAN probe) keeps the peak RSS of a full
check near the largest single probe instead of their sum.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
from collections.abc import Callable
from functools import cache

log = logging.getLogger("socle.agent.memory")


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        return None
    return trim


def release() -> None:
    """Collect garbage and hand the freed heap back to the OS where the C library allows it."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
