"""Memory is handed back between probes."""

from __future__ import annotations

import sys

import pytest

from agent import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_malloc_trim_is_found_on_linux() -> None:
    assert memory._malloc_trim() is not None


def test_release_frees_a_large_buffer_without_error() -> None:
    blob = [bytearray(1 << 20) for _ in range(32)]
    del blob
    memory.release()
